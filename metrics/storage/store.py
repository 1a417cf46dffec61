"""The DuckDB store: one table per contract table, plus quarantine, load log and settings.

Instants are TIMESTAMPTZ in UTC, so any DuckDB client can query the file directly.
A published store is never written in place: a load builds the next version beside it
(`support.duckdb.next`) and publishes it with one atomic rename, so readers (a running
dashboard, a CLI export) never see a half-written store and never hold a lock a load
needs. One load at a time per store: the others wait on a lock file, bounded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from metrics.errors import LoadError
from metrics.storage.config import Config, config_from_json, load_config
from metrics.storage.contract import STORED_TYPE, TABLES

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = PROJECT_ROOT / "data" / "support.duckdb"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DB_ENV = "SUPPORT_ANALYTICS_DB"  # where the dashboard's store lives, if not data/support.duckdb
# DuckDB's memory cap (it spills to disk beyond it); its own default is 80 % of the machine.
MEMORY_ENV = "SUPPORT_ANALYTICS_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"
LOCK_TIMEOUT_ENV = "SUPPORT_ANALYTICS_LOCK_TIMEOUT"  # seconds a load waits for another load of the same store
DEFAULT_LOCK_TIMEOUT = 300.0
STORE_SUFFIX = ".duckdb"
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def dashboard_db() -> Path:
    """The store the dashboard serves: $SUPPORT_ANALYTICS_DB or data/support.duckdb."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)

_SERVICE_DDL = """
create table if not exists quarantine (
    dataset varchar,      -- folder the file was loaded from
    file varchar,         -- file name, e.g. responses.csv
    table_name varchar,
    line bigint,          -- CSV: file line (header = 1); JSONL: line; Parquet: row from 1
    rule varchar,         -- short reason code, counted in reports
    reason varchar,       -- the full sentence: column, what was expected, what was found
    record json           -- the row as read
);
create table if not exists loads (
    loaded_at timestamptz,
    dataset varchar,
    files varchar,
    rows_read bigint,
    rows_stored bigint,
    rows_quarantined bigint,
    fingerprint varchar,  -- content hash of the files: equal means a reload would change nothing
    mode varchar          -- 'mirror' (the store is exactly the folder) or 'append' (keyed upsert)
);
create table if not exists settings (key varchar primary key, value varchar);
"""


