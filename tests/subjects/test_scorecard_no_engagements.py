"""A dataset without a single engagement (a help desk's import) cannot judge delivered service days.

The sample records engagements; the same store with the engagements table emptied must say
"not measured" for service days, training sessions and governance reviews, where the sample
says kept, at risk or missed, and leave every other promise as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from metrics.engine.freshness import latest_instant
from metrics.engine.snapshot import take_snapshot
from metrics.storage.ingest import ensure_store
from metrics.storage.store import connect
from metrics.subjects.scorecard import NO_ENGAGEMENTS, NOT_MEASURED, promise_scorecard

ENGAGEMENT_PROMISES = {"service_days", "private_virtual_training", "governance_strategy"}


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    sample = ensure_store(tmp_path_factory.mktemp("sample") / "sample.duckdb")
    emptied = tmp_path_factory.mktemp("no_engagements") / "store.duckdb"
    shutil.copy(sample, emptied)
    writable = connect(emptied)
    writable.execute("delete from engagements")
    writable.close()
    return sample, emptied


def scorecard(path: Path):
    con = connect(path, read_only=True)
    snap = take_snapshot(con, latest_instant(con))
    return promise_scorecard(snap)


def test_without_engagements_the_engagement_promises_are_not_measured(stores: tuple[Path, Path]) -> None:
    with_them, without = scorecard(stores[0]), scorecard(stores[1])
    judged = with_them[with_them["feature"].isin(ENGAGEMENT_PROMISES)]
    assert (judged["status"] != NOT_MEASURED).any(), "the sample should judge them: the test would prove nothing"
    rows = without[without["feature"].isin(ENGAGEMENT_PROMISES)]
    assert len(rows) == len(judged)
    assert set(rows["status"]) == {NOT_MEASURED}
    assert set(rows["evidence"]) == {NO_ENGAGEMENTS}
    others = ["account_id", "feature", "status", "evidence"]
    keep = ~with_them["feature"].isin(ENGAGEMENT_PROMISES)
    assert with_them.loc[keep, others].reset_index(drop=True).equals(
        without.loc[~without["feature"].isin(ENGAGEMENT_PROMISES), others].reset_index(drop=True))
