"""SLA engine benchmark: the engine over every case, a DuckDB sort floor, and the reference.

Uses the store `workdir/store-{cases}.duckdb` (built from the Parquet dataset of
bench/ingest.py if missing, with the engine's run stored as the dashboard's loads store it)
and the data's latest instant as as-of. Measures, each in
its own child process: (a) `metrics.engine.obligations.obligations_arrow` over all cases; (b) the floor,
DuckDB reading and sorting the responses by case and instant into Arrow. Then times the
pure-Python reference (tests/reference_sla.py) on a seeded sample of cases and checks
that engine and reference agree on them (a sanity check, not a test).

    python bench/sla.py [--cases 1000000] [--sample 300] [--save-rows OLD.parquet | --compare OLD.parquet]

`--save-rows` keeps the engine's whole output; `--compare` checks (a check, not a test) that
another version of the engine gives exactly those rows, every column, in the same order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from _measure import (  # noqa: E402
    DEFAULT_WORKDIR,
    ChildResult,
    code_changes,
    code_line,
    code_snapshot,
    ensure_dataset,
    fmt_int,
    machine_line,
    remove_store,
    run_measured,
    table,
    verdict,
)

FLOOR_SQL = 'select case_id, "at", author_type from responses order by case_id, "at"'
COMPARED = ("status", "deadline_at", "breached_at", "elapsed_seconds", "end_at")
SHOWN = ("kind", "package", "severity", "calendar", "target_seconds", "start_at")  # context for a disagreement
TARGET_RATIO = 5.0  # the engine within 5 times DuckDB's own read and sort of the responses
TARGET_SPEEDUP = 300.0
TARGET_PEAK_MB = 3 * 1024  # 3 GB
RESULT_TAG = "BENCH_RESULT "
SHOW_FIRST = 10
# A store is rebuilt when its dataset or one of these files changes (it holds the engine's run and the
# subjects' per-case tables).
LOADER_PREFIXES = ("metrics/storage/", "metrics/engine/", "metrics/subjects/")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the store (default 1,000,000)")
    parser.add_argument("--sample", type=int, default=300, help="cases run through the reference (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the reference sample (default 1)")
    parser.add_argument("--repeat", type=int, default=1, help="engine and floor runs per child; the fastest counts")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="datasets and stores (bench/out/)")
    parser.add_argument("--save-rows", dest="save_rows", type=Path,
                        help="write the engine's whole output to this Parquet file")
    parser.add_argument("--compare", type=Path,
                        help="compare the engine's whole output with this Parquet file (from --save-rows)")
    # Internal: what a measured child process runs.
    parser.add_argument("--child", choices=("engine", "floor", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", dest="as_of", help=argparse.SUPPRESS)
    parser.add_argument("--ids", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# ---------------------------------------------------------------- children


def _emit(result: dict[str, Any]) -> None:
    print(RESULT_TAG + json.dumps(result), flush=True)


def child_engine(args: argparse.Namespace) -> None:
    """Time obligations_arrow over all cases; write the sampled cases' rows to --out."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from metrics.engine.obligations import obligations_arrow
    from metrics.storage.store import connect

    con = connect(args.db, read_only=True)
    seconds = []
    result: Any = None
    for _ in range(args.repeat):
        result = None  # never hold two results at once
        started = time.perf_counter()
        result = obligations_arrow(con, args.as_of)
        seconds.append(time.perf_counter() - started)
    ids = pa.array(json.loads(args.ids.read_text()), pa.string())
    pq.write_table(result.filter(pc.is_in(result["case_id"], value_set=ids)), args.out)
    counts = pc.value_counts(result["status"]).to_pylist()
    if args.save_rows:
        pq.write_table(result, args.save_rows)
    _emit({
        "compare": compare_rows(result, pq.read_table(args.compare)) if args.compare else None,
        "rows": result.num_rows,
        "cases": pc.count_distinct(result["case_id"]).as_py(),
        "seconds": seconds,
        "statuses": {c["values"]: c["counts"] for c in counts},
    })


