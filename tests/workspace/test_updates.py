"""The workspace: drafts and sent updates survive a new connection; a stale save is refused."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from metrics.workspace import StaleDraftError, Workspace, backup_workspace, workspace_path

WEEK = dt.date(2026, 11, 16)  # a Monday
AT = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
HOSTILE = "<script>alert('x')</script>\n'; drop table drafts; --\x00 ]]"


def test_workspace_sits_beside_its_store():
    """support.duckdb -> support.workspace.sqlite, in the same folder; one per store."""
    assert workspace_path(Path("data/support.duckdb")) == Path("data/support.workspace.sqlite")
    assert workspace_path(Path("stores/bpic-20261205T101500123456Z.duckdb")).name == (
        "bpic-20261205T101500123456Z.workspace.sqlite"
    )


def test_reads_create_nothing(tmp_path):
    """A store nobody wrote for has no workspace file, and reading it gives nothing."""
    ws = Workspace(tmp_path / "none.workspace.sqlite")
    assert ws.draft("A1", WEEK) is None and ws.sent_updates() == [] and ws.sent_frame().empty
    assert not ws.path.exists()


def test_a_draft_and_a_send_survive_a_new_workspace_object(tmp_path):
    """Saved text comes back verbatim (hostile text included) through a fresh object and connection."""
    path = tmp_path / "s.workspace.sqlite"
    saved = Workspace(path).save_draft("A1", WEEK, HOSTILE, "ann@vendor.example", AT, base_version=0)
    assert saved.version == 1
    again = Workspace(path).draft("A1", WEEK)
    assert again == saved and again is not None and again.text == HOSTILE
    assert Workspace(path).draft("A1", WEEK + dt.timedelta(days=7)) is None  # another week
    sent = Workspace(path).mark_sent("A1", WEEK, HOSTILE, "ann@vendor.example", AT + dt.timedelta(hours=1))
    history = Workspace(path).sent_updates(["A1"])
    assert history == [sent] and history[0].sent_at == dt.datetime(2026, 11, 23, 19, 0, tzinfo=dt.UTC)
    assert Workspace(path).sent_updates(["A2"]) == []
    with sqlite3.connect(path) as con:  # WAL: readers never wait for a writer
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_a_stale_save_is_refused_and_keeps_the_other_text(tmp_path):
    """Two editors open version 1; the first save wins (version 2), the second is refused with the stored draft."""
    ws = Workspace(tmp_path / "s.workspace.sqlite")
    ws.save_draft("A1", WEEK, "v1", "ann", AT, base_version=0)
    ws.save_draft("A1", WEEK, "from session one", "ann", AT + dt.timedelta(minutes=1), base_version=1)
    with pytest.raises(StaleDraftError, match="changed by ann at 2026-11-23 18:01 UTC") as refused:
        ws.save_draft("A1", WEEK, "from session two", "bob", AT + dt.timedelta(minutes=2), base_version=1)
    assert refused.value.current is not None and refused.value.current.text == "from session one"
    stored = ws.draft("A1", WEEK)
    assert stored is not None and (stored.text, stored.version, stored.updated_by) == ("from session one", 2, "ann")
    with pytest.raises(StaleDraftError):  # "no draft yet" is stale once one exists
        ws.save_draft("A1", WEEK, "new", "bob", AT, base_version=0)


def test_concurrent_saves_of_one_version_let_exactly_one_through(tmp_path):
    """Eight threads save from version 0 at once: one succeeds, seven are refused, the file stays whole."""
    ws = Workspace(tmp_path / "s.workspace.sqlite")
    results: list[str] = []
    barrier = threading.Barrier(8)

    def save(i: int) -> None:
        barrier.wait()
        try:
            Workspace(ws.path).save_draft("A1", WEEK, f"text {i}", f"user{i}", AT, base_version=0)
            results.append("saved")
        except StaleDraftError:
            results.append("stale")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["saved"] + ["stale"] * 7
    draft = ws.draft("A1", WEEK)
    assert draft is not None and draft.version == 1 and draft.text == f"text {draft.updated_by[4:]}"
    with sqlite3.connect(ws.path) as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_bad_input_is_refused(tmp_path):
    """A week not given by its Monday, a naive instant, an oversized text: ValueError, nothing written."""
    ws = Workspace(tmp_path / "s.workspace.sqlite")
    with pytest.raises(ValueError, match="Monday"):
        ws.mark_sent("A1", dt.date(2026, 11, 17), "x", "ann", AT)
    with pytest.raises(ValueError, match="timezone-aware"):
        ws.mark_sent("A1", WEEK, "x", "ann", dt.datetime(2026, 11, 23, 18, 0))
    with pytest.raises(ValueError, match="at most"):
        ws.save_draft("A1", WEEK, "x" * 200_001, "ann", AT, base_version=0)
    assert ws.sent_updates() == [] and ws.draft("A1", WEEK) is None


def test_backup_copies_a_consistent_workspace(tmp_path):
    """The online backup holds every row; a workspace never written is reported as absent."""
    ws = Workspace(tmp_path / "s.workspace.sqlite")
    ws.mark_sent("A1", WEEK, "sent text", "ann", AT)
    target = tmp_path / "backup" / "s.workspace.sqlite"
    assert backup_workspace(ws.path, target)
    assert [s.text for s in Workspace(target).sent_updates()] == ["sent text"]
    assert not backup_workspace(tmp_path / "missing.workspace.sqlite", tmp_path / "b2.sqlite")
