"""The Spark job: the contract's tables as Parquet in, the obligations as Parquet by account out.

Every obligation depends only on its account's rows (cases, responses, changes, terms,
standing) and the small shared configuration, so the work partitions by account. Rows are
tagged with their table and brought together per group in one shuffle; each group is
computed by `task.group_obligations`, the embedded engine itself. An account with more than
`cases_per_group` cases is split into shares of its cases, each share carrying the
account's own rows (a case's obligations depend on no other case), so one huge account
spreads over several tasks instead of holding one (docs/scale.md, "Skew").
The driver only plans: it reads a handful of aggregate numbers, never the data's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from metrics.engine.spark.task import (
    ACCOUNT_TABLES,
    CASE_TABLES,
    ENGINE_TABLES,
    GROUP,
    LINE,
    TABLE,
    TaskSetup,
    engine_schema,
    group_obligations,
)
from metrics.errors import LoadError
from metrics.storage.config import Config, load_config
from metrics.storage.contract import BY_NAME, FORMATS
from metrics.storage.ingest import BLANKS, STORE_FORMAT
from metrics.storage.obligation_files import RUN_RECORD

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

DEFAULT_CASES_PER_GROUP = 50_000
_FILE_SHIFT = 1 << 40  # __line of row r of the f-th file (by path) of a table: f * 2**40 + r + 1
# Settings every session gets: instants in UTC end to end, Parquet timestamps DuckDB reads as
# TIMESTAMPTZ, partition values kept as text (an account "0042" stays "0042").
SESSION_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}


@dataclass(frozen=True)
class SparkRun:
    """What a run computed and how the work was cut."""

    obligations: int
    cases: int
    groups: int
    largest_account_cases: int
    split_accounts: int  # accounts with more cases than a group holds, computed in shares


def spark_unavailable() -> str | None:
    """Why the Spark engine cannot run on this machine (None when it can): pyspark or Java 17 missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -r requirements-spark.txt)"
    java = shutil.which("java")
    if java is None:
        return "Java is not installed (Spark needs Java 17 or later, e.g. Debian's openjdk-17-jre-headless)"
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        return "Java could not be started (Spark needs Java 17 or later)"
    found = re.search(r'version "(\d+)', shown)
    if found is None or int(found.group(1)) < 17:
        return "Java 17 or later is needed by Spark (`java -version` shows an older one)"
    return None


