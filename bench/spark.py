"""The embedded engine against the engine on Spark (local mode), same Parquet dataset, same as-of.

Uses the generated Parquet dataset `workdir/dataset-parquet-{cases}` (bench/ingest.py's) and
the data's latest instant as as-of. Measures, each in its own child process:
(a) the embedded engine: the load (`ingest`, without the engine's stored run) then
`obligations_arrow` written to Parquet; (b) `python -m metrics export obligations ... --engine
spark --spark-master local[2]`, which reads, loads and computes inside the Spark tasks and
writes Parquet by account. Then checks (a check, not a test) that both wrote the same rows.

    python bench/spark.py [--cases 1000000] [--master local[2]] [--cases-per-group 50000]

Memory is the peak of the child's whole process tree (Spark's JVM and its Python workers
included), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _measure import DEFAULT_WORKDIR, PROJECT_ROOT, ensure_dataset, fmt_int, machine_line, table  # noqa: E402

MB = 1 << 20


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the dataset (default 1,000,000)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--cases-per-group", dest="cases_per_group", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="datasets and outputs (bench/out/)")
    parser.add_argument("--child", choices=("load", "engine"), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", dest="as_of", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child_load(args: argparse.Namespace) -> None:
    """The embedded load alone: the engine is not imported, so no stored run is computed."""
    from metrics.storage.ingest import ingest

    ingest(args.dataset, args.db)


def child_engine(args: argparse.Namespace) -> None:
    import pyarrow.parquet as pq

    from metrics.engine.obligations import obligations_arrow
    from metrics.storage.store import connect

    con = connect(args.db, read_only=True)
    pq.write_table(obligations_arrow(con, args.as_of), args.out, compression="zstd")


@dataclass
class Measured:
    wall_s: float
    peak_mb: float
    stderr: str


def tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and every process below it (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, pp in parents.items() if pp == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(p, 0) for p in tree)


def run(argv: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run a child Python with `argv`; its wall time and the peak RSS of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *argv], cwd=PROJECT_ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(stderr[-4000:])
        raise SystemExit(f"{argv[:3]} failed with exit status {proc.returncode}")
    return Measured(wall, peak * 1024 / MB, stderr)


def latest_instant(dataset: Path) -> dt.datetime:
    """The data's latest instant, as `ingest` would find it (the generated data has no bad rows)."""
    import duckdb

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    value = con.execute(f"""
        select greatest(
            (select max(opened_at) from '{dataset}/cases.parquet'),
            (select max(closed_at) from '{dataset}/cases.parquet'),
            (select max("at") from '{dataset}/responses.parquet'),
            (select max("at") from '{dataset}/case_changes.parquet'))
    """).fetchall()[0][0]
    con.close()
    return value.astimezone(dt.UTC)


def same_rows(embedded: Path, spark_out: Path) -> tuple[bool, int]:
    import duckdb

    from metrics.engine.obligations import EXPORT_COLUMNS
    from metrics.storage.obligation_files import obligations_source

    cols = ", ".join(f'"{c}"' for c in EXPORT_COLUMNS)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    n = con.execute(f"select count(*) from '{embedded}'").fetchall()[0][0]
    differing = con.execute(f"""
        select count(*) from (
            (select {cols} from '{embedded}' except all select {cols} from {obligations_source(spark_out)})
            union all
            (select {cols} from {obligations_source(spark_out)} except all select {cols} from '{embedded}'))
    """).fetchall()[0][0]
    con.close()
    return differing == 0, int(n)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "load":
        child_load(args)
        return 0
    if args.child == "engine":
        child_engine(args)
        return 0
    print(machine_line())
    dataset = ensure_dataset(args.workdir, args.cases, "parquet")
    print(f"dataset {dataset.path.name}: {fmt_int(dataset.total_rows)} rows, {dataset.size_mb:.0f} MB")
    as_of = latest_instant(dataset.path)
    stamp = f"{as_of:%Y-%m-%dT%H:%M:%SZ}"
    print(f"as of {stamp} (the data's latest instant)")
    work = args.workdir / f"spark-bench-{args.cases}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    me = str(Path(__file__).resolve())
    db, embedded_out, spark_out = work / "store.duckdb", work / "embedded.parquet", work / "spark"
    load = run([me, "--child", "load", "--dataset", str(dataset.path), "--db", str(db)])
    engine = run([me, "--child", "engine", "--db", str(db), "--as-of", stamp, "--out", str(embedded_out)])
    spark = run(["-m", "metrics", "export", "obligations", str(dataset.path), "--as-of", stamp, "--out",
                 str(spark_out), "--engine", "spark", "--spark-master", args.master,
                 "--cases-per-group", str(args.cases_per_group),
                 "--spark-conf", "spark.sql.shuffle.partitions=8", "--spark-conf", "spark.driver.memory=2g"])
    summary = next((line for line in spark.stderr.splitlines() if line.startswith("Wrote ")), "")
    equal, rows = same_rows(embedded_out, spark_out)
    embedded_s = load.wall_s + engine.wall_s
    print(table(
        ["what", "seconds", "cases/s", "peak MB"],
        [
            ["embedded: load (ingest, no stored run)", f"{load.wall_s:.1f}", "", f"{load.peak_mb:,.0f}"],
            ["embedded: engine, written to Parquet", f"{engine.wall_s:.1f}", "", f"{engine.peak_mb:,.0f}"],
            ["embedded: load + engine", f"{embedded_s:.1f}", fmt_int(args.cases / embedded_s),
             f"{max(load.peak_mb, engine.peak_mb):,.0f}"],
            [f"spark {args.master}: read, load, engine, write", f"{spark.wall_s:.1f}",
             fmt_int(args.cases / spark.wall_s), f"{spark.peak_mb:,.0f}"],
        ],
    ))
    print(f"spark: {summary}")
    print(f"spark / embedded: {spark.wall_s / embedded_s:.2f}x the time")
    print(f"same rows, every column: {'yes' if equal else 'NO'} ({fmt_int(rows)} obligations)")
    print(machine_line())
    shutil.rmtree(work, ignore_errors=True)
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
