"""The DuckDB store: one table per contract table, plus quarantine, load log and settings.

Instants are TIMESTAMPTZ in UTC, so any DuckDB client can query the file directly.
A store is written by one process at a time (the loader) and read by many.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from metrics.config import Config, config_from_json, load_config
from metrics.contract import STORED_TYPE, TABLES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = PROJECT_ROOT / "data" / "support.duckdb"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DB_ENV = "SUPPORT_ANALYTICS_DB"  # where the dashboard's store lives, if not data/support.duckdb
# DuckDB's memory cap (it spills to disk beyond it); its own default is 80 % of the machine.
MEMORY_ENV = "SUPPORT_ANALYTICS_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


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
    fingerprint varchar   -- file names, sizes and modification times: unchanged files need no reload
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


def stored_config(con: duckdb.DuckDBPyConnection) -> Config:
    """The configuration the store's data was last loaded with (built-in defaults if none)."""
    rows = con.execute("select value from settings where key = 'config'").fetchall()
    return config_from_json(rows[0][0]) if rows else load_config(None)


def ensure_store(db_path: Path | str = DEFAULT_DB, dataset_dir: Path | str = SAMPLE_DIR) -> Path:
    """Build the store from the bundled sample on first start; an existing store is kept as is."""
    from metrics.ingest import ingest

    path = Path(db_path)
    if not path.exists():
        ingest(dataset_dir, path)
    return path


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows per contract table and in quarantine, for the Data page and the start screen."""
    cur = con.cursor()
    try:
        names = [t.name for t in TABLES] + ["quarantine"]
        return {n: int(cur.execute(f"select count(*) from {n}").fetchall()[0][0]) for n in names}
    finally:
        cur.close()