def open_session(master: str = "local[*]", settings: dict[str, str] | None = None) -> SparkSession:
    """A Spark session for the engine: `master` and pass-through `settings` over the engine's own."""
    reason = spark_unavailable()
    if reason is not None:
        raise LoadError(f"the Spark engine cannot run here: {reason}")
    from pyspark.sql import SparkSession

    # The tasks exchange Arrow tables, never pandas frames: pyspark's pandas version warning does not apply.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    builder = SparkSession.builder.master(master).appName("support-analytics obligations")
    if master.startswith("local"):  # the tasks' Python is this one (on a cluster: the nodes' own)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: listen on loopback only
        builder = builder.config("spark.pyspark.python", sys.executable).config("spark.driver.host", "127.0.0.1")
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1")
    for key, value in {**SESSION_SETTINGS, **(settings or {})}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_obligations(
    spark: SparkSession,
    root: str | Path,
    as_of: dt.datetime,
    out: str | Path,
    cases_per_group: int = DEFAULT_CASES_PER_GROUP,
    strict: bool = False,
) -> SparkRun:
    """Compute every obligation of the dataset or lake at `root` as of `as_of` into `out`.

    `root` holds each engine table as `<table>.parquet` (a dataset folder) or as a folder of
    Parquet files `<table>/` (as a lake keeps them, partition folders allowed), and may hold
    a config.toml. `out` gets the obligations partitioned by account (`account_id=.../`) and
    `_run/`, the as-of and configuration they were computed with (for `ingest --obligations`).
    Raises LoadError with one sentence on a problem with the input, as `ingest` does.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    if cases_per_group < 1:
        raise LoadError("--cases-per-group: expected a whole number of cases >= 1")
    root_text, out_text = _location(root), _location(out)
    _check_out(out_text)
    config = _read_config(spark, root_text)
    frames = {name: _read_table(spark, root_text, name) for name in ENGINE_TABLES}
    present = {name: frame for name, frame in frames.items() if frame is not None}

    def trimmed(column: str) -> Column:  # an id as the loader reads it: text, trimmed, NULL when empty
        return F.nullif(F.btrim(F.col(column).cast("string"), F.lit(BLANKS)), F.lit(""))

    cases = present["cases"].withColumn("_acct", trimmed("account_id")).withColumn("_case", trimmed("case_id"))
    counts = cases.groupBy("_acct").agg(F.count(F.lit(1)).alias("_n"))
    total, largest, split = counts.agg(
        F.sum("_n"), F.max("_n"), F.count_if(F.col("_n") > cases_per_group)
    ).first() or (0, 0, 0)
    groups = max(spark.sparkContext.defaultParallelism, math.ceil((total or 0) / cases_per_group), 1)
    shares = counts.select("_acct", F.ceil(F.col("_n") / cases_per_group).alias("_shares"))

    def group_of(share: Column) -> Column:
        return F.pmod(F.xxhash64(F.col("_acct"), share), F.lit(groups))

    cases = cases.join(F.broadcast(shares), "_acct", "left").withColumn(
        GROUP, group_of(F.pmod(F.xxhash64(F.col("_case")), F.coalesce(F.col("_shares"), F.lit(1))))
    )
    # a case id given twice follows its first row (the loader keeps the first, quarantines the rest)
    case_groups = cases.groupBy("_case").agg(F.min_by(GROUP, LINE).alias(GROUP))
    tagged = [cases]
    for name in ACCOUNT_TABLES:
        if name in present:
            every_share = F.explode(F.sequence(F.lit(0), F.coalesce(F.col("_shares"), F.lit(1)) - 1))
            frame = present[name].withColumn("_acct", trimmed("account_id")).join(F.broadcast(shares), "_acct", "left")
            tagged.append(frame.withColumn("_share", every_share).withColumn(GROUP, group_of(F.col("_share"))))
    for name in CASE_TABLES:
        if name in present:
            tagged.append(present[name].withColumn("_case", trimmed("case_id")).join(case_groups, "_case"))
    names = [n for n in ENGINE_TABLES if n in present]
    parts = [
        frame.select(F.col(GROUP), F.lit(name).alias(TABLE), F.col(LINE),
                     F.struct(*[F.col(c) for c in _contract_columns(present[name], name)]).alias(name))
        for name, frame in zip(names, _in_order(names, tagged), strict=True)
    ]
    rows = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)

    schema = engine_schema(as_of, config)
    setup = TaskSetup(as_of, config.to_json(), Path(root_text).name, tuple(names), schema, strict)

    def compute(group: pa.Table) -> pa.Table:
        return group_obligations(group, setup)

    result = rows.groupBy(GROUP).applyInArrow(compute, schema=from_arrow_schema(schema))
    try:
        result.write.mode("overwrite").partitionBy("account_id").parquet(out_text)
    except Exception as exc:
        _raise_load_error(exc)
        raise
    manifest = json.dumps({
        "as_of": as_of.isoformat(), "config": config.to_json(), "format": STORE_FORMAT, "engine": "spark"
    })
    spark.createDataFrame([(manifest,)], "value string").coalesce(1).write.mode("overwrite").text(
        f"{out_text}/{RUN_RECORD}"
    )
    written = spark.read.parquet(out_text).count()  # from the files' footers
    return SparkRun(int(written), int(total or 0), groups, int(largest or 0), int(split or 0))


def _in_order(names: list[str], tagged: list[DataFrame]) -> list[DataFrame]:
    """`tagged` was built cases first, then account tables, then case tables: put it in `names` order."""
    built = ["cases"] + [n for n in ACCOUNT_TABLES if n in names] + [n for n in CASE_TABLES if n in names]
    by_name = dict(zip(built, tagged, strict=True))
    return [by_name[n] for n in names]


def _location(path: str | Path) -> str:
    """A local path made absolute; a URI (hdfs://, s3a://, file:) as given."""
    text = str(path)
    return text if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", text) else str(Path(text).resolve())


def _is_local(location: str) -> bool:
    return location.startswith("/")


def _check_out(out: str) -> None:
    """A run writes a folder of its own: never into one holding other files."""
    if _is_local(out):
        path = Path(out)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise LoadError(f"{path.name}: exists and is not an empty folder; the obligations need a new one")


def _read_config(spark: SparkSession, root: str) -> Config:
    """The dataset's config.toml over the defaults, validated as `ingest` validates it."""
    if _is_local(root):
        if not Path(root).is_dir():
            raise LoadError(f"{Path(root).name}: not a folder (expected the tables as Parquet)")
        return load_config(Path(root))
    from pyspark.errors import AnalysisException

    try:  # a remote lake: the one small file comes through Spark, then the same checks
        found = spark.read.text(f"{root}/config.toml", wholetext=True).first()
    except AnalysisException:
        found = None
    with tempfile.TemporaryDirectory() as folder:
        if found is not None:
            (Path(folder) / "config.toml").write_text(found[0])
        return load_config(Path(folder))


def _read_table(spark: SparkSession, root: str, name: str) -> DataFrame | None:
    """One table as read (columns and types as in the files), with `__line`; None if the root lacks it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    table = BY_NAME[name]
    frame = None
    for candidate in (f"{root}/{name}.parquet", f"{root}/{name}"):
        if _is_local(root) and not Path(candidate).exists():
            continue
        frame = _try_read(spark, candidate)
        if frame is not None:
            break
    if frame is None:
        if _is_local(root):
            others = [f"{name}{ext}" for ext in FORMATS if ext != ".parquet" and (Path(root) / f"{name}{ext}").exists()]
            if others:
                raise LoadError(
                    f"{others[0]}: the Spark engine reads Parquet tables; convert it to {name}.parquet "
                    f"or load the folder with `ingest`"
                )
        if table.required:
            raise LoadError(
                f"{Path(root).name}: required table '{name}' is missing "
                f"(expected {name}.parquet or a folder {name}/ of Parquet files)"
            )
        return None
    missing = [c.name for c in table.columns if c.required and c.name not in frame.columns]
    if missing:
        raise LoadError(
            f"{name}.parquet: missing required column '{missing[0]}' "
            f"(expected columns: {', '.join(table.column_names)})"
        )
    located = frame.select("*", F.col("_metadata.file_path").alias("_file"), F.col("_metadata.row_index").alias("_row"))
    files = located.select("_file").distinct()
    ordinals = files.select("_file", (F.row_number().over(Window.orderBy("_file")) - 1).alias("_ordinal"))
    return located.join(F.broadcast(ordinals), "_file").withColumn(
        LINE, F.col("_ordinal") * F.lit(_FILE_SHIFT) + F.col("_row") + F.lit(1)
    )


def _try_read(spark: SparkSession, location: str) -> DataFrame | None:
    from pyspark.errors import AnalysisException

    try:
        return spark.read.parquet(location)
    except AnalysisException:
        return None


def _contract_columns(frame: DataFrame, name: str) -> list[str]:
    """The contract's columns the table has (others are not needed by the engine)."""
    return [c for c in BY_NAME[name].column_names if c in frame.columns]


_LOAD_ERROR = re.compile(r"LoadError: ([^\n]+)")


def _raise_load_error(exc: BaseException) -> None:
    """A task's LoadError (a fatal problem with the rows) as the one sentence it is."""
    found = _LOAD_ERROR.findall(str(exc))
    if found:
        raise LoadError(found[-1].strip()) from None
