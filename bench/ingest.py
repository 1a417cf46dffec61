"""Ingest benchmark: load N generated cases from Parquet and from CSV, each into a fresh store.

Each load runs `python -m metrics ingest DATASET --db STORE --quiet` in its own child
process; the table shows wall time (child start to exit), rows read over all tables,
rows/s, the child's peak RSS and the targets. See bench/README.md.

    python bench/ingest.py [--cases 1000000] [--workdir bench/out] [--keep]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _measure import (  # noqa: E402
    DEFAULT_WORKDIR,
    MB,
    Dataset,
    IngestRun,
    code_changes,
    code_line,
    code_snapshot,
    ensure_dataset,
    fmt_int,
    ingest_measured,
    machine_line,
    remove_store,
    table,
    verdict,
)

TARGET_ROWS_PER_S = {"parquet": 1_000_000, "csv": 300_000}
TARGET_PEAK_MB = 2 * 1024  # 2 GB


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to generate (default 1,000,000)")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="datasets and stores (bench/out/)")
    parser.add_argument("--keep", action="store_true", help="keep the loaded stores (ingest-{fmt}-{cases}.duckdb)")
    return parser.parse_args(argv)


def describe_dataset(ds: Dataset) -> str:
    how = "reused" if ds.reused else f"generated in {ds.seconds:.1f} s"
    return f"  {ds.fmt:<8} {ds.path} ({how}; {fmt_int(ds.total_rows)} rows, {ds.size_mb:,.0f} MB on disk)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir: Path = args.workdir.resolve()
    print(f"ingest benchmark: {fmt_int(args.cases)} cases, workdir {workdir}")
    print(machine_line())
    code = code_snapshot()
    print(code_line(code))

    print("datasets:")
    datasets: dict[str, Dataset] = {}
    for fmt in ("parquet", "csv"):
        datasets[fmt] = ensure_dataset(workdir, args.cases, fmt)
        print(describe_dataset(datasets[fmt]), flush=True)

    runs: dict[str, IngestRun] = {}
    for fmt, ds in datasets.items():
        db = workdir / f"ingest-{fmt}-{args.cases}.duckdb"
        print(f"loading {fmt} into {db.name} ...", flush=True)
        runs[fmt] = ingest_measured(ds.path, db)
        if not args.keep:
            remove_store(db)

    print()
    print("rows read per table:")
    tables = list(runs["parquet"].rows_read)
    print(table(["table", *runs], [[t, *(fmt_int(r.rows_read.get(t, 0)) for r in runs.values())] for t in tables]))
    mismatched = [fmt for fmt, r in runs.items() if r.rows_read != datasets[fmt].counts]
    if mismatched:
        print(f"  note: rows read differ from rows generated for {', '.join(mismatched)}")
    for fmt, r in runs.items():
        if r.quarantined:
            print(f"  note: {fmt} load quarantined {fmt_int(r.quarantined)} rows")

    print()
    rows = []
    for fmt, r in runs.items():
        c = r.child
        rate = r.total_read / c.wall_s
        rows.append([
            fmt,
            fmt_int(r.total_read),
            f"{c.wall_s:.2f}",
            f"{r.inproc_s:.1f}" if r.inproc_s is not None else "n/a",
            fmt_int(rate),
            f"{c.peak_mb:,.0f}",
            f"{c.cpu_per_wall:.2f}",
            f"{c.load_before:.2f}",
            f">= {fmt_int(TARGET_ROWS_PER_S[fmt])}",
            verdict(rate >= TARGET_ROWS_PER_S[fmt]),
            verdict(c.peak_kb * 1024 < TARGET_PEAK_MB * MB),
        ])
    print(table(
        ["format", "rows read", "seconds", "cli s", "rows/s", "peak MB", "cpu/wall", "load1",
         "target rows/s", "rate", "peak < 2 GB"],
        rows,
    ))
    print()
    print("  seconds: wall time of the child (interpreter start to exit); rows/s = rows read / seconds.")
    print("  cli s: the CLI's own load time (excludes interpreter start and imports).")
    print("  peak MB: the child's VmHWM (MB = 2**20 bytes). cpu/wall: CPU seconds per wall second (2 cores = 2.00).")
    print("  load1: 1-minute load average when the child started.")
    sources = {r.child.peak_source for r in runs.values()}
    if sources != {"VmHWM"}:
        print(f"  peak source: {', '.join(sorted(sources))}")
    print(machine_line())
    if warning := code_changes(code):
        print(warning)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