def compare_rows(new: Any, old: Any) -> dict[str, Any]:
    """Rows and columns where the engine's output `new` differs from a saved output `old` (same order expected)."""
    import pyarrow.compute as pc

    if new.schema != old.schema:
        return {"equal": False, "rows": [new.num_rows, old.num_rows], "schema": [str(new.schema), str(old.schema)]}
    if new.num_rows != old.num_rows:
        return {"equal": False, "rows": [new.num_rows, old.num_rows], "columns": {}}
    differing = {}
    for name in new.column_names:
        a, b = new[name].combine_chunks(), old[name].combine_chunks()
        same = a.equals(b)
        if not same:  # count the rows that differ (null on one side only, or different values)
            diff = pc.fill_null(pc.not_equal(a, b), True)
            both_null = pc.and_(pc.is_null(a), pc.is_null(b))
            differing[name] = pc.sum(pc.and_not(diff, both_null)).as_py() or 0
    return {"equal": not differing, "rows": [new.num_rows, old.num_rows], "columns": differing}


def child_floor(args: argparse.Namespace) -> None:
    """Time DuckDB reading and sorting the responses into Arrow; check the sort really ran."""
    import pyarrow.compute as pc

    from metrics.storage.store import connect

    con = connect(args.db, read_only=True)
    plan = "\n".join(str(cell) for row in con.execute("explain " + FLOOR_SQL).fetchall() for cell in row)
    seconds = []
    result: Any = None
    for _ in range(args.repeat):
        result = None
        started = time.perf_counter()
        result = con.sql(FLOOR_SQL).to_arrow_table()
        seconds.append(time.perf_counter() - started)
    # Outside the timing: is the output really in (case_id, at) order?
    flat = result.combine_chunks()
    n = flat.num_rows
    case_a, case_b = flat["case_id"].slice(0, n - 1), flat["case_id"].slice(1)
    at_a, at_b = flat["at"].slice(0, n - 1), flat["at"].slice(1)
    in_order = pc.or_(pc.less(case_a, case_b), pc.and_(pc.equal(case_a, case_b), pc.less_equal(at_a, at_b)))
    _emit({
        "rows": n,
        "seconds": seconds,
        "plan_sorts": "ORDER BY" in plan.upper().replace("_", " "),
        "sorted": bool(pc.all(in_order).as_py()) if n > 1 else True,
    })


def child_ingest(args: argparse.Namespace) -> None:
    """`python -m metrics ingest` with the engine imported: the store holds the engine's run, as the dashboard's do.

    The engine registers its run with ingest when imported; the CLI alone does not import it.
    """
    import metrics.engine  # noqa: F401
    from metrics.tools.cli import main as cli

    cli(["ingest", str(args.dataset), "--db", str(args.db), "--quiet"], standalone_mode=False)


def run_child(kind: str, args: argparse.Namespace, **extra: Path | str) -> tuple[ChildResult, dict[str, Any]]:
    argv = [str(Path(__file__).resolve()), "--child", kind, "--repeat", str(args.repeat)]
    for name, value in extra.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    child = run_measured(argv).check(f"the {kind} child")
    line = next(x for x in child.stdout.splitlines() if x.startswith(RESULT_TAG))
    return child, json.loads(line[len(RESULT_TAG):])


# ---------------------------------------------------------------- the store


def ensure_store(workdir: Path, cases: int) -> tuple[Path, Path, str]:
    """(store, dataset folder, how): the loaded store of `cases` cases, built from Parquet if missing or stale."""
    dataset = ensure_dataset(workdir, cases, "parquet")
    store = workdir / f"store-{cases}.duckdb"
    marker_path = workdir / f"store-{cases}.json"
    loader = {k: v for k, v in code_snapshot().items() if k.startswith(LOADER_PREFIXES)}
    marker = {"dataset": dataset.marker, "loader": loader}
    if store.exists() and marker_path.exists() and json.loads(marker_path.read_text()) == marker:
        return store, dataset.path, "reused"
    marker_path.unlink(missing_ok=True)
    remove_store(store)
    argv = [str(Path(__file__).resolve()), "--child", "ingest", "--dataset", str(dataset.path), "--db", str(store)]
    child = run_measured(argv).check(f"the ingest of {dataset.path.name}")
    marker_path.write_text(json.dumps(marker, indent=1) + "\n")
    how = f"built from {dataset.path.name} in {child.wall_s:.1f} s (the engine's run stored)"
    return store, dataset.path, how if dataset.reused else f"{how} (dataset generated in {dataset.seconds:.1f} s)"


# ---------------------------------------------------------------- the reference


