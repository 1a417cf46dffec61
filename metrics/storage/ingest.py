"""Load a dataset folder into the store: parse, validate, quarantine, merge, in one transaction.

Every table file is read by DuckDB as text (CSV) or native types (Parquet, JSONL),
parsed column by column into the contract's types, and checked set-wise in SQL. A row
that fails a check is quarantined with its file, line and reason; a problem with the
whole file (missing table or column, naive timestamps without a source timezone, an
unknown calendar or package) stops the load with one sentence and changes nothing.
Rows whose key is already stored replace it, so loading the same files twice is a no-op.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from metrics.errors import LoadError
from metrics.safe_text import terminal
from metrics.sqlfiles import literal
from metrics.storage.config import Config, load_config, show_value
from metrics.storage.contract import BY_NAME, EXPECTED, FORMATS, STATUSES, STORED_TYPE, TABLES, Column, Table
from metrics.storage.obligation_files import obligations_digest, store_given
from metrics.storage.store import (
    DEFAULT_DB,
    SAMPLE_DIR,
    check_store_path,
    connect,
    ensure_schema,
    load_lock,
    next_path,
    publish,
    remove_store,
)

Progress = Callable[[str, int, int], None]

# An instant written with an explicit offset: date, time, then Z or +hh[:mm] / -hh[:mm].
_OFFSET_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*([Zz]|[+-]\d{2}(:?\d{2})?)$"
_NAIVE_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE")
_SEP = "chr(31)"  # unit separator between key parts
STORE_FORMAT = 4  # part of every fingerprint: a store written by an older loader is rebuilt
# 3: the store holds the engine's run at the data's latest instant (sla_run* tables);
# 4: its rows by settled_at, the format recorded in sla_run (an older run is never read)

# What a load derives from the loaded rows before it publishes: the engine registers its stored
# run here (metrics/engine/__init__.py), since storage never imports the layers above it.
PublishStep = Callable[[duckdb.DuckDBPyConnection], None]
_BEFORE_PUBLISH: list[tuple[str, PublishStep]] = []


def before_publish(what: str, step: PublishStep) -> None:
    """Run `step` on every store a load builds, after its rows are merged (`what` for the progress)."""
    if all(existing is not step for _, existing in _BEFORE_PUBLISH):
        _BEFORE_PUBLISH.append((what, step))


@dataclass
class LoadReport:
    """What one load read, stored and quarantined."""

    dataset: str
    files: dict[str, str] = field(default_factory=dict)  # table -> file name
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_stored: dict[str, int] = field(default_factory=dict)
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)  # (file, rule) -> rows
    # (file, rule) -> the first such row's "line N: reason", which quotes the offending value
    examples: dict[tuple[str, str], str] = field(default_factory=dict)
    mode: str = "mirror"  # or "append"
    unchanged: bool = False  # the store already held exactly these files: nothing was done

    @property
    def total_quarantined(self) -> int:
        return sum(self.quarantined.values())

    def summary(self) -> str:
        """The report the CLI prints: per table read/stored, then quarantined rows by reason."""
        if self.unchanged:
            return f"Unchanged: the store already holds exactly the files of {self.dataset}; nothing to load."
        how = "appended to the stored rows (keyed upsert)" if self.mode == "append" else "the store now mirrors it"
        lines = [f"Loaded {self.dataset} ({how})"]
        for table, file in self.files.items():
            lines.append(
                f"  {file:<24} {self.rows_read[table]:>10,} read {self.rows_stored[table]:>10,} stored"
            )
        if self.quarantined:
            lines.append(f"Quarantined {self.total_quarantined:,} rows:")
            for (file, rule), n in sorted(self.quarantined.items()):
                lines.append(f"  {file:<24} {rule:<20} {n:>8,}")
                if (file, rule) in self.examples:
                    lines.append(f"    first: {terminal(self.examples[(file, rule)])}")
        else:
            lines.append("No rows quarantined.")
        return "\n".join(lines)


def ingest(
    dataset_dir: Path | str,
    db_path: Path | str,
    strict: bool = False,
    progress: Progress | None = None,
    append: bool = False,
    lock_timeout: float | None = None,
    obligations: Path | str | None = None,
) -> LoadReport:
    """Load every contract table of `dataset_dir` into the store at `db_path`.

    By default the store mirrors the folder afterwards (rows absent from it are gone,
    corrected rows replace the old ones); `append` adds the folder to what is stored
    (keyed upsert), for delta exports. The new version is built beside the store and
    published atomically, so a failure anywhere leaves the published store as it was.
    Raises LoadError on a fatal problem, or on any quarantined row when `strict` is set.
    `obligations` names a folder of obligations a cluster computed for this data
    (metrics/storage/obligation_files.py): the engine's stored run takes them instead of
    computing them, once it has checked that they fit.
    """
    folder = Path(dataset_dir).resolve()
    if not folder.is_dir():
        raise LoadError(f"{Path(dataset_dir).name}: not a folder (a dataset is a folder of table files)")
    path = check_store_path(db_path)
    config = load_config(folder)
    files = _find_files(folder)
    mode = "append" if append else "mirror"
    report = LoadReport(dataset=folder.name, files={t: p.name for t, p in files.items()}, mode=mode)
    with load_lock(path, lock_timeout):
        digest = fingerprint(folder)
        if obligations is not None:  # the same data with other obligations is another load
            digest = hashlib.sha256((digest + obligations_digest(Path(obligations))).encode()).hexdigest()
        if _already_loaded(path, digest, mode):
            report.unchanged = True
            return report
        building = next_path(path)
        remove_store(building)  # a version an earlier, killed load left half-built
        try:
            given = Path(obligations) if obligations is not None else None
            _build(building, path, folder, files, config, report, strict, progress, digest, given)
            publish(building, path)
        except BaseException:
            remove_store(building)
            raise
    return report


def ensure_store(db_path: Path | str = DEFAULT_DB, dataset_dir: Path | str = SAMPLE_DIR) -> Path:
    """Build the store from the bundled sample on first start; an existing store is kept as is.

    It lives here, not in `store`, because it loads: `ingest` imports `store`, never the reverse.
    """
    path = Path(db_path)
    if not path.exists():
        ingest(dataset_dir, path)
    return path


def _build(
    building: Path,
    published: Path,
    folder: Path,
    files: dict[str, Path],
    config: Config,
    report: LoadReport,
    strict: bool,
    progress: Progress | None,
    digest: str,
    obligations: Path | None = None,
) -> None:
    """Write the next version of the store into `building`: the published rows (append) + the folder."""
    con = connect(building)
    try:
        ensure_schema(con)
        _carry_over(con, published, data=report.mode == "append")
        # Parsing and checks run on temp tables; the merge is one transaction.
        steps = _Steps(len(files) * 2 + len(_BEFORE_PUBLISH) + 1, progress or (lambda *_: None))
        _stage_all(con, files, config, report, strict, steps)
        con.execute("set preserve_insertion_order = false")  # stored rows need no order
        con.begin()
        try:
            _merge_all(con, folder, files, config, report, steps, digest)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        if obligations is not None:
            store_given(con, obligations)
        for what, step in _BEFORE_PUBLISH:
            steps(what)
            step(con)
        steps("done")
        con.execute("checkpoint")
    finally:
        con.close()


def _carry_over(con: duckdb.DuckDBPyConnection, published: Path, data: bool) -> None:
    """Copy the load history (and, when appending, every stored row) from the published store."""
    if not published.exists():
        return
    con.execute(f"attach {literal(str(published))} as published (read_only)")
    try:
        tables = ["loads"] + ([t.name for t in TABLES] + ["quarantine", "settings"] if data else [])
        present = {
            r[0] for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'published'"
            ).fetchall()
        }
        for table in tables:
            if table in present:
                con.execute(f"insert into main.{table} by name select * from published.main.{table}")
    finally:
        con.execute("detach published")


def _already_loaded(db_path: Path, digest: str, mode: str) -> bool:
    """True when loading would change nothing: the latest load was of these very files.

    A mirror is a no-op only after a mirror of the same files; an append of files
    already upserted by the latest load changes nothing either.
    """
    if not db_path.exists():
        return False
    try:
        con = connect(db_path, read_only=True)
    except duckdb.Error:
        return False
    try:
        rows = con.execute("select fingerprint, mode from loads order by loaded_at desc limit 1").fetchall()
    except duckdb.Error:
        return False
    finally:
        con.close()
    if not rows or rows[0][0] != digest:
        return False
    return mode == "append" or rows[0][1] == "mirror"


def fingerprint(folder: Path) -> str:
    """A hash of the contents of a dataset's files (and the store's format): equal means nothing changed.

    The format includes the steps registered to run before publishing, so a store built
    without the engine's run (by a process that never imported the engine) is rebuilt by
    the next load that has it.
    """
    steps = ",".join(f"{step.__module__}.{step.__qualname__}" for _, step in _BEFORE_PUBLISH)
    digest = hashlib.sha256(f"store-format-{STORE_FORMAT}+{steps}".encode())
    files = sorted(p for p in folder.iterdir() if p.is_file() and (p.suffix in FORMATS or p.name == "config.toml"))
    for p in files:
        with p.open("rb") as f:
            digest.update(p.name.encode() + b"\0" + hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def is_loaded(dataset_dir: Path | str, db_path: Path | str) -> bool:
    """True when the store mirrors exactly the files of `dataset_dir` (so a reload would change nothing)."""
    return _already_loaded(Path(db_path), fingerprint(Path(dataset_dir).resolve()), "mirror")


def _find_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for table in TABLES:
        candidates = [folder / f"{table.name}{ext}" for ext in FORMATS if (folder / f"{table.name}{ext}").exists()]
        if len(candidates) > 1:
            names = " and ".join(p.name for p in candidates)
            raise LoadError(f"{folder.name}: both {names} exist; keep one file per table")
        if candidates:
            found[table.name] = candidates[0]
        elif table.required:
            raise LoadError(
                f"{folder.name}: required table '{table.name}' is missing "
                f"(expected {table.name}.csv, {table.name}.parquet or {table.name}.jsonl)"
            )
    return found


@dataclass
class _Steps:
    """Counts progress steps for the CLI and the Data page's progress bar."""

    total: int
    report: Progress
    done: int = 0

    def __call__(self, what: str) -> None:
        self.report(what, self.done, self.total)
        self.done += 1


