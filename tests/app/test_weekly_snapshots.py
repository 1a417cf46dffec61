"""The Weekly update opens on snapshots taken in the background after the first page.

Its default week is the last complete one at the data's latest instant, compared with the
week before: in the sample (data to 2026-11-27, weeks cut in America/Denver) 2026-W47, which
ends Mon 23 Nov 00:00 MST = 07:00Z, and 2026-W46, which ends Mon 16 Nov 07:00Z. Both are
taken once the first page is drawn; opening the page then runs no engine of its own.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from metrics.engine.snapshot import PER_CASE_TABLES
from metrics.storage.store import DB_ENV, PROJECT_ROOT
from metrics.subjects.escalations import ESCALATION_EVENTS, ESCALATION_FIRSTS
from metrics.subjects.governance import PAUSED_CUBE
from ui import navigation, state

WEEK_ENDS = {dt.datetime(2026, 11, 23, 7, tzinfo=dt.UTC), dt.datetime(2026, 11, 16, 7, tzinfo=dt.UTC)}


@pytest.fixture
def taken(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, Any]]]:
    """Every snapshot the app takes (thread, as-of), on a copy of the sample no other test's caches hold."""
    db = tmp_path / "support.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv(DB_ENV, str(db))
    seen: list[tuple[str, Any]] = []
    take = state.take_snapshot

    def counted(*args: Any, **kwargs: Any) -> Any:
        snapshot = take(*args, **kwargs)
        seen.append((threading.current_thread().name, snapshot.as_of))
        return snapshot

    monkeypatch.setattr(state, "take_snapshot", counted)
    yield seen


def background_done() -> None:
    for thread in threading.enumerate():
        if thread.name == state.WEEKLY_THREAD:
            thread.join(timeout=120)


def test_the_weekly_update_opens_on_the_week_ends_taken_after_the_first_page(taken: list[tuple[str, Any]]) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    assert not at.exception
    background_done()
    assert {when for thread, when in taken if thread == state.WEEKLY_THREAD} == WEEK_ENDS
    assert len(taken) == 3  # the Overview's (the latest instant) and the two week ends, each once
    taken.clear()

    at.switch_page(navigation.BY_NAME["weekly_update"].script)
    at.run()
    assert not at.exception
    assert at.selectbox(key="weekly_week").value == "2026-W47"
    assert taken == []  # no engine run of its own: both weeks came from the background
    text = next(t for t in at.text_area if t.key and t.key.startswith("weekly_text_")).value
    assert "2026-W47" in text and "2026-W46" in text  # the update and its comparison with the week before


def test_the_background_starts_once_per_store_version(taken: list[tuple[str, Any]]) -> None:
    for _ in range(2):
        at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
        at.run()
        assert not at.exception
        background_done()
    assert sorted(when for thread, when in taken if thread == state.WEEKLY_THREAD) == sorted(WEEK_ENDS)


def test_a_failed_background_take_is_logged_and_the_page_takes_its_own(
    taken: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = state._snapshot_at

    def broken(store: str, moment: dt.datetime) -> Any:
        if threading.current_thread().name == state.WEEKLY_THREAD:
            raise OSError("the store was replaced")
        return real(store, moment)

    monkeypatch.setattr(state, "_snapshot_at", broken)
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    background_done()
    assert "not taken in the background" in caplog.text
    at.switch_page(navigation.BY_NAME["weekly_update"].script)
    at.run()
    assert not at.exception
    assert {when for _, when in taken} >= WEEK_ENDS  # taken when the page asked for them


@pytest.fixture
def kept(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every snapshot the app takes, on a copy of the sample no other test's caches hold."""
    db = tmp_path / "support.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv(DB_ENV, str(db))
    snapshots: list[Any] = []
    take = state.take_snapshot

    def keep(*args: Any, **kwargs: Any) -> Any:
        snapshots.append(take(*args, **kwargs))
        return snapshots[-1]

    monkeypatch.setattr(state, "take_snapshot", keep)
    return snapshots


def built_by(page: str, snapshots: list[Any]) -> dict[dt.datetime, set[str]]:
    """The derived tables of each snapshot once `page` is drawn and the background threads are done."""
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page(navigation.BY_NAME[page].script)
    at.run()
    assert not at.exception
    background_done()
    state._PER_CASE_BUILDER.submit(lambda: None).result(timeout=120)  # one worker: every build before it is done
    return {s.as_of: {name for name, _ in s._derived.items()} for s in snapshots}


def test_a_page_builds_the_per_case_tables_it_reads_and_no_others(kept: list[Any]) -> None:
    """Escalations reads the escalation events; nothing builds the Governance page's follow-up lives meanwhile.

    At a new as-of every per-case table is a build over the re-run cases: built for a page that
    does not read it, it only took the cores from the page's own. The week ends taken for the
    Weekly update serve accounts (tables of their own): none is built for them either.
    """
    built = built_by("escalations", kept)
    (latest,) = set(built) - WEEK_ENDS  # the page's: the data's latest instant
    assert set(built) == WEEK_ENDS | {latest}
    assert {ESCALATION_EVENTS.name, ESCALATION_FIRSTS.name} <= built[latest]
    assert PAUSED_CUBE.name not in built[latest]  # read by Governance's paused share alone
    assert all(not built[moment] for moment in WEEK_ENDS), built


def test_governance_has_every_per_case_table_built_on_the_side(kept: list[Any]) -> None:
    """The page reads nearly every per-case table: the builder thread makes all of them, for its moment only."""
    built = built_by("governance", kept)
    (latest,) = set(built) - WEEK_ENDS
    assert built[latest] >= set(PER_CASE_TABLES), f"not built: {set(PER_CASE_TABLES) - built[latest]}"
    assert all(not built[moment] for moment in WEEK_ENDS), built
