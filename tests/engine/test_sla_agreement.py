"""The SQL engine agrees exactly with the slow pure-Python reference on random adversarial cases.

`tests/random_cases.py` draws 2,000 cases per run (DST weeks in Denver, London and Sydney,
a lunch-break calendar, a 00:00-24:00 day, holidays, severity changes both ways, pauses,
reopens, same-instant events, suspensions, package gaps, versions of packages and accounts'
overrides from a date, responses on the deadline and one second after). They are written as a CSV dataset, loaded with --strict, and every column
of every obligation is compared at several as-of cuts. The reference (`tests/reference_sla.py`)
walks intervals one by one and shares no code with the engine.

Set SLA_AGREEMENT_SEED to explore other draws; a failure prints the seed to reproduce it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest

from metrics.engine.obligations import EXPORT_COLUMNS, compute_obligations
from metrics.storage.ingest import ingest
from tests.random_cases import AS_OF_INSTANTS, make_random_cases, write_dataset
from tests.reference_sla import load_default_config, merge_config, reference_obligations

SEED = int(os.environ.get("SLA_AGREEMENT_SEED", "20261130"))
CASES = 2000


def normalise(value: object) -> object:
    """One comparable form per value: UTC pandas Timestamps, ints, None for every kind of missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[arg-type]
        return None
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).tz_convert("UTC")
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return int(value)
    return value


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory):
    config_override, cases, tables = make_random_cases(SEED, CASES)
    folder: Path = tmp_path_factory.mktemp("agreement")
    write_dataset(folder, config_override, tables)
    db = folder / "store.duckdb"
    report = ingest(folder, db, strict=True)
    assert report.rows_stored["cases"] == CASES
    config = merge_config(load_default_config(), config_override)
    con = duckdb.connect(str(db), read_only=True)
    yield con, config, cases
    con.close()


@pytest.mark.parametrize("as_of", AS_OF_INSTANTS, ids=lambda t: t.strftime("%Y%m%dT%H%M"))
def test_engine_matches_reference_exactly(drawn, as_of: dt.datetime):
    """Every obligation, every export column, identical between the SQL engine and the reference."""
    con, config, cases = drawn
    engine = {
        (row["case_id"], row["seq"]): {k: normalise(row[k]) for k in EXPORT_COLUMNS}
        for row in compute_obligations(con, as_of).to_dict("records")
    }
    reference = {
        (row["case_id"], row["seq"]): {k: normalise(row[k]) for k in EXPORT_COLUMNS}
        for case in cases
        for row in reference_obligations(case, config, as_of)
    }
    assert len(reference) > CASES / 2, "the draw produced too few obligations to be a test"
    missing = sorted(set(reference) - set(engine))[:5]
    extra = sorted(set(engine) - set(reference))[:5]
    differing = []
    for key in sorted(set(engine) & set(reference)):
        diff = {k: (engine[key][k], reference[key][k]) for k in EXPORT_COLUMNS if engine[key][k] != reference[key][k]}
        if diff:
            differing.append((key, diff))
    assert not (missing or extra or differing), (
        f"seed {SEED}, as of {as_of:%Y-%m-%dT%H:%M:%SZ}: {len(differing)} obligations differ "
        f"(engine, reference): {differing[:8]}; only in the reference: {missing}; only in the engine: {extra}"
    )


def test_the_draw_covers_every_status(drawn):
    """The comparison is only as good as the draw: all six statuses occur at the final cut."""
    con, _, _ = drawn
    statuses = set(compute_obligations(con, AS_OF_INSTANTS[-1])["status"])
    assert statuses == {"met", "breached", "pending", "cancelled", "untargeted", "suspended"}


def test_the_draw_covers_terms_that_change_over_time(drawn):
    """Versions and overrides are in the comparison: cases on both sides of each `from`, and some
    whose local opening date lies before a `from` while their UTC date is on or after it (or the reverse)."""
    _, config, cases = drawn
    sides: Counter[tuple[str, bool]] = Counter()
    local_differs = 0
    for case in cases:
        zone = ZoneInfo(config["calendars"][case.region]["timezone"])
        local, utc = case.opened_at.astimezone(zone).date(), case.opened_at.date()
        packages = {p for p, start, end in case.subscriptions if start <= local <= end}
        changes = [(f"{p} {v['from']}", v["from"]) for p in packages for v in config["packages"][p].get("versions", [])]
        changes += [
            (f"{o['account_id']} {o['from']}", o["from"])
            for o in config["overrides"] if o["account_id"] == case.account_id and "from" in o
        ]
        for name, since in changes:
            day = dt.date.fromisoformat(since)
            sides[(name, local >= day)] += 1
            local_differs += (local >= day) != (utc >= day)
    named = {name for name, _ in sides}
    assert len(named) >= 6 and all(sides[(name, True)] and sides[(name, False)] for name in named), sides
    assert local_differs >= 5
