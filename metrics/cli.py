"""The command line: `python -m metrics COMMAND`. Each command's docstring is its --help."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from metrics.errors import LoadError
from metrics.store import DEFAULT_DB, connect


class _Group(click.Group):
    """Turns a LoadError into one line on stderr and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LoadError as exc:
            click.echo(f"error: {exc}", err=True)
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
@click.option("--quiet", is_flag=True, help="Print only the report, no progress.")
def ingest(dataset_dir: Path, db_path: Path, strict: bool, quiet: bool) -> None:
    """Load DATASET_DIR (one file per table, .csv/.parquet/.jsonl, optional config.toml) into the store.

    The load is one transaction: on a fatal problem, or with --strict on any bad row,
    nothing stored changes. Loading the same files again changes nothing.
    """
    from metrics.ingest import ingest as run_ingest

    started = time.perf_counter()

    def progress(step: str, done: int, total: int) -> None:
        if not quiet:
            click.echo(f"[{done}/{total}] {step}", err=True)

    report = run_ingest(dataset_dir, db_path, strict=strict, progress=progress)
    click.echo(report.summary())
    click.echo(f"Store: {db_path} ({time.perf_counter() - started:.1f} s)")


@main.command("generate-sample")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to write the dataset into.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--cases", type=int, default=20_000, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
def generate_sample(out: Path, seed: int, cases: int, fmt: str) -> None:
    """Write a seeded, realistic two-year dataset (about 60 accounts, every package and region)."""
    from metrics.sample import generate_sample as run_generate

    started = time.perf_counter()
    counts = run_generate(out, seed=seed, cases=cases, fmt=fmt)
    for table, n in counts.items():
        click.echo(f"  {table:<14} {n:>10,} rows")
    click.echo(f"Wrote {out} in {time.perf_counter() - started:.1f} s")


def _store_for(dataset_dir: Path, db_path: Path | None) -> Path:
    """The store to read: --db if given, else load DATASET_DIR into a store beside the default one.

    Commands take a dataset folder (as the contract's CLI does); the folder is loaded
    unless the store's latest load was of these very files, so the numbers always match them.
    """
    from metrics.ingest import ingest as run_ingest
    from metrics.ingest import is_loaded

    path = db_path or DEFAULT_DB.with_name(f"{Path(dataset_dir).resolve().name}.duckdb")
    if not is_loaded(dataset_dir, path):
        click.echo(f"Loading {dataset_dir} into {path} ...", err=True)
        run_ingest(dataset_dir, path)
    return path


def _as_of(text: str) -> object:
    from metrics.sla import as_utc

    try:
        return as_utc(text)
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 instant such as 2026-03-09T14:05:00Z, got {text!r}") from None


# The read commands take a dataset folder and, optionally, the store to read instead.
store_option = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Read this store instead of loading DATASET_DIR into data/<folder>.duckdb.",
)


@main.group()
def export() -> None:
    """Machine-readable outputs."""


@export.command("obligations")
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--as-of", "as_of", required=True, help="Cut the data at this instant (ISO 8601, e.g. 2026-11-30T00:00:00Z)."
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output file: .csv or .parquet.")
@store_option
def export_obligations(dataset_dir: Path, as_of: str, out: Path, db_path: Path | None) -> None:
    """Write one row per response obligation of DATASET_DIR as of --as-of (the contract's columns)."""
    from metrics.sla import export_obligations as run_export

    if out.suffix.lower() not in (".csv", ".parquet"):
        raise click.BadParameter("the output file must end in .csv or .parquet", param_hint="--out")
    moment = _as_of(as_of)
    store = _store_for(dataset_dir, db_path)
    started = time.perf_counter()
    con = connect(store, read_only=True)
    try:
        n = run_export(con, moment, out)  # type: ignore[arg-type]
    finally:
        con.close()
    click.echo(f"Wrote {n:,} obligations to {out} in {time.perf_counter() - started:.1f} s", err=True)


@main.command()
@click.argument("dataset_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--case", "case_id", required=True, help="The case to explain.")
@click.option(
    "--as-of", "as_of", default=None, help="Cut the data at this instant (default: the data's latest instant)."
)
@store_option
def explain(dataset_dir: Path, case_id: str, as_of: str | None, db_path: Path | None) -> None:
    """Explain every SLA clock of one case: intervals counted, pauses, severity pieces, verdict."""
    from metrics.explain import explain_case, format_explanations
    from metrics.freshness import latest_instant

    store = _store_for(dataset_dir, db_path)
    con = connect(store, read_only=True)
    try:
        moment = _as_of(as_of) if as_of else latest_instant(con)
        click.echo(format_explanations(case_id, explain_case(con, case_id, moment), moment))  # type: ignore[arg-type]
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
    from metrics import weekly as wk

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
            click.echo(f"error: no account has advisor {advisor!r}", err=True)
            sys.exit(2)
        try:
            updates = wk.weekly_updates(con, ids, week, details=fmt != "json")
        except wk.UnknownAccountError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
    finally:
        con.close()
    if advisor is None and out == "-":
        click.echo(wk.render(updates[0], fmt), nl=False)
        return
    if advisor is None:
        Path(out).write_text(wk.render(updates[0], fmt), encoding="utf-8")
        click.echo(f"Wrote {out}", err=True)
        return
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for update in updates:
        path = folder / wk.file_name(update, fmt)
        path.write_text(wk.render(update, fmt), encoding="utf-8")
        click.echo(f"Wrote {path}", err=True)


@main.group("import")
def import_group() -> None:
    """Turn a help desk's export into a dataset folder of the data contract (then `ingest` it)."""


def _register_importers() -> None:
    import importlib

    from metrics.imports import IMPORTERS

    for name in IMPORTERS:
        import_group.add_command(importlib.import_module(f"metrics.imports.{name}").command, name)


_register_importers()
