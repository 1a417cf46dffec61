"""The command line: `python -m metrics COMMAND`. Each command's docstring is its --help."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

import click
import duckdb

import metrics.subjects  # noqa: F401  (registers the engine's stored run and the per-case tables stored with it: ingest stores them)
from metrics.errors import LoadError
from metrics.storage.store import DEFAULT_DB, connect


class _Group(click.Group):
    """Turns a LoadError, a store or a file problem into one line on stderr and exit status 2."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LoadError as exc:
            _fail(str(exc))
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _fail(f"the store could not be read ({first})")
        except OSError as exc:
            _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(cls=_Group)
def main() -> None:
    """Support-package analytics: load case logs, compute SLA obligations and metrics."""


@main.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="DuckDB store to load into (created if missing).",
)
@click.option("--strict", is_flag=True, help="Fail the load (store unchanged) if any row would be quarantined.")
@click.option(
    "--append", is_flag=True,
    help="Add DATASET_DIR to what is stored (keyed upsert), for delta exports, instead of mirroring it.",
)
@click.option(
    "--obligations", "obligations", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
    help="A folder of obligations computed on Spark (export obligations --engine spark, as of the data's "
    "latest instant): stored as the engine's run instead of computing it.",
)
@click.option("--quiet", is_flag=True, help="Print only the report, no progress.")
def ingest(
    dataset_dir: Path, db_path: Path, strict: bool, append: bool, obligations: Path | None, quiet: bool
) -> None:
    """Load DATASET_DIR (one file per table, .csv/.parquet/.jsonl, optional config.toml) into the store.

    Afterwards the store mirrors DATASET_DIR exactly: rows absent from it are gone and
    corrected rows replace the old ones (--append adds a delta export instead). The new
    version is built beside the store and published in one step, so a running dashboard
    keeps serving and switches to it; on a fatal problem, or with --strict on any bad row,
    nothing stored changes. Loading the same files again changes nothing.
    --obligations takes the obligations a cluster computed (docs/scale.md) instead of
    computing them, once checked to be as of the data's latest instant, with its
    configuration, for every one of its cases.
    """
    from metrics.storage.ingest import ingest as run_ingest

    started = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        if not quiet:
            click.echo(f"[{done}/{total}] {step}", err=True)

    report = run_ingest(
        dataset_dir, db_path, strict=strict, progress=progress, append=append, obligations=obligations
    )
    click.echo(report.summary())
    click.echo(f"Store: {db_path} ({time.perf_counter() - started:.1f} s)")


@main.command("generate-sample")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write the dataset into.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--cases", type=int, default=20_000, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
def generate_sample(out: Path, seed: int, cases: int, fmt: str) -> None:
    """Write a seeded, realistic two-year dataset (about 60 accounts, every package and region)."""
    from metrics.tools.sample import generate_sample as run_generate

    started = time.perf_counter()
    counts = run_generate(out, seed=seed, cases=cases, fmt=fmt)
    for table, n in counts.items():
        click.echo(f"  {table:<14} {n:>10,} rows")
    click.echo(f"Wrote {out} in {time.perf_counter() - started:.1f} s")


CACHE_ENV = "SUPPORT_ANALYTICS_CACHE"  # where read commands keep a store per dataset folder (default data/cache)


def _store_for(dataset_dir: Path, db_path: Path | None) -> Path:
    """The store a read command reads: --db as it is, else the cache store of DATASET_DIR.

    The cache store is keyed by the folder's resolved path (two folders that share a name
    never share a store) and mirrors the folder's current files (a no-op when unchanged).
    --db is only read, never written.
    """
    from metrics.storage.datasets import safe_store_stem
    from metrics.storage.ingest import ingest as run_ingest
    from metrics.storage.ingest import is_loaded
    from metrics.storage.store import check_store_path

    if db_path is not None:
        check_store_path(db_path)
        if not db_path.exists():
            raise LoadError(f"{db_path.name}: no such store (build it with `python -m metrics ingest DATASET --db`)")
        if not is_loaded(dataset_dir, db_path):
            click.echo(f"note: {db_path.name} does not hold the current files of {dataset_dir}; reading it as it is",
                       err=True)
        return db_path
    folder = Path(dataset_dir).resolve()
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    cache = Path(os.environ.get(CACHE_ENV) or DEFAULT_DB.parent / "cache")
    path = cache / f"{safe_store_stem(folder.name)}-{key}.duckdb"
    report = run_ingest(folder, path)
    if not report.unchanged:
        click.echo(f"Loaded {dataset_dir} into {path.name} ({report.total_quarantined:,} rows quarantined)", err=True)
    return path


class Instant(click.ParamType[dt.datetime]):
    """An ISO 8601 instant on the command line, as an aware UTC datetime (naive means UTC)."""

    name = "instant"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> dt.datetime:
        from metrics.engine.obligations import as_utc

        if isinstance(value, dt.datetime):
            return as_utc(value)
        try:
            return as_utc(str(value))
        except ValueError:
            self.fail(f"expected an ISO 8601 instant such as 2026-03-09T14:05:00Z, got {value!r}", param, ctx)


