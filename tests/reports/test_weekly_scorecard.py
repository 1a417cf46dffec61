"""The weekly update's promise scorecard: the term to the week's end, with the workspace's sent updates.

The dataset is tests/subjects/test_scorecard.py's. Week 2026-W47 runs Mon Nov 16 .. Sun Nov 22
(Denver); A1's Gold term started 2026-01-01, so the scorecard covers Jan 1 .. Nov 22 as of the
week's end. A1's five October cases: 4 of 5 met = 80 %, Gold's configured target: kept.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from metrics.reports.weekly import weekly_update
from metrics.reports.weekly_render import store_workspace, to_html, to_markdown, weekly_markdown
from metrics.storage.ingest import ingest
from metrics.workspace import Workspace
from tests.subjects.test_scorecard import _files


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("weekly_scorecard")
    for name, text in _files().items():
        (folder / name).write_text(textwrap.dedent(text).strip() + "\n")
    path = folder / "store.duckdb"
    ingest(folder, path, strict=True)
    return path


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def test_the_update_carries_the_terms_scorecard(con):
    """Response targets kept (4 / 5 = 80 %); the section lists every promise, unmeasured ones with why."""
    update = weekly_update(con, "A1", "2026-W47")
    assert update.scorecard is not None
    card = update.scorecard.set_index("feature")
    assert (card.loc["response_targets", "status"], card.loc["response_targets", "measured"]) == ("kept", "80.0 %")
    assert card.loc["weekly_updates", "status"] == "not measured"  # no workspace passed
    text = to_markdown(update)
    assert "## Promises of the package" in text
    assert "| response targets | kept | 80.0 % | 80.0 % met | 4 of 5 response targets met (80.0 %) against 80.0 %. |" in text
    assert "| senior advisor cases | not measured |" in text
    assert "<h2>Promises of the package</h2>" in to_html(update)


def test_the_dashboards_update_reads_the_workspace_beside_the_store(con, db):
    """Weeks owed Jan 1 .. Nov 22 ended by Nov 23 00:00 Denver: Mondays Dec 29 2025 .. Nov 16 = 47 weeks.

    The week of Dec 29 2025 ends Sun Jan 4, inside the term. Only the week of Nov 9 is sent (on
    Mon Nov 16, on time): 1 of 47, and earlier weeks were never sent: missed.
    """
    assert store_workspace(con) is None  # nothing written yet: not measured rather than "none sent"
    workspace = Workspace.beside(db)
    workspace.mark_sent("A1", dt.date(2026, 11, 9), "update", "Ann", dt.datetime(2026, 11, 16, 16, tzinfo=dt.UTC))
    try:
        [(_, _, text)] = weekly_markdown(con, ("A1",), "2026-W47")
        assert "| weekly updates | missed | 1 of 47 sent | one a week |" in text
    finally:
        workspace.path.unlink()
        for extra in workspace.path.parent.glob(workspace.path.name + "-*"):
            extra.unlink()