def _stage_all(
    con: duckdb.DuckDBPyConnection,
    files: dict[str, Path],
    config: Config,
    report: LoadReport,
    strict: bool,
    steps: _Steps,
    sources: dict[str, str] | None = None,
) -> None:
    """Stage every table (from its file, or from the relation `sources` names) and run the row checks."""
    for table in TABLES:  # contract order: accounts before the cases that name them
        if table.name in files:
            steps(f"reading {files[table.name].name}")
            source = (sources or {}).get(table.name)
            report.rows_read[table.name] = _stage(con, table, files[table.name], config, source)
    _check_fatal(con, files, config)
    _check_rows(con, files)
    for table in TABLES:
        if table.name in files:
            for rule, n, line, reason in con.execute(
                f"select rule, count(*), arg_min(__line, __line), arg_min(reason, __line)"
                f" from stg_{table.name} where rule is not null group by rule"
            ).fetchall():
                report.quarantined[(files[table.name].name, rule)] += n
                report.examples[(files[table.name].name, rule)] = f"{_where(files[table.name], line)}: {reason}"
    if strict and report.quarantined:
        first = _first_quarantined(con, files)
        raise LoadError(f"--strict: {report.total_quarantined:,} rows would be quarantined; first: {first}")


def _merge_all(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    files: dict[str, Path],
    config: Config,
    report: LoadReport,
    steps: _Steps,
    digest: str,
) -> None:
    for table in TABLES:
        if table.name in files:
            steps(f"storing {table.name}")
            report.rows_stored[table.name] = _merge(con, table, folder, files[table.name].name)
    _check_overrides(con, files, config)
    con.execute(
        "insert into loads values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dt.datetime.now(dt.UTC),
            folder.name,
            ", ".join(p.name for p in files.values()),
            sum(report.rows_read.values()),
            sum(report.rows_stored.values()),
            report.total_quarantined,
            digest,
            report.mode,
        ],
    )
    con.execute("insert or replace into settings values ('config', ?)", [config.to_json()])


