"""The package catalogue's changes over time, laid out as a table people read (the Data page).

`config.py` validates `[[packages.NAME.versions]]` and `[[overrides]]` and turns them into the
spans the engine joins; this module only lists them, one row per change, as written.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from metrics.storage.config import Config, TermsChange

TERMS_COLUMNS = ["package", "account", "from", "changes"]
EVERY_ACCOUNT = "every account"
ANY_PACKAGE = "the account's package"
FROM_THE_START = "the start"


def format_keys(keys: dict[str, object]) -> str:
    """The keys a change writes, TOML-like: "initial_response_hours { 1 = 2 }; service_days = 5"."""

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(item)}" for k, item in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(item) for item in v) + "]"
        if isinstance(v, str):
            return f'"{v}"'
        return str(v)

    return "; ".join(f"{key} {value(v)}" if isinstance(v, dict) else f"{key} = {value(v)}" for key, v in keys.items())


def _row(change: TermsChange) -> dict[str, object]:
    return {
        "package": change.package or ANY_PACKAGE,
        "account": change.account_id or EVERY_ACCOUNT,
        "from": change.valid_from.isoformat() if change.valid_from else FROM_THE_START,
        "changes": format_keys(change.keys),
    }


def terms_changes(config: Config) -> pd.DataFrame:
    """Every package's versions (catalogue order, then date), then the accounts' overrides (by account, then date).

    Columns: package ("the account's package" on an override, which applies to whichever
    package the account holds), account ("every account" on a version), from (YYYY-MM-DD or
    "the start"), changes (the keys as written). Empty when the terms never change.
    """
    rows = [_row(v) for name in config.packages for v in config.versions.get(name, ())]
    overrides = sorted(config.overrides, key=lambda o: (str(o.account_id), o.valid_from or dt.date.min))
    rows += [_row(o) for o in overrides]
    return pd.DataFrame(rows, columns=TERMS_COLUMNS)