def build_ref_cases(con: Any, case_ids: list[str]) -> list[Any]:
    """RefCases for `case_ids` from the store's rows (changes in file order)."""
    import pyarrow as pa

    from tests.reference_sla import RefCase

    utc = dt.UTC

    def instant(value: dt.datetime) -> dt.datetime:
        return value.astimezone(utc)

    def maybe(value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(utc) if value is not None else None

    cur = con.cursor()
    cur.execute("set TimeZone = 'UTC'")
    cur.register("bench_sample", pa.table({"case_id": pa.array(case_ids, pa.string())}))
    in_sample = "case_id in (select case_id from bench_sample)"
    accounts = f"account_id in (select account_id from cases where {in_sample})"
    cases = {
        row[0]: RefCase(
            case_id=row[0], account_id=row[1], region=row[2], opened_at=instant(row[3]),
            severity=int(row[4]), closed_at=maybe(row[5]),
        )
        for row in cur.execute(f"""
            select c.case_id, c.account_id, a.region, c.opened_at, c.severity, c.closed_at
            from cases c join accounts a using (account_id) where c.{in_sample} order by c.case_id
        """).fetchall()
    }
    for case_id, at, author_type, public in cur.execute(
        f'select case_id, "at", author_type, public from responses where {in_sample} order by case_id, "at"'
    ).fetchall():
        cases[case_id].responses.append((instant(at), author_type, public))
    for case_id, at, fld, value in cur.execute(
        f'select case_id, "at", field, value from case_changes where {in_sample} order by case_id, source_line'
    ).fetchall():
        cases[case_id].changes.append((instant(at), fld, value))
    subscriptions: dict[str, list[tuple[str, dt.date, dt.date]]] = {}
    for account_id, package, start, end in cur.execute(
        f"select account_id, package, start_date, end_date from subscriptions where {accounts} order by 1, 3"
    ).fetchall():
        subscriptions.setdefault(account_id, []).append((package, start, end))
    suspensions: dict[str, list[tuple[dt.datetime, dt.datetime | None]]] = {}
    for account_id, start, end in cur.execute(
        f"select account_id, suspended_from, suspended_to from standing where {accounts} order by 1, 2"
    ).fetchall():
        suspensions.setdefault(account_id, []).append((instant(start), maybe(end)))
    cur.close()
    for case in cases.values():
        case.subscriptions = list(subscriptions.get(case.account_id, []))
        case.suspensions = list(suspensions.get(case.account_id, []))
    return [cases[c] for c in case_ids if c in cases]


def time_reference(
    ref_cases: list[Any], config: dict[str, Any], as_of: dt.datetime, run: Callable[..., list[dict[str, Any]]]
) -> tuple[float, dict[tuple[str, int], dict[str, Any]], list[str]]:
    """(seconds inside the reference calls, rows by (case_id, seq), errors) for one pass."""
    total = 0.0
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    errors: list[str] = []
    for case in ref_cases:
        started = time.perf_counter()
        try:
            result = run(case, config, as_of)
        except Exception as exc:  # the reference may be unfinished: report, carry on
            total += time.perf_counter() - started
            errors.append(f"{case.case_id}: {type(exc).__name__}: {exc}")
            continue
        total += time.perf_counter() - started
        for row in result:
            rows[(row["case_id"], int(row["seq"]))] = row
    return total, rows, errors


# ---------------------------------------------------------------- comparison


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=dt.UTC)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _show(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "null" if value is None else str(value)


def compare(
    engine: dict[tuple[str, int], dict[str, Any]], ref: dict[tuple[str, int], dict[str, Any]], skip_cases: set[str]
) -> list[tuple[tuple[str, int], list[str]]]:
    """Obligations whose compared columns differ (or that only one side has), with what differs."""
    out = []
    for key in sorted(set(engine) | set(ref)):
        if key[0] in skip_cases:
            continue  # the reference failed on this case
        if key not in ref:
            out.append((key, ["only in engine"]))
        elif key not in engine:
            out.append((key, ["only in reference"]))
        else:
            diff = [c for c in COMPARED if _norm(engine[key].get(c)) != _norm(ref[key].get(c))]
            if diff:
                out.append((key, diff))
    return out


def describe(key: tuple[str, int], diff: list[str], engine: dict[Any, Any], ref: dict[Any, Any]) -> str:
    lines = [f"  {key[0]} seq {key[1]}: differs in {', '.join(diff)}"]
    for side, rows in (("engine", engine), ("reference", ref)):
        row = rows.get(key)
        text = "(no row)" if row is None else "  ".join(f"{c}={_show(row.get(c))}" for c in (*COMPARED, *SHOWN))
        lines.append(f"    {side:<9} {text}")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "engine":
        child_engine(args)
        return 0
    if args.child == "floor":
        child_floor(args)
        return 0
    if args.child == "ingest":
        child_ingest(args)
        return 0

    import pyarrow.parquet as pq

    from metrics.engine.freshness import latest_instant
    from metrics.storage.store import connect
    from tests.reference_sla import load_default_config, merge_config, reference_obligations

    workdir: Path = args.workdir.resolve()
    print(f"SLA benchmark: {fmt_int(args.cases)} cases, reference sample {args.sample} (seed {args.seed}), "
          f"workdir {workdir}")
    print(machine_line())
    code = code_snapshot()
    print(code_line(code))
    store, dataset_dir, how = ensure_store(workdir, args.cases)
    print(f"store: {store} ({how})")

    con = connect(store, read_only=True)
    as_of = latest_instant(con)
    con.execute("set TimeZone = 'UTC'")
    all_ids = [r[0] for r in con.execute("select case_id from cases where opened_at <= $a order by case_id",
                                         {"a": as_of}).fetchall()]
    con.close()
    sample = sorted(random.Random(args.seed).sample(all_ids, min(args.sample, len(all_ids))))
    del all_ids
    ids_file, sample_out = workdir / "sla-sample-ids.json", workdir / "sla-engine-sample.parquet"
    ids_file.write_text(json.dumps(sample))
    as_of_text = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"as of: {as_of_text} (metrics.engine.freshness.latest_instant)")

    print("(a) engine: obligations_arrow over all cases ...", flush=True)
    rows_args = {k: v.resolve() for k, v in (("save_rows", args.save_rows), ("compare", args.compare)) if v}
    engine_child, engine = run_child("engine", args, db=store, as_of=as_of_text, ids=ids_file, out=sample_out,
                                     **rows_args)
    print("(b) floor: " + FLOOR_SQL + " -> Arrow ...", flush=True)
    floor_child, floor = run_child("floor", args, db=store)

    print(f"(c) reference on {len(sample)} sampled cases ...", flush=True)
    with (dataset_dir / "config.toml").open("rb") as fh:
        config = merge_config(load_default_config(), tomllib.load(fh))
    con = connect(store, read_only=True)
    started = time.perf_counter()
    ref_cases = build_ref_cases(con, sample)
    build_s = time.perf_counter() - started
    con.close()
    cold_s, _, _ = time_reference(ref_cases, config, as_of, reference_obligations)  # fills calendar caches
    warm_s, ref_rows, errors = time_reference(ref_cases, config, as_of, reference_obligations)

    engine_rows = {(r["case_id"], int(r["seq"])): r for r in pq.read_table(sample_out).to_pylist()}
    failed_cases = {e.split(":")[0] for e in errors}
    disagreements = compare(engine_rows, ref_rows, failed_cases)

    # ---- figures
    engine_s, floor_s = min(engine["seconds"]), min(floor["seconds"])
    n_obl, n_ref = engine["rows"], len(ref_rows)
    engine_per = engine_s / n_obl if n_obl else float("nan")
    ref_per = warm_s / n_ref if n_ref else float("nan")
    ref_per_cold = cold_s / n_ref if n_ref else float("nan")
    ratio = engine_s / floor_s
    speedup = ref_per / engine_per
    peak_mb = max(engine_child.peak_mb, floor_child.peak_mb)

    print()
    print(table(["measure", "value", "target", ""], [
        ["engine obligations", fmt_int(n_obl), "", ""],
        ["engine cases", fmt_int(engine["cases"]), "", ""],
        ["engine seconds", f"{engine_s:.2f}", "", ""],
        ["engine obligations/s", fmt_int(n_obl / engine_s), "", ""],
        ["engine peak MB", f"{engine_child.peak_mb:,.0f}", "< 3 GB", verdict(engine_child.peak_mb < TARGET_PEAK_MB)],
        ["floor rows (responses)", fmt_int(floor["rows"]), "", ""],
        ["floor seconds", f"{floor_s:.2f}", "", ""],
        ["floor peak MB", f"{floor_child.peak_mb:,.0f}", "< 3 GB", verdict(floor_child.peak_mb < TARGET_PEAK_MB)],
        ["engine / floor", f"{ratio:.1f}x", f"<= {TARGET_RATIO:.0f}x", verdict(ratio <= TARGET_RATIO)],
        ["reference obligations", fmt_int(n_ref), "", ""],
        ["reference s/obligation", f"{ref_per * 1e3:.3f} ms", "", ""],
        ["engine s/obligation", f"{engine_per * 1e6:.2f} us", "", ""],
        ["speedup vs reference", f"{speedup:,.1f}x", ">= 300x", verdict(speedup >= TARGET_SPEEDUP)],
        ["disagreements", f"{len(disagreements)} of {fmt_int(len(set(engine_rows) | set(ref_rows)))}", "", ""],
        ["peak (all children)", f"{peak_mb:,.0f} MB", "< 3 GB", verdict(peak_mb < TARGET_PEAK_MB)],
    ]))
    print()
    print(table(["child", "in-child s", "wall s", "cpu/wall", "peak MB", "load1 start", "load1 end"], [
        [name, " ".join(f"{s:.2f}" for s in r["seconds"]), f"{c.wall_s:.2f}", f"{c.cpu_per_wall:.2f}",
         f"{c.peak_mb:,.0f}", f"{c.load_before:.2f}", f"{c.load_after:.2f}"]
        for name, c, r in (("engine", engine_child, engine), ("floor", floor_child, floor))
    ]))
    print()
    print("  engine statuses: " + ", ".join(f"{k} {fmt_int(v)}" for k, v in sorted(engine["statuses"].items())))
    print(f"  floor: sort in plan {'yes' if floor['plan_sorts'] else 'NO'}, "
          f"output in (case_id, at) order {'yes' if floor['sorted'] else 'NO'}")
    print(f"  reference: {len(ref_cases)} cases built from the store in {build_s:.2f} s; "
          f"{warm_s:.2f} s in reference_obligations (warm pass), {cold_s:.2f} s on the first pass "
          f"({ref_per_cold * 1e3:.3f} ms/obligation with empty calendar caches)")
    print("  seconds: time inside the child for the call alone (no interpreter start, imports or connect);"
          " the fastest of --repeat runs.")
    print("  speedup: reference seconds per obligation (warm) / engine seconds per obligation.")
    print("  peak MB: the child's VmHWM (MB = 2**20 bytes).")
    sources = {engine_child.peak_source, floor_child.peak_source}
    if sources != {"VmHWM"}:
        print(f"  peak source: {', '.join(sorted(sources))}")

    print()
    print(f"engine vs reference on {len(ref_cases)} sampled cases (columns {', '.join(COMPARED)}):")
    if errors:
        print(f"  the reference raised on {len(errors)} cases (left out of the comparison); first ones:")
        for e in errors[:SHOW_FIRST]:
            print(f"    {e}")
    if not disagreements:
        print(f"  no disagreements ({fmt_int(len(engine_rows))} engine rows, {fmt_int(n_ref)} reference rows)")
    else:
        by_column: dict[str, int] = {}
        for _, diff in disagreements:
            for c in diff:
                by_column[c] = by_column.get(c, 0) + 1
        cases_hit = len({k[0] for k, _ in disagreements})
        print(f"  {len(disagreements)} disagreeing obligations in {cases_hit} cases; by column: "
              + ", ".join(f"{c} {n}" for c, n in sorted(by_column.items())))
        for key, diff in disagreements[:SHOW_FIRST]:
            print(describe(key, diff, engine_rows, ref_rows))
    if args.save_rows:
        print(f"engine rows saved to {args.save_rows.name} ({fmt_int(n_obl)} rows)")
    if engine["compare"] is not None:
        check = engine["compare"]
        if check["equal"]:
            print(f"engine rows vs {args.compare.name}: identical "
                  f"({fmt_int(check['rows'][0])} rows, every column, same order)")
        else:
            print(f"engine rows vs {args.compare.name}: DIFFERENT: rows {check['rows'][0]} vs {check['rows'][1]}; "
                  + (f"schemas {check['schema']}" if "schema" in check else
                     "rows differing per column: " + ", ".join(f"{c} {n}" for c, n in check["columns"].items())))
    print(machine_line())
    if warning := code_changes(code):
        print(warning)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
