"""Importers: real help-desk exports turned into a dataset folder of the data contract.

Each module (servicenow, bpic2013, bpic2014) exposes `command`, a click command that
`python -m metrics import NAME ...` runs, and a function doing the work that returns an
`ImportReport`. They write CSV tables plus a `config.toml` recording every choice the
source cannot make (timezone, package, region, account column), so `ingest` reads the
result like any other dataset.
"""

IMPORTERS = ("servicenow", "bpic2013", "bpic2014")
