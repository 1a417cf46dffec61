"""A snapshot: the store and every SLA obligation as of one moment, shared by all metrics.

The tables are built once per snapshot; every metric then queries the same `obligations`
and `case_facts` tables, so a page, an export and a weekly update built from one
snapshot can never disagree. `as_of` is always passed in, never read from a clock.
The snapshot's `obligations` are the engine's rows plus `final_severity` (the engine's
severity) with `severity` the severity each obligation is reported under
(`[reporting] breach_severity`, see `reported_severity`).

A store loaded by `ingest` holds the engine's run at the data's latest instant
(`stored_run.py`); a snapshot is then derived from it, running the engine only on the
cases that are not settled at the as-of (`derived_tables`, docs/sla-clock.md "Time
travel"), and its rows are in no particular order, as a query's are without ORDER BY.
A store without that run (loaded before it existed, or asked with another configuration)
gets the full run, as does `take_snapshot(..., derive=False)`.

The per-case tables the metrics share (`PerCaseTable`: the breaches, the follow-ups' lives,
the escalation events) take the same path: stored at load beside the run,
and at any other as-of the stored rows of the cases settled by then plus the table built
over the other cases alone (`Snapshot.table`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from metrics import sqlfiles
from metrics.engine.obligations import ClockTables, as_utc, clock_cursor, clock_tables, result_arrow, run_stages
from metrics.storage.config import Config, config_from_json
from metrics.storage.ingest import STORE_FORMAT
from metrics.storage.store import connect, stored_config

CASE_FACTS_SQL = sqlfiles.read(__file__, "case_facts.sql")
REPORTED_SEVERITY_SQL = sqlfiles.read(__file__, "reported_severity.sql")
ONLY_CASES_SQL = sqlfiles.statements(sqlfiles.read(__file__, "only_cases.sql"))
RERUN_SQL, KEPT_OBLIGATIONS_SQL, KEPT_FACTS_SQL = sqlfiles.statements(sqlfiles.read(__file__, "derived_run.sql"))


# The attributes with few distinct values, held dictionary-encoded in a snapshot's tables and in
# the per-case tables the metrics share, wherever they appear: a metric's scan of millions of
# rows then reads small integers instead of strings, two to three times faster for filters and
# groups at a million cases. Queries return plain strings.
ENCODED = pa.dictionary(pa.int32(), pa.string())
ENCODED_COLUMNS = {
    "obligations": ("account_id", "package", "kind", "calendar", "status"),
    "case_facts": ("account_id", "account_name", "region", "advisor", "package", "status", "escalation_level",
                   "last_author_type", "owner", "channel", "product_area"),
    "escalations": ("source", "first_source", "level"),
}
ATTRIBUTES = frozenset(name for names in ENCODED_COLUMNS.values() for name in names)
_ENCODERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="snapshot-encode")


def encoded(table: pa.Table) -> pa.Table:
    """`table` with its ATTRIBUTES columns dictionary-encoded; a no-op for those already encoded.

    Large tables' columns are encoded on two threads (Arrow's compute releases the GIL).
    """
    def plain(name: str) -> bool:
        kind = table.schema.field(name).type
        textual = pa.types.is_string(kind) or pa.types.is_dictionary(kind)
        return name in ATTRIBUTES and textual and bool(kind != ENCODED)

    todo = [name for name in table.column_names if plain(name)]
    if not todo:
        return table

    def encode(name: str) -> pa.ChunkedArray:
        column = table.column(name)
        return column.cast(ENCODED) if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)

    columns = list(_ENCODERS.map(encode, todo)) if table.num_rows > 100_000 else [encode(name) for name in todo]
    for name, column in zip(todo, columns, strict=True):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, pa.field(name, ENCODED, table.schema.field(index).nullable), column)
    return table


def of_accounts(table: pa.Table, accounts: Sequence[str]) -> pa.Table:
    """The rows of `table` whose account_id is one of `accounts`.

    An encoded column is matched on its dictionary, then each row by its index: five to
    ten times faster than decoding millions of rows to compare them.
    """
    values = pa.array(list(accounts), pa.string())
    column = table.column("account_id")
    if not pa.types.is_dictionary(column.type):
        return table.filter(pc.is_in(column, value_set=values))
    chosen = [pc.take(pc.is_in(chunk.dictionary, value_set=values), chunk.indices) for chunk in column.chunks]
    return table.filter(pa.chunked_array(chosen, pa.bool_()))


class _DerivedTables:
    """The tables a snapshot derives lazily, each built at most once, safe across threads.

    A snapshot is shared by every session looking at the same moment (the dashboard caches
    it per process), so several script threads may ask for the same table at once. One
    lock guards the mapping; each name has a lock of its own held while its table is built,
    so two threads never build the same table twice, and building one table blocks neither
    the readers of the others nor a build that needs another derived table. A build that
    raises stores nothing: the next caller tries again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards _tables and _building, never held during a build
        self._tables: dict[str, pa.Table] = {}
        self._building: dict[str, threading.Lock] = {}

    def items(self) -> list[tuple[str, pa.Table]]:
        """The tables built so far (a copy: safe to iterate while others build)."""
        with self._lock:
            return list(self._tables.items())

    def get_or_build(self, name: str, build: Callable[[], pa.Table]) -> pa.Table:
        with self._lock:
            table = self._tables.get(name)
            if table is not None:
                return table
            name_lock = self._building.setdefault(name, threading.Lock())
        with name_lock:
            with self._lock:  # checked again: another thread may have built it while this one waited
                table = self._tables.get(name)
            if table is not None:
                return table
            table = build()
            with self._lock:
                self._tables[name] = table
                del self._building[name]
            return table