INSTANT = Instant()


# The read commands take a dataset folder and, optionally, the store to read instead.
store_option = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Read this store (read-only, never written) instead of DATASET_DIR's own store under data/cache/.",
)


@main.group()
def export() -> None:
    """Machine-readable outputs."""


@export.command("obligations")
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--as-of", "as_of", type=INSTANT, required=True,
    help="Cut the data at this instant (ISO 8601, e.g. 2026-11-30T00:00:00Z).",
)
@click.option(
    "--out", type=click.Path(path_type=Path), required=True,
    help="Output file: .csv or .parquet (with --engine spark: a new folder, Parquet partitioned by account).",
)
@store_option
@click.option(
    "--engine", type=click.Choice(["embedded", "spark"]), default="embedded", show_default=True,
    help="embedded: DuckDB on this machine; spark: Apache Spark over DATASET_DIR's Parquet tables (docs/scale.md).",
)
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL (with --engine spark).")
@click.option(
    "--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
    help="A Spark setting passed through, e.g. spark.executor.memory=8g (repeatable).",
)
@click.option(
    "--cases-per-group", type=click.IntRange(min=1), default=50_000, show_default=True,
    help="Cases one Spark task computes at most; a larger account is computed in shares.",
)
def export_obligations(
    dataset_dir: Path,
    as_of: dt.datetime,
    out: Path,
    db_path: Path | None,
    engine: str,
    spark_master: str,
    spark_conf: tuple[str, ...],
    cases_per_group: int,
) -> None:
    """Write one row per response obligation of DATASET_DIR as of --as-of (the contract's columns).

    With --engine spark, DATASET_DIR holds each table as <table>.parquet or as a folder
    <table>/ of Parquet files, and --out is a new folder: the obligations partitioned by
    account, which `ingest --obligations` can store instead of computing them.
    """
    from metrics.engine.obligations import export_obligations as run_export

    if engine == "spark":
        if db_path is not None:
            raise click.BadParameter("the Spark engine reads DATASET_DIR's files, not a store", param_hint="--db")
        _export_on_spark(dataset_dir, as_of, out, spark_master, spark_conf, cases_per_group)
        return
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter("the output file must end in .csv or .parquet", param_hint="--out")
    store = _store_for(dataset_dir, db_path)
    started = time.perf_counter()
    con = connect(store, read_only=True)
    try:
        n = run_export(con, as_of, out)
    finally:
        con.close()
    click.echo(f"Wrote {n:,} obligations to {out} in {time.perf_counter() - started:.1f} s", err=True)


def _export_on_spark(
    dataset_dir: Path, as_of: dt.datetime, out: Path, master: str, conf: tuple[str, ...], cases_per_group: int
) -> None:
    settings = {}
    for item in conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--spark-conf")
        settings[key.strip()] = value.strip()
    from metrics.engine.spark.job import open_session, spark_obligations

    started = time.perf_counter()
    spark = open_session(master, settings)
    try:
        run = spark_obligations(spark, dataset_dir, as_of, out, cases_per_group=cases_per_group)
    finally:
        spark.stop()
    click.echo(
        f"Wrote {run.obligations:,} obligations of {run.cases:,} cases to {out} on Spark ({master}) in "
        f"{time.perf_counter() - started:.1f} s: {run.groups:,} groups, {run.split_accounts:,} accounts in shares",
        err=True,
    )


@main.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--case", "case_id", required=True, help="The case to explain.")
@click.option(
    "--as-of", "as_of", type=INSTANT, default=None,
    help="Cut the data at this instant (default: the data's latest instant).",
)
@store_option
def explain(dataset_dir: Path, case_id: str, as_of: dt.datetime | None, db_path: Path | None) -> None:
    """Explain every SLA clock of one case: intervals counted, pauses, severity pieces, verdict."""
    from metrics.engine.explain import explain_case, format_explanations
    from metrics.engine.freshness import latest_instant

    store = _store_for(dataset_dir, db_path)
    con = connect(store, read_only=True)
    try:
        moment = as_of if as_of is not None else latest_instant(con)
        click.echo(format_explanations(case_id, explain_case(con, case_id, moment), moment))
    finally:
        con.close()


