"""Importers: real help-desk exports turned into a dataset folder of the data contract.

Each module (servicenow, bpic2013, bpic2014, and the help desks' zendesk, salesforce, jsm)
exposes `command`, a click command that
`python -m metrics import NAME ...` runs, and a function doing the work that returns an
`ImportReport`. They write CSV tables plus a `config.toml` recording every choice the
source cannot make (timezone, package, region, account column), so `ingest` reads the
result like any other dataset.
"""

import pkgutil

# Every module here but the shared helpers is an importer, named as the command calls it.
IMPORTERS = tuple(
    sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_") and m.name != "common")
)
