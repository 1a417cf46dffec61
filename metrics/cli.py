"""The command line: `python -m metrics COMMAND`. Each command's docstring is its --help."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from metrics.errors import LoadError
from metrics.store import DEFAULT_DB


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
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=DEFAULT_DB, show_default=True,
              help="DuckDB store to load into (created if missing).")
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