class _ReaderPool:
    """Idle reading cursors of one snapshot, each with the names of the derived tables it holds.

    A page's run takes one for each query and gives it back, so the next run (Streamlit runs
    each on a new thread) reuses it instead of opening a cursor and registering a dozen
    tables again. A cursor is only ever held by one thread at a time; at most `keep` idle
    ones are kept (as many as queries ran at once), the others closed.
    """

    def __init__(self, keep: int = 8) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple[duckdb.DuckDBPyConnection, set[str]]] = []
        self._keep = keep

    def take(self) -> tuple[duckdb.DuckDBPyConnection, set[str]] | None:
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give_back(self, held: tuple[duckdb.DuckDBPyConnection, set[str]]) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(held)
                return
        held[0].close()


@dataclass(frozen=True)
class Snapshot:
    """The data as of `as_of`: obligations computed, ready for any metric to query."""

    con: duckdb.DuckDBPyConnection
    as_of: dt.datetime
    config: Config
    obligations: pa.Table  # the engine's rows; `severity` as reported, `final_severity` the engine's
    case_facts: pa.Table
    accounts: tuple[str, ...] | None = None  # the snapshot covers only these accounts when set
    # Tables derived once per snapshot by the metrics that share them (see `derive`); the
    # snapshot's only mutable part, thread-safe. Not an init argument, so
    # `dataclasses.replace` gives a changed snapshot a cache of its own.
    _derived: _DerivedTables = field(default_factory=_DerivedTables, init=False, compare=False, repr=False)
    # reader()'s idle cursors (a DuckDB cursor is used by one thread at a time), closed with the snapshot.
    _readers: _ReaderPool = field(default_factory=_ReaderPool, init=False, compare=False, repr=False)
    _own_bytes: dict[tuple[int, int], int] = field(default_factory=dict, init=False, compare=False, repr=False)
    # The stored run this snapshot was derived from, and how many of its leading obligations and
    # case facts are stored rows (the rest the engine's, of the cases not settled at as-of).
    run: StoredRun | None = field(default=None, compare=False, repr=False)
    stored_rows: tuple[int, int] = field(default=(0, 0), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "obligations", encoded(self.obligations))
        object.__setattr__(self, "case_facts", encoded(self.case_facts))

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor with `obligations`, `case_facts` and the calendar tables.

        Each caller gets its own cursor (a DuckDB connection is not shared across
        threads) and closes it when done. Both tables are computed once per snapshot.
        """
        cur = clock_cursor(self.con, self.as_of, self.config, self._clock)
        cur.register("obligations", self.obligations)
        cur.register("case_facts", self.case_facts)
        for name, table in self._derived.items():
            cur.register(name, table)
        return cur

    def of_accounts(self, accounts: Sequence[str]) -> Snapshot:
        """The snapshot of some accounts only: their rows, those `take_snapshot(..., accounts=)` gives.

        Every stage of the engine works per case, so an account's rows never depend on the
        others': a moment the dashboard already holds for the whole book serves one account's
        weekly update without an engine run of its own. Its derived tables are its own.
        """
        wanted = list(dict.fromkeys(accounts))
        narrowed = Snapshot(self.con, self.as_of, self.config, of_accounts(self.obligations, wanted),
                            of_accounts(self.case_facts, wanted), tuple(wanted))
        narrowed.__dict__["_clock"] = self._clock  # the same calendars (where functools.cached_property keeps them)
        return narrowed

    @functools.cached_property
    def _clock(self) -> ClockTables:
        """The clock cursor's tables, made once: every metric query opens a cursor."""
        return clock_tables(self.con, self.as_of, self.config)

    def derive(self, name: str, build: Callable[[], pa.Table]) -> pa.Table:
        """A table computed once per snapshot and registered as `name` in every later cursor.

        Metrics that filter the same small extract again and again (the open queue, the
        breaches, an aggregate per day) build it here instead of rescanning millions of rows.
        Safe from several threads at once: `build` runs at most once per name and snapshot
        (unless it raises); it may itself use `cursor()`, `query()` or `derive()` another name.
        """
        return self._derived.get_or_build(name, build)

    def table(self, per_case: PerCaseTable) -> pa.Table:
        """A per-case table of this snapshot, built once and registered like `derive`'s.

        From a stored run (the whole book): the stored rows of the cases settled by as-of
        (a prefix of the stored table) plus the table built over the snapshot's other cases
        alone, which the engine ran again; the same rows as building it over every case.
        """
        return self.derive(per_case.name, lambda: encoded(self._per_case(per_case)))

    def build_per_case_tables(self) -> None:
        """Build every registered per-case table now (each at most once, as `table` would).

        The Governance page, which reads nearly all of them, has them built on a background
        thread while its first metrics run: the tables the later ones read are then ready or
        being built when they ask (`derive` waits for a build in progress instead of repeating it).
        """
        for per_case in list(PER_CASE_TABLES.values()):
            self.table(per_case)

    def _per_case(self, per_case: PerCaseTable) -> pa.Table:
        run = self.run
        stored = None if run is None or self.accounts is not None else run.per_case(self.con, per_case)
        if run is None or stored is None:
            return per_case.build(self)
        table, settled = stored
        if self.as_of == run.as_of:
            added = run.added_up(self.con, per_case)
            return self._combined(per_case, table) if added is None else added
        held = int(np.searchsorted(settled, _micros(self.as_of), side="right"))
        # Built again: the cases not settled at as-of, which the snapshot holds after its stored
        # rows. A case settled by then has its rows among those held, or none at any as-of: it is
        # one snapshot for every table of rows per case, so one table's build reuses another's
        # (escalation_firsts reads escalation_events). A table of groups of cases also builds
        # the cases settled after its last group held, the rest of that group's span.
        if per_case.combine is None:
            rest = self._unsettled
        else:
            since = int(settled[held - 1]) if held else np.iinfo(np.int64).min
            rest = self._settled_after(since)
        fresh = rest.table(per_case).select(table.schema.names).cast(table.schema)  # and kept for other builds
        # not added up (a key may have a row per held week and one built): readers sum, and adding
        # up half a million rows at every as-of cost more than the readers' sums over them
        return pa.concat_tables([table.slice(0, held), fresh])

    def running_obligations(self) -> pa.Table:
        """The obligations running at as-of (no end_at).

        Derived from the stored run, they are among the re-run rows only: a case settled by
        as-of has its stored rows, and its obligations all ended by its last event
        (sql/stored_run.sql), so the millions of stored rows need no scan.
        """
        rows = self.obligations
        if self.run is not None and self.as_of != self.run.as_of:
            rows = rows.slice(self.stored_rows[0])
        return rows.filter(pc.is_null(rows["end_at"]))

    @functools.cached_property
    def _unsettled(self) -> Snapshot:
        """The cases not settled at as-of alone (the re-run ones), with derived tables of their own."""
        return self._settled_after(np.iinfo(np.int64).max)

    def _settled_after(self, since: int) -> Snapshot:
        """The cases settled after `since` (micros) or not at as-of, alone."""
        assert self.run is not None
        n_obligations, n_facts = self.stored_rows
        first_obligation = min(int(np.searchsorted(self.run.obligations_settled, since, side="right")), n_obligations)
        first_fact = min(int(np.searchsorted(self.run.facts_settled, since, side="right")), n_facts)
        rest = dataclasses.replace(
            self,
            obligations=self.obligations.slice(first_obligation),
            case_facts=self.case_facts.slice(first_fact),
            run=None,
            stored_rows=(0, 0),
        )
        rest.__dict__["_clock"] = self._clock  # the same calendars, made once per snapshot
        return rest

    def _combined(self, per_case: PerCaseTable, rows: pa.Table) -> pa.Table:
        """`rows` as they are, or added up by the table's `combine` query (a store without the added-up copy)."""
        if per_case.combine is None:
            return rows
        cur = self.con.cursor()
        try:
            cur.register("parts", rows)
            return cur.sql(per_case.combine).to_arrow_table()
        finally:
            cur.close()

    def own_bytes(self) -> int:
        """The bytes of Arrow buffers this snapshot holds and its stored run does not: what dropping it frees.

        A snapshot derived from the stored run shares the run's rows (slices of them) and holds
        only the engine's rows of the cases open at its moment, some ten thousand of a million:
        a few tens of MB where a full run holds hundreds. The dashboard bounds the moments it
        keeps by this (ui/moments.py).
        """
        shared = self.run.buffer_addresses() if self.run is not None else frozenset()
        tables = [self.obligations, self.case_facts, *(table for _, table in self._derived.items())]
        if (clock := self.__dict__.get("_clock")) is not None:  # made once the snapshot's calendars were asked for
            tables += [clock.intervals, clock.zones, clock.targets]
        # counted again only when a table was added here or to the run (tables are never replaced):
        # the dashboard asks for every snapshot it holds each time it takes a new one
        key = (len(tables), len(shared))
        if key not in self._own_bytes:
            self._own_bytes[key] = sum(size for address, size in _buffers(tables).items() if address not in shared)
        return self._own_bytes[key]

    def query(self, sql: str, params: dict[str, object] | list[object] | None = None) -> pa.Table:
        """Run one query against the snapshot's tables and return its rows as Arrow."""
        with self.reader() as cur:
            return cur.sql(sql, params=params).to_arrow_table()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor holding every derived table built so far, lent for reading and taken back after.

        Opening a cursor and registering the snapshot's tables costs 10 to 20 ms, more than
        most queries: a page runs a dozen, and each run of it is on a new thread, so cursors
        are lent from a pool instead. The borrower may register a table of its own for the
        length of the loan and unregisters it before giving the cursor back; it never closes it.
        """
        held = self._readers.take()
        if held is None:
            names = {name for name, _ in self._derived.items()}
            held = (self.cursor(), names)  # cursor() registers at least those
        cur, registered = held
        for name, table in self._derived.items():
            if name not in registered:
                cur.register(name, table)
                registered.add(name)
        try:
            yield cur
        except BaseException:
            cur.close()  # in an unknown state (an interrupted statement): not lent again
            raise
        self._readers.give_back(held)

    @property
    def reporting_timezone(self) -> str:
        return self.config.reporting_timezone


def take_snapshot(
    con: duckdb.DuckDBPyConnection,
    as_of: dt.datetime | str,
    config: Config | None = None,
    accounts: list[str] | tuple[str, ...] | None = None,
    derive: bool = True,
) -> Snapshot:
    """Every obligation as of `as_of` (of some accounts only, when given).

    Derived from the run the store holds when it has one made with `config`; `derive=False`
    (or a store without it) runs the engine over every case: the same rows, only slower.
    """
    moment = as_utc(as_of)
    config = config or stored_config(con)
    wanted = list(accounts) if accounts is not None else None
    run_as_of = stored_run_as_of(con, config) if derive else None
    chosen = tuple(wanted) if wanted is not None else None
    held = _stored_run(con, run_as_of) if run_as_of is not None and wanted is None else None
    if held is None and run_as_of is not None:
        held = _read_already(con, run_as_of)  # read for the book: its calendars serve some accounts' too
    # made once: the engine's cursor and every later one share them (and every moment up to the run's)
    clock = held.clock(con, config) if held is not None and moment <= held.as_of else clock_tables(con, moment, config)
    if run_as_of is None:
        table, facts = engine_tables(con, moment, config, wanted, clock=clock)
        snap = Snapshot(con, moment, config, table, facts, chosen)
    else:
        table, facts, stored_rows = derived_tables(con, moment, config, wanted, run_as_of, clock)
        run = held if wanted is None else None
        snap = Snapshot(con, moment, config, table, facts, chosen, run=run, stored_rows=stored_rows)
    snap.__dict__["_clock"] = clock  # where functools.cached_property keeps it
    return snap


def engine_tables(
    con: duckdb.DuckDBPyConnection,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None = None,
    cases: list[str] | None = None,
    clock: ClockTables | None = None,
) -> tuple[pa.Table, pa.Table]:
    """The snapshot's obligations and case facts straight from the engine (of some accounts, some cases).

    `cases` narrows the run to the listed cases (sql/only_cases.sql): every stage works per
    case, so a case's rows never depend on the others'. `clock`: the clock tables of `moment`, made before.
    """
    clock = clock or clock_tables(con, moment, config)
    cur = clock_cursor(con, moment, config, clock)
    try:
        if cases is not None:
            for statement in ONLY_CASES_SQL:
                cur.execute(statement, {"cases": cases})
        run_stages(cur, moment, accounts=accounts, lookups=clock.lookups)
        return _with_facts(cur, result_arrow(cur), moment, config, accounts)
    finally:
        cur.close()


def tables_from_rows(
    con: duckdb.DuckDBPyConnection, engine_rows: pa.Table, moment: dt.datetime, config: Config
) -> tuple[pa.Table, pa.Table]:
    """The snapshot's obligations and case facts from the engine's rows computed elsewhere (a cluster)."""
    cur = clock_cursor(con, moment, config)
    try:
        return _with_facts(cur, engine_rows, moment, config, None)
    finally:
        cur.close()


def _with_facts(
    cur: duckdb.DuckDBPyConnection,
    engine_rows: pa.Table,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None,
) -> tuple[pa.Table, pa.Table]:
    """The engine's rows with the reported severity, and the case facts that read them."""
    table = reported_severity(cur, engine_rows, moment, config.breach_severity)
    cur.register("obligations", table)
    cur.execute(CASE_FACTS_SQL, {"as_of": moment, "accounts": accounts})
    facts = cur.sql("select * from case_facts").to_arrow_table()
    return table, facts