@main.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--week", required=True, help="ISO week in the reporting timezone, e.g. 2026-W11.")
@click.option("--account", "account_id", default=None, help="The account (its account_id).")
@click.option("--advisor", default=None, help="Every account of this advisor instead, one file each in --out DIR.")
@click.option("--format", "fmt", type=click.Choice(["json", "md", "html"]), default="json", show_default=True)
@click.option(
    "--out", default="-", show_default=True, help="File to write (- = standard output); with --advisor, a folder."
)
@store_option
def weekly(
    dataset_dir: Path, week: str, account_id: str | None, advisor: str | None, fmt: str, out: str, db_path: Path | None
) -> None:
    """The weekly update of one account for one ISO week, as of the week's end.

    JSON holds the counts of the SLA rules' weekly summary; md and html are the text an
    advisor sends (the HTML is self-contained). --advisor NAME --out DIR writes one file per
    account of that advisor.
    """
    from metrics.reports import weekly as wk
    from metrics.reports import weekly_render

    try:
        wk.parse_week(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    if (account_id is None) == (advisor is None):
        raise click.UsageError("give either --account ID or --advisor NAME")
    if advisor is not None and out == "-":
        raise click.UsageError("--advisor writes one file per account: give --out DIR")
    store = _store_for(dataset_dir, db_path)
    con = connect(store, read_only=True)
    try:
        ids = [account_id] if account_id is not None else wk.advisor_accounts(con, advisor or "")
        if not ids:
            _fail(f"no account has advisor {advisor!r}")
        try:
            updates = wk.weekly_updates(con, ids, week, details=fmt != "json")
        except wk.UnknownAccountError as exc:
            _fail(str(exc))
    finally:
        con.close()
    if advisor is None and out == "-":
        click.echo(weekly_render.render(updates[0], fmt), nl=False)
        return
    if advisor is None:
        Path(out).write_text(weekly_render.render(updates[0], fmt), encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for update in updates:
        path = folder / weekly_render.file_name(update, fmt)
        path.write_text(weekly_render.render(update, fmt), encoding="utf-8")
        click.echo(f"Wrote {path}", err=True)


@main.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--as-of", "as_of", type=INSTANT, required=True,
    help="The moment of the digest (ISO 8601, e.g. 2026-11-30T08:00:00Z); a cron job passes the time it runs.",
)
@click.option("--advisor", default=None, help="Only this advisor's accounts (the name in accounts.advisor).")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("--out", default="-", show_default=True, help="File to write (- = standard output).")
@store_option
def digest(
    dataset_dir: Path, as_of: dt.datetime, advisor: str | None, fmt: str, out: str, db_path: Path | None
) -> None:
    """Per advisor: the clocks breached or at risk, and the weekly updates owed and not marked sent.

    The clocks are the Active tickets page's, as of --as-of; the updates are those of the last
    complete ISO week (reporting timezone) for accounts whose package includes weekly_updates,
    read from the workspace beside the store: give --db the store the dashboard serves to
    see what its advisors marked sent. md and html escape every value; json gives UTC ISO
    8601 instants, for a chat webhook or a script.
    """
    from metrics.engine.snapshot import take_snapshot
    from metrics.reports import digest as report
    from metrics.reports import weekly as wk
    from metrics.workspace import Workspace

    store = _store_for(dataset_dir, db_path)
    workspace = Workspace.beside(store)
    if not workspace.path.exists():
        click.echo(f"note: no workspace beside {store.name}: no weekly update counts as sent "
                   "(give --db the store the dashboard serves)", err=True)
    con = connect(store, read_only=True)
    try:
        if advisor is not None and not wk.advisor_accounts(con, advisor):
            _fail(f"no account has advisor {advisor!r}")
        built = report.build_digest(take_snapshot(con, as_of), workspace, advisor)
    finally:
        con.close()
    text = report.render(built, fmt)
    if out == "-":
        click.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"Wrote {out}", err=True)


@main.command()
@click.option(
    "--db", "db_path", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
    help="The store to back up (the one the dashboard serves).",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder to write the copies into (created if missing).")
def backup(db_path: Path, out: Path) -> None:
    """Copy a store and its workspace (weekly update drafts, updates sent) into --out, each consistent.

    The store is copied from the version published when the copy starts (a load running at
    the same time publishes beside it and is not seen half-way); the workspace with SQLite's
    online backup, so a save in progress is either in the copy or not. Safe while the
    dashboard serves. Restore by stopping the dashboard and copying both files back.
    """
    from metrics.tools.backup import backup_store

    for path in backup_store(db_path, out):
        click.echo(f"Wrote {path}")


@main.command("docs")
def docs() -> None:
    """Print the metric tables of docs/metrics.md, generated from the registry."""
    from metrics.reports import weekly  # noqa: F401  (registers the weekly update's definitions)
    from metrics.subjects import registry

    click.echo(registry.definitions_markdown())
    click.echo(registry.metrics_markdown(), nl=False)


@main.group("import")
def import_group() -> None:
    """Turn a help desk's export into a dataset folder of the data contract (then `ingest` it)."""


def _register_importers() -> None:
    import importlib

    from metrics.tools.imports import IMPORTERS

    for name in IMPORTERS:
        import_group.add_command(importlib.import_module(f"metrics.tools.imports.{name}").command, name)


_register_importers()
