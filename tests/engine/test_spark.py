"""The engine on Spark computes exactly the embedded engine's rows, every column, on the same data.

Both engines run on the bundled sample and on the randomized reference cases
(tests/random_cases.py, the draw the reference agreement test uses), the latter laid out as
a lake: each table a folder of several Parquet files holding the CSV's text. A skewed draw
(one account with a third of the cases, and an id that needs escaping in a folder name)
shows a large account computed in shares. The embedded engine is the reference here; it is
itself checked against the slow pure-Python clock in test_sla_agreement.py.

Spark runs in local mode (`local[2]`) once per module. Without Java 17 or pyspark these
tests skip saying which is missing; in CI (CI=true) they fail instead, so they always run there.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import metrics.engine  # noqa: F401  (registers the stored run: ingest computes it, as the app's ingest does)
from metrics.engine.freshness import latest_instant
from metrics.engine.obligations import EXPORT_COLUMNS, obligations_arrow
from metrics.engine.spark.job import spark_unavailable
from metrics.errors import LoadError
from metrics.storage.ingest import ingest
from metrics.storage.obligation_files import read_obligations, run_record
from metrics.storage.store import PROJECT_ROOT, SAMPLE_DIR
from tests.random_cases import AS_OF_FINAL, make_random_cases, write_dataset

SEED = 20261130  # the agreement test's draw
CASES = 2000
LAKE_FILES = 3  # part files per table in the lake layout


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    reason = spark_unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark tests: {reason}")
        pytest.skip(reason)
    from metrics.engine.spark.job import open_session

    warnings.filterwarnings("ignore", message=".*pandas.*", category=FutureWarning)
    session = open_session("local[2]", {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "false"})
    yield session
    session.stop()


def embedded(dataset: Path, store: Path, as_of: dt.datetime) -> pa.Table:
    """The embedded engine's rows: the folder ingested (strict: every row accepted), then the engine."""
    ingest(dataset, store, strict=True)
    con = duckdb.connect(str(store), read_only=True)
    try:
        return obligations_arrow(con, as_of)
    finally:
        con.close()


def on_spark(spark: Any, root: Path, as_of: dt.datetime, out: Path, **options: Any) -> tuple[pa.Table, Any]:
    from metrics.engine.spark.job import spark_obligations

    run = spark_obligations(spark, root, as_of, out, **options)
    return read_obligations(out, EXPORT_COLUMNS), run


def assert_same_rows(expected: pa.Table, got: pa.Table) -> None:
    """Equal rows in the same (case_id, seq) order, every column, values and types."""
    assert got.num_rows == expected.num_rows
    got = got.cast(expected.schema)  # the partition folders give account_id back as text, the files the rest
    for name in EXPORT_COLUMNS:
        if not got.column(name).equals(expected.column(name)):
            diff = [
                (expected.column("case_id")[i].as_py(), expected.column("seq")[i].as_py(),
                 expected.column(name)[i].as_py(), got.column(name)[i].as_py())
                for i in range(expected.num_rows)
                if expected.column(name)[i] != got.column(name)[i]
            ][:5]
            pytest.fail(f"column {name} differs (case_id, seq, embedded, spark): {diff}")