def connect(db_path: Path | str = DEFAULT_DB, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store with UTC as the session timezone (stored instants are UTC) and a memory cap."""
    path = Path(db_path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = ?", [os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT])
    return con


def data_table_ddl() -> str:
    """CREATE statements for the contract tables (extra input columns kept as JSON)."""
    statements = []
    for table in TABLES:
        cols = [f'"{c.name}" {STORED_TYPE[c.kind]}' for c in table.columns]
        if table.keep_line:
            cols.append("source_line bigint")  # file order decides same-instant ties
        cols.append("extra json")
        statements.append(f"create table if not exists {table.name} (\n    " + ",\n    ".join(cols) + "\n);")
    return "\n".join(statements)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(data_table_ddl() + _SERVICE_DDL)
    con.execute("alter table loads add column if not exists fingerprint varchar")  # stores made before it
    con.execute("alter table loads add column if not exists mode varchar")


def stored_config(con: duckdb.DuckDBPyConnection) -> Config:
    """The configuration the store's data was last loaded with (built-in defaults if none).

    Read on a cursor of its own: the dashboard shares one connection between sessions, and a
    DuckDB connection busy with another thread's call refuses a second one.
    """
    cur = con.cursor()
    try:
        rows = cur.execute("select value from settings where key = 'config'").fetchall()
    finally:
        cur.close()
    return config_from_json(rows[0][0]) if rows else load_config(None)


def check_store_path(db_path: Path | str) -> Path:
    """A store is a `.duckdb` file: refuse anything else before it is read or replaced."""
    path = Path(db_path)
    if path.suffix != STORE_SUFFIX:
        raise LoadError(f"{path.name}: a store is a DuckDB file whose name ends in {STORE_SUFFIX}")
    if path.exists() and not is_duckdb_file(path):
        raise LoadError(f"{path.name}: exists but is not a DuckDB store; choose another file name")
    return path


def is_duckdb_file(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False


def next_path(db_path: Path) -> Path:
    """Where the next version of a store is built before it is published."""
    return db_path.with_name(db_path.name + ".next")


_COMPANIONS = ("", ".wal", ".next", ".next.wal", ".lock")  # what a store and its loads leave beside it


def remove_store(path: Path) -> None:
    """Delete a store with its write-ahead log, a half-built next version and its lock file."""
    for suffix in _COMPANIONS:
        try:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        except OSError:  # a platform that forbids deleting an open file: the next attempt tries again
            continue


def publish(built: Path, db_path: Path) -> None:
    """Make `built` (closed, checkpointed) the store at `db_path` in one atomic rename.

    Readers that have the old version open keep reading it until they reopen the path.
    A stale write-ahead log of the old version must not be replayed onto the new one.
    """
    db_path.with_name(db_path.name + ".wal").unlink(missing_ok=True)
    os.replace(built, db_path)


def connect_published(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the version published at `db_path` right now.

    DuckDB keeps one database instance per file path in a process, so a long-running
    reader (the dashboard) that still holds the previous version would be handed that
    version again. Opening the current file through a hard link of its own gives it an
    instance of its own; the link is removed at once (the open file stays readable).
    """
    path = Path(db_path)
    link = path.with_name(f".{path.name}.{os.getpid()}-{next(_LINKS)}.reading")
    try:
        os.link(path, link)
    except OSError:  # no hard links here (another filesystem, no write access): the path itself
        return connect(path, read_only=True)
    try:
        return connect(link, read_only=True)
    finally:
        link.unlink(missing_ok=True)


_LINKS = itertools.count()


def store_version(db_path: Path | str) -> str:
    """Identifies the published version of a store: changes exactly when a load publishes."""
    try:
        st = os.stat(db_path)
    except FileNotFoundError:
        return ""
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


@contextlib.contextmanager
def load_lock(db_path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the store's load lock: a second load of the same store waits, at most `timeout` s."""
    wait = float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT) if timeout is None else timeout
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = db_path.with_name(db_path.name + ".lock")
    with lock_file.open("a") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LoadError(
                        f"{db_path.name}: another load of this store is still running after {wait:.0f} s; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per contract table and in quarantine, in the contract's order (quarantine last)."""
    cur = con.cursor()
    try:
        names = [t.name for t in TABLES] + ["quarantine"]
        return {n: int(cur.execute(f"select count(*) from {n}").fetchall()[0][0]) for n in names}
    finally:
        cur.close()


def latest_load(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """When the store's data was last loaded (None for a store without loads)."""
    cur = con.cursor()
    try:
        value = cur.execute("select max(loaded_at) from loads").fetchall()[0][0]
    finally:
        cur.close()
    return value.astimezone(dt.UTC) if value is not None else None


@dataclass(frozen=True)
class TableRows:
    """How many rows one table of the store holds."""

    table: str
    rows: int


@dataclass(frozen=True, eq=False)  # eq=False: DataFrames compare element-wise, so a summary is not hashed
class StoreSummary:
    """What a store holds, as the Data page shows it: rows per table, the quarantine, the loads.

    The frames are the caller's own (built per call); columns:
    `quarantine` file, line, rule, reason, record (the row as read, JSON text), by file and line;
    `quarantine_by_rule` file, rule, rows, by file and rule;
    `loads` loaded_at (UTC), dataset (as loaded: a folder path or "upload"), files, rows_read,
    rows_stored, rows_quarantined, newest first.
    """

    tables: tuple[TableRows, ...]  # the contract tables in contract order, then "quarantine"
    quarantine: pd.DataFrame
    quarantine_by_rule: pd.DataFrame
    loads: pd.DataFrame

    def rows(self, table: str) -> int:
        """Rows of one table (or "quarantine"); KeyError for a table the store does not have."""
        for entry in self.tables:
            if entry.table == table:
                return entry.rows
        raise KeyError(table)

    @property
    def quarantined(self) -> int:
        return self.rows("quarantine")

    def table_frame(self) -> pd.DataFrame:
        """`tables` as a frame with the columns table, rows."""
        return pd.DataFrame(
            {"table": [t.table for t in self.tables], "rows": [t.rows for t in self.tables]}
        )


_QUARANTINE_SQL = (
    "select file, line, rule, reason, cast(record as varchar) as record from quarantine order by file, line"
)
_QUARANTINE_BY_RULE_SQL = "select file, rule, count(*) as rows from quarantine group by file, rule order by file, rule"
_LOADS_SQL = (
    "select loaded_at, dataset, files, rows_read, rows_stored, rows_quarantined from loads order by loaded_at desc"
)


def store_summary(con: duckdb.DuckDBPyConnection) -> StoreSummary:
    """Rows per table, the quarantined rows (each, and counted per file and rule) and the load history."""
    counts = table_counts(con)
    cur = con.cursor()
    try:
        quarantine = cur.sql(_QUARANTINE_SQL).to_df()
        by_rule = cur.sql(_QUARANTINE_BY_RULE_SQL).to_df()
        loads = cur.sql(_LOADS_SQL).to_df()
    finally:
        cur.close()
    return StoreSummary(
        tables=tuple(TableRows(name, rows) for name, rows in counts.items()),
        quarantine=quarantine,
        quarantine_by_rule=by_rule,
        loads=loads,
    )