def stored_run_as_of(con: duckdb.DuckDBPyConnection, config: Config) -> dt.datetime | None:
    """The instant of the engine's run stored at load, when the store has one made with `config`."""
    cur = con.cursor()
    try:
        rows = cur.execute("select as_of, config, format from sla_run").fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):  # a store loaded before this layout of the run
        return None
    finally:
        cur.close()
    if len(rows) != 1 or rows[0][2] != STORE_FORMAT or config_from_json(rows[0][1]) != config:
        return None
    return as_utc(rows[0][0])


@dataclass(frozen=True)
class PerCaseTable:
    """A table of rows that each belong to one case (a `case_id` column), shared by metrics.

    `build` makes it from a snapshot's `obligations` and `case_facts` (and the store's rows of
    the same cases). A case's rows may depend on the as-of only while the case is not settled
    (sql/stored_run.sql): then the table is stored at load with the run and derived at any
    as-of from it. `definition` (the SQL, or any text that changes with the build) dates the
    stored copy: a store holding another definition's rows builds the table instead.
    Not for a table whose settled cases' rows move with the as-of (the open queue: a case
    open without a running clock is settled, yet its age grows).

    With `combine`, rows are counts over many cases (the attainment cube) that add up: the
    copy is stored per week of settling (each row dated by its week's last settled_at), and
    `combine`, a query over the table `parts`, adds such rows up into the rows `build` gives
    over every case. At the run's own instant the snapshot reads the copy the load added up;
    at another as-of it holds the held weeks' rows and the rows built over the other cases as
    they are, so one key may have several rows: every reader of such a table sums its columns.
    """

    name: str
    build: Callable[[Snapshot], pa.Table]
    definition: str
    combine: str | None = None

    @property
    def digest(self) -> str:
        text = f"{self.name}\n{self.definition}\n{self.combine or ''}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# Every per-case table, by name: stored at load by stored_run.py, in the order registered.