def load_arrow(
    con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table], config: Config, dataset: str, strict: bool = False
) -> LoadReport:
    """Load contract tables handed over as Arrow into the store on `con`, as a folder's files would be.

    Each table holds its columns as read (any types the files may have) and `__line`, the
    position of each row in its source (file order decides ties and which duplicate wins).
    The same parsing, checks and quarantine run as for a folder, so a cluster task that loads
    its share of a data lake this way computes on exactly the rows `ingest` would store.
    Nothing of the load history is written. Raises LoadError as `ingest` does.
    """
    ensure_schema(con)
    files = {name: Path(f"{name}.parquet") for name in tables}  # how messages name each table
    report = LoadReport(dataset=dataset, files={name: path.name for name, path in files.items()})
    sources = {}
    for name, table in tables.items():
        sources[name] = f"arrow_{name}"
        con.register(sources[name], table)
    try:
        _stage_all(con, files, config, report, strict, _Steps(0, lambda *_: None), sources)
        for spec in TABLES:
            if spec.name in files:
                report.rows_stored[spec.name] = _merge(con, spec, Path(dataset), files[spec.name].name)
    finally:
        for name in sources.values():
            con.unregister(name)
    return report


# ---------------------------------------------------------------- reading and parsing


def _read_raw(con: duckdb.DuckDBPyConnection, table: Table, path: Path) -> tuple[str, str]:
    """The SQL source of a file's rows (aliased __raw later) and the SQL of each row's line.

    Parquet is read in place (it knows its row numbers); CSV and JSONL are copied into a
    temp table first, whose row ids follow the file's order.
    """
    raw = f"raw_{table.name}"
    header = _check_text_file(path, table) if path.suffix in (".csv", ".jsonl") else []
    try:
        if path.suffix == ".parquet":
            source = (
                "(select * exclude (file_row_number), file_row_number + 1 as __line"
                f" from read_parquet({literal(str(path))}, file_row_number = true))"
            )
            con.execute(f"describe select * from {source}").fetchall()  # unreadable files fail here
            return source, "__line"
        if path.suffix == ".csv":
            # The header is taken as read, not sniffed: one broken line (an unterminated quote)
            # must not change how every other line is split.
            columns = "{" + ", ".join(f"{literal(name)}: 'VARCHAR'" for name in header) + "}"
            con.execute(
                f"create or replace temp table {raw} as select * from read_csv(?, columns = {columns},"
                f" auto_detect = false, header = true, delim = ',', quote = '\"', escape = '\"',"
                f" store_rejects = true, rejects_table = 'rej_{table.name}',"
                f" rejects_scan = 'rejscan_{table.name}')",
                [str(path)],
            )
            return raw, _csv_line_expr(con, table)
        con.execute(
            f"create or replace temp table {raw} as select * from read_json(?, format = 'newline_delimited')",
            [str(path)],
        )
        return raw, "(__raw.rowid + 1)"
    except duckdb.Error as exc:
        detail = _shorten(str(exc).strip().splitlines()[0].replace(str(path), path.name), 200)
        raise LoadError(f"{path.name}: could not be read as {path.suffix[1:].upper()} ({detail})") from None


