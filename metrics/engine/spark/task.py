"""What one Spark task does with its group of accounts: load the rows, run the engine, return the rows.

A group arrives as one Arrow table of tagged rows (docs/scale.md): `__table` names the
contract table a row belongs to, `__line` its position in that table's files, and one
struct column per table holds the row's columns as read. The task splits it back into
tables, loads them into an in-memory store with the loader's own parsing and checks
(`load_arrow`), and runs the engine's own functions on it, so a cluster computes exactly
what one machine would. Nothing here imports Spark: the same function runs in a test.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from metrics.engine.obligations import obligations_arrow
from metrics.storage.config import Config, config_from_json
from metrics.storage.ingest import load_arrow
from metrics.storage.store import DEFAULT_MEMORY_LIMIT, MEMORY_ENV, ensure_schema

GROUP = "__group"  # the group's number: several accounts, or a share of a large account's cases
TABLE = "__table"  # the contract table of a tagged row
LINE = "__line"  # the row's position in its table's files: file order decides ties

# The tables the engine reads, in the contract's order (accounts before the rows naming them).
ENGINE_TABLES = ("accounts", "subscriptions", "cases", "responses", "case_changes", "standing")
ACCOUNT_TABLES = ("accounts", "subscriptions", "standing")  # keyed by account_id: every share of it gets them
CASE_TABLES = ("responses", "case_changes")  # keyed by case_id: they follow their case


@dataclass(frozen=True)
class TaskSetup:
    """What every task needs besides its rows; small and picklable, shipped with the function."""

    as_of: dt.datetime
    config_json: str
    dataset: str  # the dataset's folder name, for messages
    tables: tuple[str, ...]  # the engine tables the dataset has
    schema: pa.Schema  # the rows a task returns: the engine's export columns and types
    strict: bool = False


@lru_cache(maxsize=4)
def _config(config_json: str) -> Config:
    return config_from_json(config_json)


def engine_schema(as_of: dt.datetime, config: Config) -> pa.Schema:
    """The Arrow schema of the engine's rows: the engine run on an empty store."""
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        ensure_schema(con)
        return obligations_arrow(con, as_of, config).schema
    finally:
        con.close()


def split_tables(rows: pa.Table, tables: tuple[str, ...]) -> dict[str, pa.Table]:
    """The group's tagged rows back as one Arrow table per contract table, each with `__line`."""
    out: dict[str, pa.Table] = {}
    for name in tables:
        part = rows.filter(pc.equal(rows.column(TABLE), name))
        struct = part.column(name).combine_chunks()
        if isinstance(struct, pa.ChunkedArray):  # no rows at all: an empty chunked array
            struct = pa.array([], type=rows.schema.field(name).type)
        flat = pa.Table.from_struct_array(struct)
        out[name] = flat.append_column(LINE, part.column(LINE))
    return out


def group_obligations(rows: pa.Table, setup: TaskSetup) -> pa.Table:
    """The engine's rows for the cases of one group, typed as `setup.schema`."""
    config = _config(setup.config_json)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set threads = 1")  # a task is one core of the cluster
        con.execute("set memory_limit = ?", [os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT])
        load_arrow(con, split_tables(rows, setup.tables), config, setup.dataset, setup.strict)
        table = obligations_arrow(con, setup.as_of, config)
    finally:
        con.close()
    return table.cast(setup.schema)