PER_CASE_TABLES: dict[str, PerCaseTable] = {}


def per_case_table(
    name: str, build: Callable[[Snapshot], pa.Table], definition: str, combine: str | None = None
) -> PerCaseTable:
    """Register a per-case table (see PerCaseTable); subjects call this at import."""
    PER_CASE_TABLES[name] = PerCaseTable(name, build, definition, combine)
    return PER_CASE_TABLES[name]


def _buffers(tables: Iterable[pa.Table]) -> dict[int, int]:
    """Every Arrow buffer the tables hold, by address (a buffer several chunks or slices share, once), and its size."""
    found: dict[int, int] = {}

    def add(array: pa.Array) -> None:
        for buffer in array.buffers():  # a slice lists its parent's buffers: the same addresses
            if buffer is not None:
                found[buffer.address] = buffer.size
        if pa.types.is_dictionary(array.type):
            add(array.dictionary)

    for table in tables:
        for column in table.columns:
            for chunk in column.chunks:
                add(chunk)
    return found


def _micros(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000


def _settled_micros(table: pa.Table) -> npt.NDArray[np.int64]:
    """A stored table's settled_at in epoch microseconds, never settled (null) as the largest."""
    micros = pc.cast(table.column("settled_at"), pa.timestamp("us", "UTC")).cast(pa.int64())
    return np.asarray(micros.fill_null(np.iinfo(np.int64).max).to_numpy(), dtype=np.int64)


@dataclass(frozen=True)
class StoredRun:
    """The stored run's tables, read once per connection, with each row's settled_at in epoch microseconds.

    The rows are stored by settled_at (never settled last), so the rows that hold at an
    as-of are a prefix of each table: a snapshot slices it without copying a row.
    """

    as_of: dt.datetime
    obligations: pa.Table
    case_facts: pa.Table
    obligations_settled: npt.NDArray[np.int64]
    facts_settled: npt.NDArray[np.int64]
    # per-case tables read from the store when first asked for: stored name -> (rows, settled) or None
    _per_case: dict[str, tuple[pa.Table, npt.NDArray[np.int64]] | None] = field(default_factory=dict)
    # the added-up copies of the tables with `combine`: stored name -> rows or None
    _added_up: dict[str, pa.Table | None] = field(default_factory=dict)
    _per_case_lock: threading.Lock = field(default_factory=threading.Lock)
    # buffer_addresses(), by how many tables it counted (tables are only ever added)
    _addresses: dict[int, frozenset[int]] = field(default_factory=dict)
    # clock(): the clock tables of the run's instant, per configuration asked with
    _clocks: list[tuple[Config, ClockTables]] = field(default_factory=list)

    def holding(self, moment: dt.datetime) -> tuple[pa.Table, pa.Table]:
        """The stored rows that hold at `moment` (every row at the run's own instant)."""
        if moment == self.as_of:
            return self.obligations, self.case_facts
        key = _micros(moment)
        n = int(np.searchsorted(self.obligations_settled, key, side="right"))
        m = int(np.searchsorted(self.facts_settled, key, side="right"))
        return self.obligations.slice(0, n), self.case_facts.slice(0, m)

    def per_case(
        self, con: duckdb.DuckDBPyConnection, per_case: PerCaseTable
    ) -> tuple[pa.Table, npt.NDArray[np.int64]] | None:
        """The stored copy of a per-case table and its rows' settled_at, or None when the store has none of it."""
        with self._per_case_lock:  # read once per process and store version, whichever session asks first
            key = per_case_store_name(per_case)  # a changed definition is another table
            if key not in self._per_case:
                self._per_case[key] = _read_per_case(con, per_case)
            return self._per_case[key]

    def buffer_addresses(self) -> frozenset[int]:
        """The addresses of every Arrow buffer the run holds (its rows and the per-case tables read so far)."""
        with self._per_case_lock:
            tables = [self.obligations, self.case_facts,
                      *(held[0] for held in self._per_case.values() if held is not None),
                      *(table for table in self._added_up.values() if table is not None)]
            if len(tables) not in self._addresses:
                self._addresses.clear()
                self._addresses[len(tables)] = frozenset(_buffers(tables))
            return self._addresses[len(tables)]

    def clock(self, con: duckdb.DuckDBPyConnection, config: Config) -> ClockTables:
        """The clock tables of the run's own instant, made once: they serve every moment up to it.

        Their calendars reach from the first case to the deadline horizon past the run's
        instant, further than an earlier moment needs, and W and its inverse are the same
        wherever both tables reach: a moment's rows do not change (the derived-snapshot tests
        compare them with a full run's at that moment). Made anew at every as-of, they and their
        bucket tables cost some 25 ms of the 250 a change of the as-of waits for.
        """
        with self._per_case_lock:
            for made_with, tables in self._clocks:
                if made_with == config:
                    return tables
            tables = clock_tables(con, self.as_of, config)
            self._clocks.append((config, tables))
            return tables

    def added_up(self, con: duckdb.DuckDBPyConnection, per_case: PerCaseTable) -> pa.Table | None:
        """The stored copy of a table with `combine`, added up over every case (its rows at the run's instant)."""
        with self._per_case_lock:
            key = added_up_store_name(per_case)
            if key not in self._added_up:
                self._added_up[key] = _read_added_up(con, key)
            return self._added_up[key]


# One stored run per connection (a connection sees one published store version for its life).
_STORED_RUNS: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, StoredRun] = weakref.WeakKeyDictionary()
_STORED_RUNS_LOCK = threading.Lock()  # held while a run is read: a second thread waits for it