def write_lake(dataset: Path, lake: Path) -> None:
    """The CSV dataset as a lake: each table a folder of LAKE_FILES Parquet files of text, in file order."""
    lake.mkdir()
    (lake / "config.toml").write_bytes((dataset / "config.toml").read_bytes())
    con = duckdb.connect()
    for csv_file in sorted(dataset.glob("*.csv")):
        folder = lake / csv_file.stem
        folder.mkdir()
        con.execute(
            "create or replace table t as select *, row_number() over () as n"
            " from read_csv(?, all_varchar = true, header = true)", [str(csv_file)]
        )
        total = con.execute("select count(*) from t").fetchall()[0][0]
        size = max(1, -(-total // LAKE_FILES))
        for part in range(LAKE_FILES):
            con.execute(
                f"copy (select * exclude (n) from t where n > {part * size} and n <= {(part + 1) * size} order by n)"
                f" to '{folder / f'part-{part:05d}.parquet'}' (format parquet)"
            )
    con.close()


@pytest.fixture(scope="module")
def sample_run(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """The sample ingested by the embedded engine, and computed on Spark as of its latest instant."""
    folder = tmp_path_factory.mktemp("sample")
    store = folder / "sample.duckdb"
    ingest(SAMPLE_DIR, store, strict=True)
    con = duckdb.connect(str(store), read_only=True)
    as_of = latest_instant(con)
    con.close()
    from metrics.engine.spark.job import spark_obligations

    run = spark_obligations(spark, SAMPLE_DIR, as_of, folder / "out")
    return store, folder / "out", run


def test_sample_identical(sample_run: tuple[Path, Path, Any]) -> None:
    """On the bundled sample (a Parquet dataset folder) Spark writes exactly the embedded engine's rows."""
    store, out, run = sample_run
    record = run_record(out)
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert record.as_of == latest_instant(con)
        expected = obligations_arrow(con, record.as_of)
    finally:
        con.close()
    assert run.obligations == expected.num_rows > 10_000
    assert_same_rows(expected, read_obligations(out, EXPORT_COLUMNS))


def stored_run_tables(store: Path) -> dict[str, pa.Table]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        # by key: the tables' row order among equal settled_at is the join's, which threads may vary
        keys = {"sla_run": "as_of", "sla_run_cases": "case_id", "sla_run_obligations": "case_id, seq",
                "sla_run_case_facts": "case_id"}
        return {name: con.sql(f"select * from {name} order by {key}").to_arrow_table() for name, key in keys.items()}
    finally:
        con.close()


def test_ingest_stores_the_cluster_obligations(sample_run: tuple[Path, Path, Any], tmp_path: Path) -> None:
    """ingest --obligations stores the engine's run from the cluster's rows: the same tables as computing it."""
    store, out, _ = sample_run
    given = tmp_path / "given.duckdb"
    ingest(SAMPLE_DIR, given, obligations=out)
    computed, taken = stored_run_tables(store), stored_run_tables(given)
    for name, table in computed.items():
        assert taken[name].equals(table), name
    con = duckdb.connect(str(given), read_only=True)
    try:  # the cluster's rows were taken, then dropped: the store holds them once
        assert not con.sql("select * from duckdb_tables() where table_name like 'sla_given%'").fetchall()
    finally:
        con.close()


def copy_run(out: Path, to: Path) -> Path:
    shutil.copytree(out, to)
    return to


def test_ingest_refuses_obligations_of_another_moment(sample_run: tuple[Path, Path, Any], tmp_path: Path) -> None:
    """Obligations computed as of another instant than the data's latest are refused, saying which to use."""
    _, out, _ = sample_run
    other = copy_run(out, tmp_path / "other")
    record_file = next((other / "_run").glob("part-*"))
    record = json.loads(record_file.read_text())
    latest = record["as_of"]
    record["as_of"] = "2026-01-01T00:00:00+00:00"
    record_file.write_text(json.dumps(record))
    with pytest.raises(LoadError, match=r"^other: the obligations were computed as of 2026-01-01T00:00:00Z, but"):
        ingest(SAMPLE_DIR, tmp_path / "x.duckdb", obligations=other)
    assert dt.datetime.fromisoformat(latest) == run_record(out).as_of


def test_ingest_refuses_obligations_missing_an_account(sample_run: tuple[Path, Path, Any], tmp_path: Path) -> None:
    """A folder missing an account's obligations (a partial copy) is refused with the counts."""
    _, out, _ = sample_run
    partial = copy_run(out, tmp_path / "partial")
    shutil.rmtree(partial / "account_id=ACC-0001")
    with pytest.raises(LoadError, match=r"^partial: holds the obligations of [\d,]+ cases, but this data has"):
        ingest(SAMPLE_DIR, tmp_path / "x.duckdb", obligations=partial)


@pytest.fixture(scope="module")
def reference_draw(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    override, _, tables = make_random_cases(SEED, CASES)
    return override, tables


def test_random_cases_identical_from_a_lake(spark: Any, tmp_path: Path, reference_draw: Any) -> None:
    """The adversarial reference cases (DST, holidays, same-instant rows decided by file order) agree exactly.

    The lake splits each table over three files of text columns: Spark must keep the files'
    order (same-instant changes) and parse text as the loader does.
    """
    override, tables = reference_draw
    dataset = tmp_path / "csv"
    write_dataset(dataset, override, tables)
    write_lake(dataset, tmp_path / "lake")
    expected = embedded(dataset, tmp_path / "draw.duckdb", AS_OF_FINAL)
    got, run = on_spark(spark, tmp_path / "lake", AS_OF_FINAL, tmp_path / "out")
    assert run.cases == CASES and expected.num_rows > CASES
    assert_same_rows(expected, got)


HOT = "ACC/hot =%é"  # a third of the cases; "/", "=", "%" and a space must survive the account folder name


def skewed(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The draw with every third case moved to the first account, renamed HOT."""
    first = tables["accounts"][0]["account_id"]
    out = {name: [dict(row) for row in rows] for name, rows in tables.items()}
    for name in ("accounts", "subscriptions", "standing", "contacts", "engagements"):
        for row in out.get(name, []):
            if row.get("account_id") == first:
                row["account_id"] = HOT
    for i, row in enumerate(out["cases"]):
        if i % 3 == 0 or row["account_id"] == first:
            row["account_id"] = HOT
    return out


def test_skewed_account_computed_in_shares(spark: Any, tmp_path: Path, reference_draw: Any) -> None:
    """One account with a third of the cases is split over several groups, and the rows stay identical."""
    override, tables = reference_draw
    dataset = tmp_path / "csv"
    write_dataset(dataset, override, skewed(tables))
    write_lake(dataset, tmp_path / "lake")
    expected = embedded(dataset, tmp_path / "skew.duckdb", AS_OF_FINAL)
    got, run = on_spark(spark, tmp_path / "lake", AS_OF_FINAL, tmp_path / "out", cases_per_group=150)
    hot_cases = sum(1 for row in skewed(tables)["cases"] if row["account_id"] == HOT)
    assert hot_cases >= CASES / 3  # every third of 2,000 cases (667) plus the account's own
    assert run.largest_account_cases == hot_cases
    assert run.split_accounts >= 1  # 667+ cases > 150 a group: computed in at least 5 shares
    assert run.groups >= CASES // 150  # ceil(2000 / 150) = 14 groups
    assert_same_rows(expected, got)
    assert any(p.name.startswith("account_id=ACC%2Fhot") for p in (tmp_path / "out").iterdir())


def test_csv_dataset_refused_with_one_sentence(spark: Any, tmp_path: Path, make_dataset: Any) -> None:
    """A CSV dataset is not read by the Spark engine: it says so, naming the file."""
    from metrics.engine.spark.job import spark_obligations

    folder = make_dataset()
    with pytest.raises(LoadError, match=r"^accounts\.csv: the Spark engine reads Parquet tables"):
        spark_obligations(spark, folder, AS_OF_FINAL, tmp_path / "out")


def test_fatal_row_problem_in_a_task_is_one_sentence(spark: Any, tmp_path: Path) -> None:
    """A region the config lacks, found by the loader inside a task, reaches the caller as the loader's sentence."""
    from metrics.engine.spark.job import spark_obligations

    lake = tmp_path / "lake"
    lake.mkdir()
    con = duckdb.connect()
    for name in ("subscriptions", "cases", "responses"):
        con.execute(f"copy (select * from '{SAMPLE_DIR / name}.parquet' limit 50) to '{lake / name}.parquet'")
    con.execute(f"copy (select * replace (case when account_id = 'ACC-0001' then 'mars' else region end as region)"
                f" from '{SAMPLE_DIR / 'accounts.parquet'}') to '{lake / 'accounts.parquet'}'")
    con.close()
    with pytest.raises(LoadError, match=r"^accounts\.parquet, column region, row 1: 'mars' is not a calendar"):
        spark_obligations(spark, lake, AS_OF_FINAL, tmp_path / "out")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "metrics", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )


def test_cli_computes_on_spark_and_ingest_serves_it(sample_run: tuple[Path, Path, Any], tmp_path: Path) -> None:
    """As a user runs it: export on Spark in local mode, then ingest --obligations; a bad setting is one sentence."""
    store, out, _ = sample_run
    as_of = f"{run_record(out).as_of:%Y-%m-%dT%H:%M:%SZ}"
    cli_out = tmp_path / "obligations"
    done = run_cli("export", "obligations", str(SAMPLE_DIR), "--as-of", as_of, "--out", str(cli_out),
                   "--engine", "spark", "--spark-master", "local[2]", "--spark-conf", "spark.sql.shuffle.partitions=4")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"Wrote {read_obligations(out, ('case_id', 'seq')).num_rows:,} obligations" in done.stderr
    loaded = run_cli("ingest", str(SAMPLE_DIR), "--db", str(tmp_path / "served.duckdb"), "--obligations", str(cli_out))
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert stored_run_tables(tmp_path / "served.duckdb")["sla_run_obligations"].equals(
        stored_run_tables(store)["sla_run_obligations"]
    )
    again = run_cli("export", "obligations", str(SAMPLE_DIR), "--as-of", as_of, "--out", str(cli_out),
                    "--engine", "spark", "--spark-master", "local[2]")
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1] == (
        "error: obligations: exists and is not an empty folder; the obligations need a new one"
    )
    bad = run_cli("export", "obligations", str(SAMPLE_DIR), "--as-of", as_of, "--out", str(tmp_path / "x"),
                  "--engine", "spark", "--db", str(store))
    assert bad.returncode == 2 and "the Spark engine reads DATASET_DIR's files, not a store" in bad.stderr
