"""Shared helpers for the benchmarks: measured child processes, datasets, stores, tables.

Peak memory of a child is its own `VmHWM` (peak resident set of its address space), read
from /proc/self/status at exit by a tiny wrapper the child runs under. The kernel's
`ru_maxrss` (getrusage / wait4) is *not* used as the figure: on Linux a child started by
fork/vfork + exec inherits the parent's RSS high-water mark in `ru_maxrss`, so a child of a
big benchmark process would report the parent's size. It is still recorded as a fallback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
DEFAULT_WORKDIR = BENCH_DIR / "out"
PYTHON = sys.executable
SEED = 42  # the dataset seed (metrics.tools.sample's default)
MB = 1024 * 1024  # "MB" in the output is 2**20 bytes; 2 GB = 2048 MB

# Runs `-m module args...` or `path args...` and, at exit, writes its own peak RSS as JSON
# to $BENCH_PEAK_FILE. atexit handlers run on normal exit, sys.exit and uncaught exceptions.
_WRAPPER = r"""
import atexit, json, os, resource, runpy, sys
def _report(path=os.environ["BENCH_PEAK_FILE"]):
    hwm = None
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    with open(path, "w") as fh:
        json.dump({"vmhwm_kb": hwm, "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, fh)
atexit.register(_report)
kind, target, *args = sys.argv[1:]
if kind == "-m":
    sys.argv = [target, *args]
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    sys.argv = [target, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    runpy.run_path(target, run_name="__main__")
"""


# ---------------------------------------------------------------- machine and load


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine_line() -> str:
    """One line: cores, load average (another process may be competing) and versions."""
    import duckdb

    one, five, fifteen = load_average()
    return (
        f"machine: {os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min); "
        f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}"
    )


def code_snapshot() -> dict[str, str]:
    """Digest per source file of the code measured (metrics/ and the reference), by relative path."""
    files = [
        *(p for p in (PROJECT_ROOT / "metrics").rglob("*") if p.suffix in (".py", ".sql", ".toml")),
        PROJECT_ROOT / "tests" / "reference_sla.py",
    ]
    return {
        str(p.relative_to(PROJECT_ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        for p in sorted(files)
        if p.is_file()
    }


def code_line(snapshot: dict[str, str]) -> str:
    """One line identifying the code measured: a digest of its files and the newest file."""
    digest = hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()[:12]
    newest = max(snapshot, key=lambda name: (PROJECT_ROOT / name).stat().st_mtime)
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime((PROJECT_ROOT / newest).stat().st_mtime))
    return f"code: metrics/ + tests/reference_sla.py digest {digest}; newest file {newest} ({when})"


def code_changes(before: dict[str, str]) -> str | None:
    """A warning naming the files that changed since `before`, or None."""
    after = code_snapshot()
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if not changed:
        return None
    return "WARNING: project code changed during this run, figures may mix versions: " + ", ".join(changed)


# ---------------------------------------------------------------- measured children


@dataclass
class ChildResult:
    """A finished child process: wall and CPU time, its own peak RSS, output."""

    argv: list[str]
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the child (and any children it waited for)
    peak_kb: int  # VmHWM of the child; ru_maxrss if the wrapper could not report
    peak_source: str  # "VmHWM" or "ru_maxrss (may include the parent's RSS)"
    ru_maxrss_kb: int  # from wait4, for reference only
    load_before: float  # 1-minute load average when the child started
    load_after: float
    stdout: str
    stderr: str

    @property
    def peak_mb(self) -> float:
        return self.peak_kb * 1024 / MB

    @property
    def cpu_per_wall(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def check(self, what: str) -> ChildResult:
        """Exit with the child's stderr if it failed."""
        if self.returncode != 0:
            sys.stderr.write(self.stdout + self.stderr)
            raise SystemExit(f"{what} failed with exit status {self.returncode}")
        return self


def run_measured(target: Sequence[str]) -> ChildResult:
    """Run `target` (["-m", module, args...] or [script, args...]) in a fresh Python; measure it.

    Wall time spans start to exit as seen from here (interpreter start and imports
    included). The child is reaped with os.wait4, which gives its CPU time.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    kind = ["-m"] if target[0] == "-m" else ["path"]
    rest = list(target[1:]) if target[0] == "-m" else list(target)
    argv = [PYTHON, "-c", _WRAPPER, *kind, *rest]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        peak_file = Path(tmp) / "peak.json"
        env["BENCH_PEAK_FILE"] = str(peak_file)
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            load_before = load_average()[0]
            started = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        load_after = load_average()[0]
        peak = json.loads(peak_file.read_text()) if peak_file.exists() else {}
        stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    hwm = peak.get("vmhwm_kb")
    return ChildResult(
        argv=[*kind, *rest],
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_kb=hwm if hwm else usage.ru_maxrss,
        peak_source="VmHWM" if hwm else "ru_maxrss (may include the parent's RSS)",
        ru_maxrss_kb=usage.ru_maxrss,
        load_before=load_before,
        load_after=load_after,
        stdout=stdout,
        stderr=stderr,
    )


# ---------------------------------------------------------------- datasets and stores


def _generator_digest() -> str:
    """A digest of the generator's source: a changed generator invalidates cached datasets."""
    return hashlib.sha256((PROJECT_ROOT / "metrics" / "tools" / "sample.py").read_bytes()).hexdigest()[:16]


@dataclass
class Dataset:
    path: Path
    fmt: str
    cases: int
    counts: dict[str, int]  # rows written per table
    reused: bool
    seconds: float  # generation time (0 when reused)
    marker: dict[str, Any] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    @property
    def size_mb(self) -> float:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file()) / MB


def ensure_dataset(workdir: Path, cases: int, fmt: str) -> Dataset:
    """The dataset `workdir/dataset-{fmt}-{cases}`: reused if its marker matches, else generated.

    Generation runs `python -m metrics generate-sample` (metrics.tools.sample.generate_sample) in a
    child, so the benchmark process stays small.
    """
    folder = workdir / f"dataset-{fmt}-{cases}"
    marker_path = folder / ".bench-dataset.json"
    wanted = {"cases": cases, "seed": SEED, "fmt": fmt, "generator": _generator_digest()}
    if marker_path.exists():
        marker = json.loads(marker_path.read_text())
        if {k: marker.get(k) for k in wanted} == wanted and all(
            (folder / f"{t}.{fmt}").exists() for t in marker.get("counts", {})
        ):
            return Dataset(folder, fmt, cases, marker["counts"], reused=True, seconds=0.0, marker=marker)
    if folder.exists():
        shutil.rmtree(folder)
    workdir.mkdir(parents=True, exist_ok=True)
    run = run_measured(
        ["-m", "metrics", "generate-sample", "--out", str(folder), "--seed", str(SEED),
         "--cases", str(cases), "--format", fmt]
    ).check(f"generating {folder.name}")
    counts = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^\s+(\w+)\s+([\d,]+) rows$", run.stdout, re.M)}
    marker = {**wanted, "counts": counts}
    marker_path.write_text(json.dumps(marker, indent=1) + "\n")
    return Dataset(folder, fmt, cases, counts, reused=False, seconds=run.wall_s, marker=marker)


@dataclass
class IngestRun:
    child: ChildResult
    rows_read: dict[str, int]  # per table, from the CLI's report
    rows_stored: dict[str, int]
    quarantined: int
    inproc_s: float | None  # the CLI's own "Store: ... (x s)" figure

    @property
    def total_read(self) -> int:
        return sum(self.rows_read.values())


def remove_store(db: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)


def ingest_measured(dataset: Path, db: Path) -> IngestRun:
    """Load `dataset` into a fresh store `db` with `python -m metrics ingest --quiet`, measured."""
    remove_store(db)
    child = run_measured(["-m", "metrics", "ingest", str(dataset), "--db", str(db), "--quiet"])
    child.check(f"ingest of {dataset.name}")
    read: dict[str, int] = {}
    stored: dict[str, int] = {}
    for m in re.finditer(r"^\s+(\w+)\.\w+\s+([\d,]+) read\s+([\d,]+) stored$", child.stdout, re.M):
        read[m[1]] = int(m[2].replace(",", ""))
        stored[m[1]] = int(m[3].replace(",", ""))
    quarantined = re.search(r"^Quarantined ([\d,]+) rows", child.stdout, re.M)
    inproc = re.search(r"^Store: .* \(([\d.]+) s\)$", child.stdout, re.M)
    return IngestRun(
        child=child,
        rows_read=read,
        rows_stored=stored,
        quarantined=int(quarantined[1].replace(",", "")) if quarantined else 0,
        inproc_s=float(inproc[1]) if inproc else None,
    )


# ---------------------------------------------------------------- output


def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    """Aligned plain-text table: text columns left-aligned, numbers (as formatted text) right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        all(re.fullmatch(r"[-+]?[\d,.]+\s*[x%]?|-|n/a", r[i]) for r in cells[1:]) and len(cells) > 1
        for i in range(len(headers))
    ]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        return (indent + "  ".join(parts)).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