def _stored_run(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> StoredRun:
    with _STORED_RUNS_LOCK:
        run = _STORED_RUNS.get(con)
        if run is None or run.as_of != run_as_of:
            run = _read_stored_run(con, run_as_of)
            _STORED_RUNS[con] = run
        return run


def _read_already(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> StoredRun | None:
    """The stored run of `con` when some snapshot has read it already, else None (never reads it)."""
    with _STORED_RUNS_LOCK:
        run = _STORED_RUNS.get(con)
    return run if run is not None and run.as_of == run_as_of else None


def read_stored_run(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> StoredRun:
    """The stored run's tables in their stored order (settled first), without the cache."""
    return _read_stored_run(con, run_as_of)


def _read_stored_run(con: duckdb.DuckDBPyConnection, run_as_of: dt.datetime) -> StoredRun:
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")  # instants typed as the engine's (a cursor starts on the machine's zone)
        obligations = cur.sql("select * from sla_run_obligations").to_arrow_table()
        facts = cur.sql("select * from sla_run_case_facts").to_arrow_table()
    finally:
        cur.close()

    return StoredRun(
        run_as_of,
        encoded(obligations.drop_columns(["settled_at"])),
        encoded(facts.drop_columns(["settled_at"])),
        _settled_micros(obligations),
        _settled_micros(facts),
    )


def per_case_store_name(per_case: PerCaseTable) -> str:
    """The stored copy's table name: the per-case table's name and its definition's digest."""
    return f"sla_run_{per_case.name}_{per_case.digest}"


def added_up_store_name(per_case: PerCaseTable) -> str:
    """The table name of the copy of a table with `combine` added up over every case."""
    return f"{per_case_store_name(per_case)}_added_up"


def _read_stored(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table | None:
    """A stored table read whole (instants in UTC), or None when the store has no table of that name."""
    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")
        stored = cur.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() and table_name = ?",
            [name],
        ).fetchall()[0][0]
        return cur.sql(f'select * from "{name}"').to_arrow_table() if stored else None
    finally:
        cur.close()


def _read_per_case(
    con: duckdb.DuckDBPyConnection, per_case: PerCaseTable
) -> tuple[pa.Table, npt.NDArray[np.int64]] | None:
    table = _read_stored(con, per_case_store_name(per_case))
    if table is None:
        return None
    return encoded(table.drop_columns(["settled_at"])), _settled_micros(table)


def _read_added_up(con: duckdb.DuckDBPyConnection, name: str) -> pa.Table | None:
    table = _read_stored(con, name)
    return None if table is None else encoded(table)


def derived_tables(
    con: duckdb.DuckDBPyConnection,
    moment: dt.datetime,
    config: Config,
    accounts: list[str] | None,
    run_as_of: dt.datetime,
    clock: ClockTables | None = None,
) -> tuple[pa.Table, pa.Table, tuple[int, int]]:
    """The snapshot's tables at `moment` from the stored run (sql/derived_run.sql).

    The stored rows of the cases settled by then, the engine's for the others: the rows of
    `engine_tables`, in another order (settled cases first, as many as the third value says).
    """
    values = {"as_of": moment, "run_as_of": run_as_of, "accounts": accounts}

    def params(sql: str) -> dict[str, object]:
        return sqlfiles.bind(sql, values)

    cur = con.cursor()
    try:
        cur.execute("set TimeZone = 'UTC'")  # instants typed as the engine's (a cursor starts on the machine's zone)
        rerun = [row[0] for row in cur.execute(RERUN_SQL, params(RERUN_SQL)).fetchall()]
        read = _read_already(con, run_as_of)
        if accounts is None:
            obligations, facts = _stored_run(con, run_as_of).holding(moment)
        elif read is not None:  # the whole run is in memory (the dashboard's): pick the accounts' rows there
            obligations, facts = (of_accounts(table, accounts) for table in read.holding(moment))
        else:
            obligations = cur.sql(KEPT_OBLIGATIONS_SQL, params=params(KEPT_OBLIGATIONS_SQL)).to_arrow_table()
            facts = cur.sql(KEPT_FACTS_SQL, params=params(KEPT_FACTS_SQL)).to_arrow_table()
    finally:
        cur.close()
    stored_rows = (obligations.num_rows, facts.num_rows)
    if not rerun:
        return obligations, facts, stored_rows
    fresh_obligations, fresh_facts = engine_tables(con, moment, config, accounts, rerun, clock)
    # both parts encoded, so they share one schema
    return (pa.concat_tables([encoded(obligations), encoded(fresh_obligations)]),
            pa.concat_tables([encoded(facts), encoded(fresh_facts)]), stored_rows)


def reported_severity(cur: duckdb.DuckDBPyConnection, engine_rows: pa.Table, as_of: dt.datetime, mode: str) -> pa.Table:
    """The engine's rows with `final_severity` added and `severity` the severity reported.

    `final_severity` is the engine's (and the obligations export's) severity: the one in force
    when the obligation ended or at as-of. `severity` follows `[reporting] breach_severity`:
    under `at_breach` (the default) a breached obligation is reported under the severity in force
    at its `breached_at` (a change at exactly that instant is in force, as in the engine's pieces),
    so downgrading a case after a miss never moves the miss to a milder column; under `final`,
    and for every obligation that did not breach, `severity` equals `final_severity`. Metrics
    read `severity`; the export never reads this table (it runs the engine itself).
    """
    cur.register("engine_obligations", engine_rows)
    try:
        return cur.sql(REPORTED_SEVERITY_SQL, params={"as_of": as_of, "mode": mode}).to_arrow_table()
    finally:
        cur.unregister("engine_obligations")


def open_snapshot(db_path: Path | str, as_of: dt.datetime | str) -> Snapshot:
    """A snapshot on a read-only connection to the store at `db_path` (for the CLI and tests)."""
    return take_snapshot(connect(db_path, read_only=True), as_of)
