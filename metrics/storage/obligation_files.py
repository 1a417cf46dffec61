"""An obligations folder a cluster wrote: Parquet partitioned by account, with the record of its run.

`python -m metrics export obligations ... --engine spark --out DIR` writes `DIR/account_id=.../*.parquet`
and `DIR/_run/` (one JSON line: the as-of, the configuration and the store format the rows were
computed with). `ingest --obligations DIR` stores those rows as the engine's run instead of
computing them (metrics/engine/stored_run.py checks they fit the data). Reading is storage's
part: this module knows the layout and nothing of the rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from metrics.errors import LoadError
from metrics.sqlfiles import literal

RUN_RECORD = "_run"  # the folder of the run's record beside the account folders


@dataclass(frozen=True)
class ComputedRun:
    """What an obligations folder says about how it was computed."""

    as_of: dt.datetime
    config_json: str
    format: int


def run_record(folder: Path) -> ComputedRun:
    """The record of the run that wrote `folder`; LoadError when it is not such a folder."""
    records = sorted((folder / RUN_RECORD).glob("part-*")) if (folder / RUN_RECORD).is_dir() else []
    text = records[0].read_text(encoding="utf-8", errors="replace").strip() if records else ""
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("as_of"), str) or not isinstance(
        value.get("config"), str
    ) or not isinstance(value.get("format"), int):
        raise LoadError(
            f"{folder.name}: not an obligations folder written by `export obligations --engine spark` "
            f"(its {RUN_RECORD}/ record is missing or unreadable)"
        )
    try:
        as_of = dt.datetime.fromisoformat(value["as_of"]).astimezone(dt.UTC)
    except ValueError:
        raise LoadError(f"{folder.name}: its {RUN_RECORD}/ record holds no valid as-of instant") from None
    return ComputedRun(as_of, value["config"], value["format"])


def obligations_source(folder: Path) -> str:
    """SQL reading every obligation of `folder` (account_id from the partition folders, as text)."""
    pattern = literal(str(folder / "**" / "*.parquet"))
    return (
        f"read_parquet({pattern}, hive_partitioning = true, hive_types = {{'account_id': 'VARCHAR'}},"
        " hive_types_autocast = false)"
    )


def read_obligations(folder: Path, columns: tuple[str, ...]) -> pa.Table:
    """The obligations of `folder`, `columns` in that order, by case and seq (the engine's order)."""
    if not folder.is_dir() or not any(folder.glob("account_id=*")):
        if folder.is_dir() and (folder / RUN_RECORD).is_dir():  # a run over a dataset without cases
            return pa.table({c: pa.array([], pa.string()) for c in columns})
        raise LoadError(f"{folder.name}: holds no obligations (expected account_id=... folders of Parquet files)")
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        cols = ", ".join(f'"{c}"' for c in columns)
        return con.sql(f"select {cols} from {obligations_source(folder)} order by case_id, seq").to_arrow_table()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        detail = first.replace(str(folder), "")  # never a server path
        raise LoadError(f"{folder.name}: the obligations could not be read ({detail})") from None
    finally:
        con.close()


def obligations_digest(folder: Path) -> str:
    """A hash of the run's record and every obligations file (name and size): equal means the same run."""
    record = run_record(folder)
    digest = hashlib.sha256(f"{record.as_of.isoformat()}|{record.format}|{record.config_json}".encode())
    for path in sorted(folder.glob("account_id=*/*.parquet")):
        digest.update(f"{path.parent.name}/{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()


class _NoObligations(Exception):
    """The folder holds the record of a run but no obligation."""


def store_given(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Copy the folder's obligations and its run's record into the store being built.

    They wait there (sla_given_obligations, sla_given_run) for the engine's stored run,
    which checks them against the loaded data, takes them and drops both tables.
    """
    record = run_record(folder)
    try:
        if not any(folder.glob("account_id=*/*.parquet")):  # a run over data without cases: no table
            raise _NoObligations
        con.execute(f"create or replace table sla_given_obligations as select * from {obligations_source(folder)}")
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        detail = first.replace(str(folder), "")  # never a server path
        raise LoadError(f"{folder.name}: the obligations could not be read ({detail})") from None
    except _NoObligations:
        pass
    con.execute(
        "create or replace table sla_given_run as select cast(? as timestamptz) as as_of, cast(? as varchar) as config,"
        " cast(? as integer) as format, cast(? as varchar) as folder",
        [record.as_of, record.config_json, record.format, folder.name],
    )


def given_run(con: duckdb.DuckDBPyConnection) -> tuple[ComputedRun, str] | None:
    """The record of the obligations this load was given, and their folder's name (None: none given)."""
    cur = con.cursor()
    try:
        rows = cur.execute("select as_of, config, format, folder from sla_given_run").fetchall()
    except duckdb.CatalogException:
        return None
    finally:
        cur.close()
    as_of, config_json, fmt, name = rows[0]
    return ComputedRun(as_of.astimezone(dt.UTC), config_json, fmt), name


def drop_given(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists sla_given_obligations")
    con.execute("drop table if exists sla_given_run")
