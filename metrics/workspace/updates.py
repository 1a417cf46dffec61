"""Weekly update drafts and the updates sent, kept in a SQLite workspace beside the store.

The workspace of a store `support.duckdb` is `support.workspace.sqlite` in the same folder
(`workspace_path`): one per store, so what is written for one dataset never shows for
another, and a load (which publishes a new store file by rename) never touches it.

Every call opens its own connection (Streamlit serves each session on its own thread; a
sqlite3 connection is not shared across threads), in WAL mode so readers never wait for a
writer. Two sessions saving the same draft: each save names the version it was editing,
and a save whose version is no longer the stored one is refused (`StaleDraftError`, which
carries the stored draft), so nobody's text is overwritten unseen. A read never creates
the file: a store nobody wrote for has no workspace, and reads give nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metrics import sqlfiles

SCHEMA_SQL = sqlfiles.read(__file__, "workspace_schema.sql")
WORKSPACE_SUFFIX = ".workspace.sqlite"
MAX_TEXT = 200_000  # characters in one update: far above any real one, a bound on what a form can store
BUSY_TIMEOUT_SECONDS = 10.0  # a writer waits this long for another session's write
_PREPARING = threading.Lock()  # one thread of this process at a time switches a file to WAL


def workspace_path(store: Path | str) -> Path:
    """The workspace beside a store: ``data/support.duckdb`` -> ``data/support.workspace.sqlite``."""
    path = Path(store)
    return path.with_name(path.name.removesuffix(".duckdb") + WORKSPACE_SUFFIX)


def _instant_text(at: dt.datetime) -> str:
    """An aware instant as sortable UTC text, e.g. 2026-11-24T06:30:00.000000Z (naive is refused)."""
    if at.tzinfo is None:
        raise ValueError("workspace instants must be timezone-aware")
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _instant(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _checked_week(week_start: dt.date) -> str:
    if isinstance(week_start, dt.datetime) or not isinstance(week_start, dt.date) or week_start.weekday() != 0:
        raise ValueError(f"a week is given by its Monday, got {week_start!r}")
    return week_start.isoformat()


def _checked_text(text: str) -> str:
    if not isinstance(text, str):
        raise ValueError("an update's text must be a string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"an update holds at most {MAX_TEXT:,} characters, this one {len(text):,}")
    return text


@dataclass(frozen=True)
class Draft:
    """A saved draft: the text, its version (1 on the first save) and who saved it when."""

    account_id: str
    week_start: dt.date
    text: str
    version: int
    updated_at: dt.datetime  # UTC
    updated_by: str


@dataclass(frozen=True)
class SentUpdate:
    """An update marked sent: exactly the text sent, by whom, when (UTC)."""

    sent_id: int
    account_id: str
    week_start: dt.date
    text: str
    sent_at: dt.datetime
    sent_by: str


class StaleDraftError(Exception):
    """A save named a version that is no longer the stored one: someone saved in between."""

    def __init__(self, current: Draft | None) -> None:
        self.current = current
        who = f"by {current.updated_by} at {current.updated_at:%Y-%m-%d %H:%M} UTC" if current else "elsewhere"
        super().__init__(f"This draft was changed {who} since you opened it; your text was not saved.")


SENT_COLUMNS = ["sent_id", "account_id", "week_start", "sent_at", "sent_by", "text"]


class Workspace:
    """The drafts and sent updates of one store's workspace file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, store: Path | str) -> Workspace:
        """The workspace of the store at `store` (see `workspace_path`)."""
        return cls(workspace_path(store))

    def __repr__(self) -> str:
        return f"Workspace({self.path.name!r})"

    # ------------------------------------------------------------ connections

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection in one immediate transaction (the write lock is taken at its start)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prepare()
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
        finally:
            con.close()

    def _prepare(self) -> None:
        """The file in WAL mode with its tables, created if need be.

        Switching to WAL needs the file to itself and SQLite does not wait for that (its busy
        timeout does not apply), so eight sessions saving into a new workspace at once met
        'database is locked'. The threads of this process take turns; another process is
        waited for here, as the busy timeout would.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        with _PREPARING:
            while True:
                con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
                try:
                    if con.execute("pragma journal_mode").fetchone()[0] != "wal":
                        con.execute("pragma journal_mode = wal")
                    con.executescript(SCHEMA_SQL + ";")
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise
                finally:
                    con.close()
                time.sleep(0.05)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A read connection, or None when no workspace file exists yet (nothing was written)."""
        if not self.path.exists():
            yield None
            return
        con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
            yield con if {"drafts", "sent_updates"} <= tables else None
        finally:
            con.close()

    # ------------------------------------------------------------ drafts

    def draft(self, account_id: str, week_start: dt.date) -> Draft | None:
        """The saved draft of an account's week, None when none was saved."""
        week = _checked_week(week_start)
        with self._reading() as con:
            if con is None:
                return None
            return _draft_of(con, account_id, week)

    def save_draft(
        self, account_id: str, week_start: dt.date, text: str, by: str, at: dt.datetime, base_version: int
    ) -> Draft:
        """Store `text` as the draft, if the stored draft is still the version the editor started from.

        `base_version` is the version the text was edited from (0: there was no draft yet).
        Raises StaleDraftError (nothing is written) when another save came in between.
        """
        week = _checked_week(week_start)
        body = _checked_text(text)
        stamp = _instant_text(at)
        with self._writing() as con:
            current = _draft_of(con, account_id, week)
            if (current.version if current else 0) != base_version:
                raise StaleDraftError(current)
            version = base_version + 1
            con.execute(
                "insert into drafts (account_id, week_start, body, version, updated_at, updated_by) "
                "values (?, ?, ?, ?, ?, ?) on conflict (account_id, week_start) do update set "
                "body = excluded.body, version = excluded.version, updated_at = excluded.updated_at, "
                "updated_by = excluded.updated_by",
                (account_id, week, body, version, stamp, by),
            )
        return Draft(account_id, week_start, body, version, _instant(stamp), by)

    # ------------------------------------------------------------ sent updates

    def mark_sent(self, account_id: str, week_start: dt.date, text: str, by: str, at: dt.datetime) -> SentUpdate:
        """Record that `text` was sent for the account's week by `by` at `at` (every send is kept)."""
        week = _checked_week(week_start)
        body = _checked_text(text)
        stamp = _instant_text(at)
        with self._writing() as con:
            cursor = con.execute(
                "insert into sent_updates (account_id, week_start, body, sent_at, sent_by) values (?, ?, ?, ?, ?)",
                (account_id, week, body, stamp, by),
            )
            sent_id = int(cursor.lastrowid or 0)
        return SentUpdate(sent_id, account_id, week_start, body, _instant(stamp), by)

    def sent_updates(self, account_ids: Iterable[str] | None = None) -> list[SentUpdate]:
        """The updates sent (of some accounts only, when given), newest week first, then newest send first."""
        wanted = None if account_ids is None else sorted(set(account_ids))
        with self._reading() as con:
            if con is None or wanted == []:
                return []
            sql = "select sent_id, account_id, week_start, body, sent_at, sent_by from sent_updates"
            params: tuple[object, ...] = ()
            if wanted is not None:
                sql += f" where account_id in ({', '.join('?' * len(wanted))})"
                params = tuple(wanted)
            rows = con.execute(sql + " order by week_start desc, sent_at desc, sent_id desc", params).fetchall()
        return [
            SentUpdate(int(i), str(a), dt.date.fromisoformat(w), str(b), _instant(s), str(by))
            for i, a, w, b, s, by in rows
        ]

    def sent_frame(self, account_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """`sent_updates` as a frame: sent_id, account_id, week_start (date), sent_at (UTC), sent_by, text."""
        sent = self.sent_updates(account_ids)
        return pd.DataFrame(
            {
                "sent_id": pd.Series([s.sent_id for s in sent], dtype="int64"),
                "account_id": pd.Series([s.account_id for s in sent], dtype=object),
                "week_start": pd.Series([s.week_start for s in sent], dtype=object),
                "sent_at": pd.Series(pd.to_datetime([s.sent_at for s in sent], utc=True), dtype="datetime64[us, UTC]"),
                "sent_by": pd.Series([s.sent_by for s in sent], dtype=object),
                "text": pd.Series([s.text for s in sent], dtype=object),
            },
            columns=SENT_COLUMNS,
        )


def _draft_of(con: sqlite3.Connection, account_id: str, week: str) -> Draft | None:
    row = con.execute(
        "select body, version, updated_at, updated_by from drafts where account_id = ? and week_start = ?",
        (account_id, week),
    ).fetchone()
    if row is None:
        return None
    body, version, updated_at, updated_by = row
    week_start = dt.date.fromisoformat(week)
    return Draft(account_id, week_start, str(body), int(version), _instant(updated_at), str(updated_by))


def backup_workspace(source: Path, target: Path) -> bool:
    """Copy a workspace consistently (SQLite's online backup) to `target`; False when there is none yet."""
    if not source.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return True