_SNIFF_BYTES = 1 << 16
_MAX_HEADER_BYTES = 1 << 24


def _check_text_file(path: Path, table: Table) -> list[str]:
    """CSV and JSONL are UTF-8 text: say so plainly instead of a misleading 'missing column'.

    Also refuses a CSV header that names a column twice (DuckDB would rename the
    second copy and one of the two values would be silently ignored).
    """
    kind = path.suffix[1:].upper()
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as exc:
        raise LoadError(f"{path.name}: could not be read ({exc.strerror or type(exc).__name__})") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(f"{path.name}: is UTF-16 text; expected UTF-8 {kind} (save it as UTF-8)")
    if b"\x00" in head:
        raise LoadError(f"{path.name}: is not a text file (it contains NUL bytes); expected UTF-8 {kind}")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head.removeprefix(b"\xef\xbb\xbf"), final=False)
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path.name}: is not UTF-8 text (byte {exc.start + 1}); expected UTF-8 {kind}") from None
    if not head.strip():
        raise LoadError(f"{path.name}: is empty; expected a header line naming the columns")
    if path.suffix != ".csv":
        return []
    with path.open("rb") as f:
        first_line = f.readline(_MAX_HEADER_BYTES)  # a wide header may be longer than the sniffed head
    first = first_line.rstrip(b"\n").removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    try:
        header = [h.strip() for h in next(csv.reader([first.rstrip("\r")]))]
    except (csv.Error, StopIteration):
        raise LoadError(f"{path.name}, line 1: expected a header line of column names") from None
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise LoadError(f"{path.name}, line 1: the header names column '{_shorten(name, 40)}' twice")
        seen.add(name)
    return [name or f"column{i}" for i, name in enumerate(header)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _csv_line_expr(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    """Lines of accepted CSV rows: rowid + 2 (header is line 1), shifted past rejected lines.

    A rejected line L_i (i-th, from 0) sits where accepted row L_i - 2 - i would be, so
    every accepted row from that slot on moves one line down: an ASOF join counts them.
    """
    if not con.execute(f"select count(*) from rej_{table.name}").fetchall()[0][0]:
        return "(__raw.rowid + 2)"
    con.execute(
        f"create or replace temp table slots_{table.name} as"
        f" select line - 2 - (row_number() over (order by line) - 1) as slot,"
        f" row_number() over (order by line) as shift from rej_{table.name}"
    )
    return (
        f"(__raw.rowid + 2 + coalesce((select max(s.shift) from slots_{table.name} s"
        " where s.slot <= __raw.rowid), 0))"
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_TEXT_TYPES = ("VARCHAR", "JSON")
BLANKS = " \t\r\n\u00a0"  # trimmed from text values: spaces, tabs, stray line ends, no-break spaces


def _text(q: str, src_type: str) -> str:
    """The value as trimmed text, NULL when empty (JSON values lose their quotes)."""
    value = f"({q} ->> '$')" if src_type == "JSON" else f"cast({q} as varchar)"
    return f"nullif(trim({value}, {literal(BLANKS)}), '')"


def _whole_seconds(ts: str) -> str:
    """Drop sub-second parts (epoch arithmetic: date_trunc on TIMESTAMPTZ is ~8x slower)."""
    return f"make_timestamptz(epoch_us({ts}) // 1000000 * 1000000)"


def _parse_expr(col: Column, q: str, src_type: str, source_tz: str | None) -> str:
    """SQL turning column `q` into the contract type, NULL where it cannot be parsed.

    Text sources arrive already trimmed (NULL when empty); native Parquet/JSON types
    are used as they are where they already fit.
    """
    kind = col.kind
    text = q if src_type in _TEXT_TYPES else f"cast({q} as varchar)"
    if kind == "text":
        return text
    if kind == "timestamp":
        if src_type.startswith("TIMESTAMP WITH TIME ZONE"):
            return _whole_seconds(q)
        if src_type in _NAIVE_TYPES:
            tz = literal(source_tz or "UTC")  # no source timezone is a fatal error, checked before
            return _whole_seconds(f"timezone({tz}, cast({q} as timestamp))")
        local = f"timezone({literal(source_tz)}, try_cast({text} as timestamp))" if source_tz else None
        naive = _whole_seconds(local) if local else "null"
        return (
            f"case when regexp_matches({text}, {literal(_OFFSET_RE)})"
            f" then {_whole_seconds(f'try_cast({text} as timestamptz)')} else {naive} end"
        )
    if kind == "date":
        if src_type == "DATE":
            return q
        return f"try_cast(try_strptime({text}, '%Y-%m-%d') as date)"
    if kind == "bool":
        if src_type == "BOOLEAN":
            return q
        return (
            f"case when lower({text}) in ('true', 't', 'yes', 'y', '1') then true"
            f" when lower({text}) in ('false', 'f', 'no', 'n', '0') then false end"
        )
    if kind == "severity":
        return f"(case when try_cast({text} as tinyint) in (1, 2, 3) then try_cast({text} as tinyint) end)"
    if kind == "number":
        return f"(case when try_cast({text} as double) >= 0 then try_cast({text} as double) end)"
    if kind == "author_type":
        return f"(case when lower({text}) in ('agent', 'customer') then lower({text}) end)"
    if kind == "field":
        return f"(case when lower({text}) in ('severity', 'status', 'escalation') then lower({text}) end)"
    raise ValueError(kind)


# Instants and dates the app can show and compute on: anything else is a typo or a placeholder.
SUPPORTED_RANGE = "1970-01-01..2100-12-31"
_RANGE_BOUNDS = {
    "timestamp": ("timestamptz '1970-01-01 00:00:00+00'", "timestamptz '2101-01-01 00:00:00+00'"),
    "date": ("date '1970-01-01'", "date '2101-01-01'"),
}
# The offset at the end of a text instant, after its time of day: sign, hours, optional minutes.
_OFFSET_PARTS_RE = r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[+-](\d{2}):?(\d{2})?$"


def _offset_too_large(text: str) -> str:
    """SQL: the text ends in an offset beyond +-14:00 or with minutes past 59.

    DuckDB would accept such an offset and shift the instant by it (`+99:99` moves it four days).
    """
    pattern = literal(_OFFSET_PARTS_RE)
    hours = f"try_cast(regexp_extract({text}, {pattern}, 3) as integer)"
    minutes = f"coalesce(try_cast(nullif(regexp_extract({text}, {pattern}, 4), '') as integer), 0)"
    return f"(regexp_matches({text}, {pattern}) and ({hours} * 60 + {minutes} > 14 * 60 or {minutes} > 59))"


def _stage(
    con: duckdb.DuckDBPyConnection, table: Table, path: Path, config: Config, source: str | None = None
) -> int:
    """Read and parse one file into stg_<table>: contract columns, extra, __line, rule, reason, record.

    `source` names a relation already holding the rows (with their positions in `__line`)
    instead of reading `path`, which then only names the table in messages.
    """
    raw, line_expr = (source, "__line") if source else _read_raw(con, table, path)
    described = con.execute(f"describe select * from {raw}").fetchall()
    src_types = {row[0]: row[1] for row in described if row[0] != "__line"}
    missing = [c.name for c in table.columns if c.required and c.name not in src_types]
    if missing:
        # The header's names are not echoed: the file may not be the dataset's own (a link).
        raise LoadError(
            f"{path.name}: missing required column '{missing[0]}' "
            f"(expected columns: {', '.join(table.column_names)}; the header has {len(src_types):,} other columns)"
        )
    present = [c for c in table.columns if c.name in src_types]
    _check_naive(con, raw, line_expr, path, present, src_types, config.source_timezone)
    con.execute(_stage_sql(table, raw, line_expr, present, src_types, config.source_timezone))
    if path.suffix == ".csv":  # rows DuckDB could not split into the header's columns
        con.execute(
            f"insert into stg_{table.name} (__line, rule, reason, record)"
            f" select line, 'malformed_row', error_type || ': ' || error_message, to_json(csv_line)"
            f" from rej_{table.name}"
        )
    n = con.execute(f"select count(*) from stg_{table.name}").fetchall()[0][0]
    con.execute(f"drop table if exists raw_{table.name}")
    return int(n)


def _stage_sql(
    table: Table, raw: str, line_expr: str, present: list[Column], src_types: dict[str, str], source_tz: str | None
) -> str:
    """Stage SQL: raw (text trimmed once) -> typed (contract types) -> checked (first problem of the row)."""
    raw_cols = [
        (_text(f"__raw.{_q(c.name)}", src_types[c.name]) if src_types[c.name] in _TEXT_TYPES else f"__raw.{_q(c.name)}")
        + f" as __raw_{c.name}"
        for c in present
    ]
    extras = [name for name in src_types if name not in table.column_names]
    extra = "to_json(struct_pack(" + ", ".join(f"{_q(n)} := __raw.{_q(n)}" for n in extras) + "))" if extras else "null"
    typed = [f"{_parse_expr(c, f'__raw_{c.name}', src_types[c.name], source_tz)} as {_q(c.name)}" for c in present]
    typed += [f"cast(null as {STORED_TYPE[c.kind]}) as {_q(c.name)}" for c in table.columns if c not in present]
    problems = []
    for c in present:
        raw_text = f"cast(__raw_{c.name} as varchar)"
        if c.kind == "timestamp" and src_types[c.name] in _TEXT_TYPES:
            offset_reason = literal(f"column {c.name}: the offset of '") + f" || {raw_text} || " + literal(
                "' is beyond +-14:00 (expected an offset such as Z, +02:00 or -07:00)"
            )
            problems.append(
                f"when {_offset_too_large(f'__raw_{c.name}')} then {{'rule': 'bad_offset', 'reason': {offset_reason}}}"
            )
        expected = literal(f"column {c.name}: expected {EXPECTED[c.kind]}, got '")
        problems.append(
            f"when {_q(c.name)} is null and __raw_{c.name} is not null then"
            f" {{'rule': 'bad_value', 'reason': {expected} || {raw_text} || ''''}}"
        )
        if c.kind in _RANGE_BOUNDS:
            low, high = _RANGE_BOUNDS[c.kind]
            range_reason = literal(f"column {c.name}: '") + f" || {raw_text} || " + literal(
                f"' is outside the supported range {SUPPORTED_RANGE}"
            )
            problems.append(
                f"when {_q(c.name)} < {low} or {_q(c.name)} >= {high} then"
                f" {{'rule': 'out_of_range', 'reason': {range_reason}}}"
            )
        if c.required:
            problems.append(
                f"when {_q(c.name)} is null then"
                f" {{'rule': 'missing_value', 'reason': {literal(f'column {c.name}: a value is required')}}}"
            )
    drop = ", ".join(["__problem"] + [f"__raw_{c.name}" for c in present])
    record = "to_json(struct_pack(" + ", ".join(f"{_q(c.name)} := __raw_{c.name}" for c in present) + "))"
    return f"""
        create or replace temp table stg_{table.name} as
        with raw as (
            select {line_expr} as __line, {', '.join(raw_cols)}, cast({extra} as json) as extra
            from {raw} __raw
        ),
        typed as (
            select __line, {', '.join(typed)}, extra, {', '.join(f'__raw_{c.name}' for c in present)}
            from raw
        ),
        checked as (select *, case {' '.join(problems)} end as __problem from typed)
        select * exclude ({drop}),
               __problem.rule as rule, __problem.reason as reason,
               case when __problem is not null then {record} end as record
        from checked
    """


def _check_naive(
    con: duckdb.DuckDBPyConnection,
    raw: str,
    line_expr: str,
    path: Path,
    present: list[Column],
    src_types: dict[str, str],
    source_tz: str | None,
) -> None:
    """A naive timestamp is fatal unless [source] timezone says where it was written."""
    if source_tz:
        return
    for col in present:
        q = f"__raw.{_q(col.name)}"
        if col.kind != "timestamp" or src_types[col.name].startswith("TIMESTAMP WITH TIME ZONE"):
            continue
        if src_types[col.name] in _NAIVE_TYPES:
            cond = f"{q} is not null"
        else:
            text = _text(q, src_types[col.name])
            cond = f"not regexp_matches({text}, {literal(_OFFSET_RE)}) and try_cast({text} as timestamp) is not null"
        rows = con.execute(
            f"select {line_expr} as line, cast({q} as varchar) from {raw} __raw where {cond} order by line limit 1"
        ).fetchall()
        if rows:
            line, value = rows[0]
            raise LoadError(
                f"{path.name}, column {col.name}, {_where(path, line)}: expected a timestamp with an offset "
                f"(e.g. 2026-03-09T14:05:00Z), got naive '{value}'; set [source] timezone in "
                "config.toml to say where naive timestamps were written"
            )


# ---------------------------------------------------------------- checks


def _key(table: Table) -> str:
    """One text key per row; responses use response_id when it is given."""
    parts = ", ".join(f"cast({_q(c)} as varchar)" for c in table.key)
    key = f"concat_ws({_SEP}, {parts})"
    if table.name == "responses":
        return f"coalesce('id:' || response_id, {key})"
    return key


def _check_fatal(con: duckdb.DuckDBPyConnection, files: dict[str, Path], config: Config) -> None:
    """Names the config lacks stop the load: every metric would be wrong without them."""
    lookups = (
        ("accounts", "region", sorted(config.calendars), "a calendar"),
        ("subscriptions", "package", sorted(config.packages), "a package"),
    )
    for table, column, known, what in lookups:
        if table in files:
            rows = con.execute(
                f"select __line, {column} from stg_{table} where {column} is not null"
                f" and not list_contains(?, {column}) order by __line limit 1",
                [known],
            ).fetchall()
            if rows:
                line, value = rows[0]
                raise LoadError(
                    f"{files[table].name}, column {column}, {_where(files[table], line)}: '{value}' is not "
                    f"{what} in the config (expected one of: {', '.join(known)})"
                )
        rows = con.execute(
            f"select {column} from {table} where not list_contains(?, {column}) limit 1", [known]
        ).fetchall()
        if rows:
            raise LoadError(
                f"config.toml: the stored {table} name {what} '{rows[0][0]}' that the config lacks "
                f"(expected one of: {', '.join(known)})"
            )


def _check_overrides(con: duckdb.DuckDBPyConnection, files: dict[str, Path], config: Config) -> None:
    """An override must name a stored account: terms negotiated by an account the data lacks are a typo."""
    wanted = sorted(config.overridden_accounts)
    if not wanted:
        return
    query = "select account_id from accounts where list_contains(?, account_id)"
    stored = {row[0] for row in con.execute(query, [wanted]).fetchall()}
    for override in config.overrides:
        if override.account_id not in stored:
            raise LoadError(
                f"config.toml: [[overrides]] entry {override.entry} account_id: {show_value(override.account_id)} "
                f"is not an account of {files['accounts'].name}; expected the account_id of a stored account"
            )


def _where(path: Path, line: int) -> str:
    return f"line {line}" if path.suffix in (".csv", ".jsonl") else f"row {line}"


def _typed_fields(table: str) -> str:
    cols = BY_NAME[table].column_names
    return ", ".join(f"{_q(c)} := {_q(c)}" for c in cols)


def _reject(con: duckdb.DuckDBPyConnection, table: str, rule: str, reason: str, condition: str) -> None:
    """Quarantine the still-good rows of stg_<table> meeting `condition` (SQL over the row)."""
    con.execute(
        f"update stg_{table} set rule = {literal(rule)}, reason = {reason},"
        f" record = to_json(struct_pack({_typed_fields(table)}))"
        f" where rule is null and ({condition})"
    )


_RANGES = {
    "subscriptions": ("end_date < start_date", "column end_date: is before start_date"),
    "standing": ("suspended_to <= suspended_from", "column suspended_to: is not after suspended_from"),
    "contacts": ("authorized_to < authorized_from", "column authorized_to: is before authorized_from"),
    "cases": ("closed_at < opened_at", "column closed_at: is before opened_at"),
}

_BAD_CHANGE_VALUE = (
    "'column value: expected ' || case field when 'status' then 'open, pending_customer or closed'"
    " else '1, 2 or 3' end || ' for field ' || field || ', got ''' || value || ''''"
)


def _check_rows(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> None:
    """Row rules that need other rows or other tables, in dependency order."""
    staged = [t for t in TABLES if t.name in files]
    for table in staged:
        _check_duplicates(con, table)
    for name, (cond, text) in _RANGES.items():
        if name in files:
            _reject(con, name, "bad_range", literal(text), cond)
    if "case_changes" in files:
        con.execute(
            "update stg_case_changes set value = lower(value) where rule is null and field in ('status', 'severity')"
        )
        _reject(
            con, "case_changes", "bad_value", _BAD_CHANGE_VALUE,
            f"(field = 'status' and not list_contains({list(STATUSES)}, value))"
            " or (field = 'severity' and value not in ('1', '2', '3'))",
        )
    staged_accounts = " union select account_id from stg_accounts where rule is null" if "accounts" in files else ""
    con.execute(f"create or replace temp table known_accounts as select account_id from accounts{staged_accounts}")
    for table in staged:
        if table.name != "accounts" and "account_id" in table.column_names:
            _reject(
                con, table.name, "unknown_account", "'column account_id: unknown account ''' || account_id || ''''",
                "account_id not in (select account_id from known_accounts)",
            )
    if "subscriptions" in files:
        _check_overlaps(con)
    known_cases = "select case_id, opened_at from cases"
    if "cases" in files:
        known_cases = (
            "select case_id, opened_at from stg_cases where rule is null union all "
            "select case_id, opened_at from cases where case_id not in "
            "(select case_id from stg_cases where rule is null)"
        )
    con.execute(f"create or replace temp table known_cases as {known_cases}")
    for name in ("responses", "case_changes"):
        if name not in files:
            continue
        # one pass finds both: no such case, or an event before the case was opened
        con.execute(f"""
            create or replace temp table orphans_{name} as
            select s.__line, k.opened_at
            from stg_{name} s left join known_cases k using (case_id)
            where s.rule is null and (k.case_id is null or s."at" < k.opened_at)
        """)
        if not con.execute(f"select count(*) from orphans_{name}").fetchall()[0][0]:
            continue
        con.execute(f"""
            update stg_{name} set
                rule = case when o.opened_at is null then 'unknown_case' else 'before_opened' end,
                reason = case when o.opened_at is null then 'column case_id: unknown case ''' || case_id || ''''
                              else 'column at: ' || strftime("at", '%Y-%m-%dT%H:%M:%SZ')
                                   || ' is before the case was opened at '
                                   || strftime(o.opened_at, '%Y-%m-%dT%H:%M:%SZ') end,
                record = to_json(struct_pack({_typed_fields(name)}))
            from orphans_{name} o
            where stg_{name}.__line = o.__line
        """)


def _check_duplicates(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """A key seen earlier in the same file quarantines the later rows (first one wins).

    Grouping on a hash of the key finds the (usually no) candidate repeats cheaply; only
    those rows are compared on the key itself. Responses with a response_id are keyed on it.
    """
    keysets = [(table.key, "")]
    if table.name == "responses":
        keysets = [(("response_id",), "response_id is not null"), (table.key, "response_id is null")]
    for keys, only in keysets:
        cols = ", ".join(_q(k) for k in keys)
        where = f"rule is null{' and ' + only if only else ''}"
        con.execute(f"""
            create or replace temp table dup_{table.name} as
            with candidates as (
                select * from stg_{table.name}
                where {where} and hash({cols}) in (
                    select hash({cols}) from stg_{table.name} where {where} group by 1 having count(*) > 1)
            )
            select __line, first_line from (
                select __line, min(__line) over (partition by {cols}) as first_line from candidates)
            where __line <> first_line
        """)
        if con.execute(f"select count(*) from dup_{table.name}").fetchall()[0][0]:
            _reject(
                con, table.name, "duplicate_key",
                f"'duplicate key ({', '.join(keys)}) of line ' || "
                f"(select first_line from dup_{table.name} d where d.__line = stg_{table.name}.__line)",
                f"__line in (select __line from dup_{table.name})",
            )


def _check_overlaps(con: duckdb.DuckDBPyConnection) -> None:
    """An account's terms must not overlap: a staged term overlapping an earlier one is quarantined."""
    con.execute("""
        create or replace temp table term_overlaps as
        with terms as (
            select account_id, start_date, end_date, __line from stg_subscriptions where rule is null
            union all
            select account_id, start_date, end_date, null from subscriptions s
            where not exists (select 1 from stg_subscriptions g where g.rule is null
                              and g.account_id = s.account_id and g.start_date = s.start_date)
        ),
        ordered as (
            select *,
                   max(end_date) over earlier as previous_end,
                   arg_max(start_date, end_date) over earlier as previous_start
            from terms
            window earlier as (partition by account_id order by start_date, __line
                               rows between unbounded preceding and 1 preceding)
        )
        select __line, previous_start from ordered where __line is not null and start_date <= previous_end
    """)
    _reject(
        con, "subscriptions", "overlapping_term",
        "'column start_date: the term overlaps the term starting ' || (select cast(previous_start as varchar)"
        " from term_overlaps o where o.__line = stg_subscriptions.__line)",
        "__line in (select __line from term_overlaps)",
    )


def _first_quarantined(con: duckdb.DuckDBPyConnection, files: dict[str, Path]) -> str:
    for table in TABLES:
        if table.name in files:
            rows = con.execute(
                f"select __line, reason from stg_{table.name} where rule is not null order by __line limit 1"
            ).fetchall()
            if rows:
                return f"{files[table.name].name}, {_where(files[table.name], rows[0][0])}: {rows[0][1]}"
    return ""


# ---------------------------------------------------------------- merge


def _merge(con: duckdb.DuckDBPyConnection, table: Table, folder: Path, file: str) -> int:
    """Replace stored rows that share a key with the staged good rows, then insert those."""
    name = table.name
    cols = ", ".join(_q(c) for c in table.column_names)
    values = ", ".join(f"coalesce({_q(c.name)}, {c.default})" if c.default else _q(c.name) for c in table.columns)
    line = ", __line" if table.keep_line else ""
    line_col = ", source_line" if table.keep_line else ""
    if con.execute(f"select count(*) from (select 1 from {name} limit 1)").fetchall()[0][0]:
        con.execute(
            f"delete from {name} where {_key(table)} in (select {_key(table)} from stg_{name} where rule is null)"
        )
    con.execute(
        f"insert into {name} ({cols}{line_col}, extra) select {values}{line}, extra from stg_{name} where rule is null"
    )
    con.execute("delete from quarantine where dataset = ? and file = ?", [folder.name, file])
    con.execute(
        f"insert into quarantine select ?, ?, '{name}', __line, rule, reason, record"
        f" from stg_{name} where rule is not null",
        [folder.name, file],
    )
    stored = con.execute(f"select count(*) from stg_{name} where rule is null").fetchall()[0][0]
    con.execute(f"drop table stg_{name}")
    return int(stored)
