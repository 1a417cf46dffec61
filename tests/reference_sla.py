"""Slow, obvious reference implementation of the SLA clock.

The fast engine (SQL in DuckDB) is compared against this module on thousands of random
cases, so every rule of docs/sla-clock.md is written out literally: build the case's
status and severity timelines, cut them at as-of, lay out the calendar's working
intervals day by day in local time and walk them one by one. Clarity over speed; the
only concession to speed is caching each calendar's intervals per local year.

Nothing here imports the project's `metrics` package: the reference must stay
independent of the code it checks. It reads `metrics/defaults.toml` only as data.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

# The 24x7 calendar is one interval that never ends; any instant we meet is before this.
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
OPEN_STATUSES = ("open", "pending_customer")
DEFAULTS_PATH = Path(__file__).parents[1] / "metrics" / "storage" / "defaults.toml"

Interval = tuple[datetime, datetime]  # [start, end) in UTC


@dataclass
class RefCase:
    """One case with everything the clock needs, as the loader would store it."""

    case_id: str
    account_id: str
    region: str  # calendar name of the account (e.g. "americas")
    opened_at: datetime  # aware, UTC, whole seconds
    severity: int  # as submitted
    closed_at: datetime | None
    # (at, author_type 'agent'|'customer', public)
    responses: list[tuple[datetime, str, bool]] = field(default_factory=list)
    # (at, field 'severity'|'status'|'escalation', value) in FILE ORDER
    changes: list[tuple[datetime, str, str]] = field(default_factory=list)
    # (package, start_date, end_date inclusive) of the account
    subscriptions: list[tuple[str, date, date]] = field(default_factory=list)
    # (suspended_from, suspended_to or None = still suspended) of the account
    suspensions: list[tuple[datetime, datetime | None]] = field(default_factory=list)


# ----------------------------------------------------------------------------- config


def load_default_config() -> dict[str, Any]:
    """Read the built-in configuration (metrics/defaults.toml) as plain data."""
    with DEFAULTS_PATH.open("rb") as fh:
        return tomllib.load(fh)


def merge_config(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` over `base` table by table; a calendar's `hours` replaces wholesale.

    Example: overriding `packages.Gold.initial_response_hours.1` keeps Gold's other targets,
    but a new `calendars.americas.hours = {mon = "09:00-17:00"}` leaves Tuesday closed.
    """
    merged = copy.deepcopy(base)
    _merge_into(merged, override, ())
    return merged


def _merge_into(target: dict[str, Any], override: dict[str, Any], path: tuple[str, ...]) -> None:
    for key, value in override.items():
        here = (*path, key)
        replaces_wholesale = len(here) == 3 and here[0] == "calendars" and here[2] == "hours"
        if isinstance(value, dict) and isinstance(target.get(key), dict) and not replaces_wholesale:
            _merge_into(target[key], value, here)
        else:
            target[key] = copy.deepcopy(value)


# ----------------------------------------------------------------------------- calendars


class TwentyFourSeven:
    """The built-in `24x7` calendar: every second counts."""

    name = "24x7"

    def intervals_from(self, t: datetime) -> Iterator[Interval]:
        """Yield the working time at or after `t`: here all of it, as one interval."""
        yield (t, FAR_FUTURE)


class BusinessCalendar:
    """Weekly wall-clock hours in a timezone, minus holidays, as UTC intervals."""

    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        self.zone = ZoneInfo(spec["timezone"])
        # weekday key -> list of ((start_h, start_m), (end_h, end_m)) wall-clock ranges
        self.ranges: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
        for day_key, text in (spec.get("hours") or {}).items():
            self.ranges[day_key.lower()] = _parse_ranges(text)
        if not any(self.ranges.values()):
            raise ValueError(f"calendar {name!r} has no working hours: no deadline could ever fall")
        holiday_spec = spec.get("holidays") or {}
        self.country: str | None = holiday_spec.get("country")
        self.subdiv: str | None = holiday_spec.get("subdiv")
        self.added = {_as_date(d) for d in holiday_spec.get("add", [])}
        self.removed = {_as_date(d) for d in holiday_spec.get("remove", [])}
        # local year -> (intervals sorted by start, their ends) ; filled on first use
        self._years: dict[int, tuple[list[Interval], list[datetime]]] = {}

    def holidays_of(self, year: int) -> set[date]:
        """Country holidays (default rules, observed days included) plus `add` minus `remove`."""
        days: set[date] = set()
        if self.country:
            days |= set(holidays.country_holidays(self.country, subdiv=self.subdiv, years=year))
        days |= {d for d in self.added if d.year == year}
        return days - self.removed

    def local_to_utc(self, day: date, hour: int, minute: int) -> datetime:
        """Wall time on `day` to UTC. `24:00` is the next date's 00:00.

        zoneinfo with fold=0 (the default): a time in a spring-forward gap is read with the
        offset before the gap, i.e. it moves forward by the gap (02:30 -> 03:30 MDT); an
        ambiguous fall-back time takes its first occurrence (01:30 MDT, not MST).
        """
        if (hour, minute) == (24, 0):
            day, hour = day + timedelta(days=1), 0
        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)  # fold=0
        return wall.astimezone(UTC)

    def intervals_of_year(self, year: int) -> tuple[list[Interval], list[datetime]]:
        """All working intervals of the local dates of `year`, merged where they overlap."""
        if year not in self._years:
            off_days = self.holidays_of(year)
            raw: list[Interval] = []
            day = date(year, 1, 1)
            while day.year == year:
                if day not in off_days:
                    for (sh, sm), (eh, em) in self.ranges.get(WEEKDAY_KEYS[day.weekday()], []):
                        start = self.local_to_utc(day, sh, sm)
                        end = self.local_to_utc(day, eh, em)
                        if start < end:  # e.g. "02:00-03:00" on a spring-forward day is empty
                            raw.append((start, end))
                day += timedelta(days=1)
            raw.sort()
            merged: list[Interval] = []
            for start, end in raw:
                if merged and start < merged[-1][1]:  # overlap: count each second once
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._years[year] = (merged, [end for _, end in merged])
        return self._years[year]

    def intervals_from(self, t: datetime) -> Iterator[Interval]:
        """Yield the working intervals after `t` in time order, the first one clipped to start at `t`."""
        # Start a local year early: the previous date's last interval may reach past midnight.
        year = t.astimezone(self.zone).year - 1
        covered_until = t  # never yield a second twice (intervals of two years may touch)
        while True:
            intervals, ends = self.intervals_of_year(year)
            first = bisect.bisect_right(ends, t)  # skip intervals that end at or before t
            for start, end in intervals[first:]:
                start = max(start, covered_until)
                if start < end:
                    yield (start, end)
                    covered_until = end
            year += 1
            if year > t.year + 100:
                raise RuntimeError(f"calendar {self.name!r} has no working time after {t}")


Calendar = TwentyFourSeven | BusinessCalendar
_CALENDAR_CACHE: dict[tuple[str, str], BusinessCalendar] = {}


def get_calendar(config: dict[str, Any], name: str) -> Calendar:
    """The calendar called `name` in `config` (`24x7` is built in), cached by its definition."""
    if name == "24x7":
        return TwentyFourSeven()
    spec = config["calendars"][name]
    key = (name, repr(spec))  # a changed definition (another test's config) gets its own cache
    if key not in _CALENDAR_CACHE:
        _CALENDAR_CACHE[key] = BusinessCalendar(name, spec)
    return _CALENDAR_CACHE[key]


def _parse_ranges(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Parse day ranges: "08:00-12:00,13:00-17:00" -> [((8, 0), (12, 0)), ((13, 0), (17, 0))]."""
    ranges = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        start_text, end_text = part.split("-")
        ranges.append((_parse_hhmm(start_text), _parse_hhmm(end_text)))
    return ranges


def _parse_hhmm(text: str) -> tuple[int, int]:
    hour_text, minute_text = text.strip().split(":")
    hour, minute = int(hour_text), int(minute_text)
    if not (0 <= hour <= 23 and 0 <= minute <= 59) and (hour, minute) != (24, 0):
        raise ValueError(f"bad wall time {text!r}")
    return hour, minute


def _as_date(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# ----------------------------------------------------------------------------- clock arithmetic


def _minus_pauses(start: datetime, end: datetime, pauses: Sequence[Interval]) -> list[Interval]:
    """The parts of [start, end) outside every pause (pauses sorted and disjoint)."""
    pieces = []
    cursor = start
    for pause_start, pause_end in pauses:
        if pause_end <= cursor or pause_start >= end:
            continue
        if pause_start > cursor:
            pieces.append((cursor, pause_start))
        cursor = max(cursor, pause_end)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def _running_intervals(calendar: Calendar, start: datetime, pauses: Sequence[Interval]) -> Iterator[Interval]:
    """Intervals from `start` on where the clock runs: the calendar's working time minus pauses."""
    for work_start, work_end in calendar.intervals_from(start):
        yield from _minus_pauses(work_start, work_end, pauses)


def work_seconds(calendar: Calendar, a: datetime, b: datetime, pauses: Sequence[Interval] = ()) -> int:
    """work(E, a, b): real seconds of [a, b) inside the calendar, minus pauses."""
    total = 0
    for start, end in _running_intervals(calendar, a, pauses):
        if start >= b:
            break
        total += _seconds(min(end, b) - start)
    return total


def deadline(calendar: Calendar, start: datetime, target: int, pauses: Sequence[Interval] = ()) -> datetime:
    """D = the earliest t >= start with work(E, start, t) >= target.

    Walks forward interval by interval; a deadline that lands exactly on the end of an
    interval is that end (not the start of the next one), and a clock that starts outside
    working time begins at the next working instant. A zero target is due at `start`.
    """
    if target <= 0:
        return start
    remaining = target
    for run_start, run_end in _running_intervals(calendar, start, pauses):
        length = _seconds(run_end - run_start)
        if length >= remaining:
            return run_start + timedelta(seconds=remaining)
        remaining -= length
    raise AssertionError("unreachable: calendars never run out of working time")


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


# ----------------------------------------------------------------------------- timelines


class Timeline:
    """A value that holds from each change's instant on; at one instant the last change wins."""

    def __init__(self, initial: Any, changes: list[tuple[datetime, Any]]) -> None:
        self.initial = initial
        # A stable sort by instant keeps the given (file) order among changes of one instant.
        self.changes = sorted(changes, key=lambda change: change[0])

    def at(self, t: datetime) -> Any:
        """The value in force at `t`, after every change at `t`."""
        value = self.initial
        for instant, new_value in self.changes:
            if instant > t:
                break
            value = new_value
        return value

    def instants(self) -> list[datetime]:
        """The distinct instants at which a change happens, in time order."""
        return sorted({instant for instant, _ in self.changes})


@dataclass
class _Life:
    """When an obligation's clock started and how (if at all) it ended."""

    kind: str  # 'initial' | 'follow_up'
    seq: int
    start: datetime
    end: datetime | None  # None while still running at as-of
    ended_by: str | None  # 'response' | 'close' | None


def _end_of_life(kind: str, seq: int, start: datetime, response: datetime | None, close: datetime | None) -> _Life:
    """Ends at the earlier of the response and the close; a response at the close's instant wins."""
    if response is not None and (close is None or response <= close):
        return _Life(kind, seq, start, response, "response")
    if close is not None:
        return _Life(kind, seq, start, close, "close")
    return _Life(kind, seq, start, None, None)


# ----------------------------------------------------------------------------- obligations


def reference_obligations(case: RefCase, config: dict[str, Any], as_of: datetime) -> list[dict[str, Any]]:
    """Every response obligation of `case` as of `as_of`, with the export's columns, sorted by seq."""
    opened = case.opened_at
    if opened > as_of:
        return []  # cases opened after as-of do not exist

    # As of A: every row with an instant after A is ignored. Rows before the opening would be
    # quarantined by the loader, so they are ignored here too.
    def kept(instant: datetime) -> bool:
        return opened <= instant <= as_of

    status_changes = [(at, value) for at, fld, value in case.changes if fld == "status" and kept(at)]
    if case.closed_at is not None and kept(case.closed_at):
        status_changes.append((case.closed_at, "closed"))  # appended last: after every row of its instant
    status = Timeline("open", status_changes)
    severity_changes = [(at, int(value)) for at, fld, value in case.changes if fld == "severity" and kept(at)]
    severity = Timeline(int(case.severity), severity_changes)
    # Agent responses: public not false; several at one instant are one response.
    responses = sorted(
        {at for at, author, public in case.responses if author == "agent" and public is not False and kept(at)}
    )
    # The instants at which the case is closed (after that instant's changes), in time order.
    closes = [t for t in status.instants() if status.at(t) == "closed"]
    suspensions = [(start, end) for start, end in case.suspensions if start <= as_of]

    def first_at_or_after(instants: list[datetime], t: datetime) -> datetime | None:
        return next((instant for instant in instants if instant >= t), None)

    def first_after(instants: list[datetime], t: datetime) -> datetime | None:
        return next((instant for instant in instants if instant > t), None)

    # Initial: from the opening to the first agent response or the first closed instant.
    first_response, first_close = first_at_or_after(responses, opened), first_at_or_after(closes, opened)
    lives = [_end_of_life("initial", 0, opened, first_response, first_close)]
    # Follow-ups: each agent response at whose instant the case is open starts one; it ends at
    # the next response strictly after it or the next close, whichever comes first.
    seq = 0
    for response in responses:
        if status.at(response) in OPEN_STATUSES:
            seq += 1
            next_response, next_close = first_after(responses, response), first_after(closes, response)
            lives.append(_end_of_life("follow_up", seq, response, next_response, next_close))

    package_name = _package_in_force(case, config)
    package = _terms_in_force(config, package_name, case) if package_name is not None else None
    return [
        _evaluate(case, config, package_name, package, life, status, severity, suspensions, as_of) for life in lives
    ]


def _package_in_force(case: RefCase, config: dict[str, Any]) -> str | None:
    """The package whose term holds the local opening date (account's region calendar)."""
    local_date = _local_opening_date(case, config)
    for package, start_date, end_date in case.subscriptions:
        if start_date <= local_date <= end_date:
            return package
    return None


def _terms_in_force(config: dict[str, Any], package_name: str, case: RefCase) -> dict[str, Any]:
    """The package's keys as in force on the local opening date.

    Start from the package's own keys; lay each of its `versions` whose `from` is on or before
    that date over them in date order, then each of the account's `overrides` (no `from`:
    from the start) the same way. Tables are merged key by key, anything else replaced.
    """
    local_date = _local_opening_date(case, config)
    definition = {key: value for key, value in config["packages"][package_name].items() if key != "versions"}
    versions = sorted(config["packages"][package_name].get("versions", []), key=lambda v: _as_date(v["from"]))
    for version in versions:
        if _as_date(version["from"]) <= local_date:
            definition = _laid_over(definition, version)
    mine = [o for o in config.get("overrides", []) if o["account_id"] == case.account_id]
    # no `from` first, then by date (sorting on (has a date, date) keeps the order total)
    mine.sort(key=lambda o: (o.get("from") is not None, _as_date(o.get("from", "1970-01-01"))))
    for override in mine:
        if override.get("from") is None or _as_date(override["from"]) <= local_date:
            definition = _laid_over(definition, override)
    return definition


def _laid_over(definition: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """`definition` with the package keys of a version or override laid over it, tables key by key."""
    out = copy.deepcopy(definition)
    for key, value in change.items():
        if key in ("from", "account_id"):
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _local_opening_date(case: RefCase, config: dict[str, Any]) -> date:
    zone = ZoneInfo(config["calendars"][case.region]["timezone"])
    return case.opened_at.astimezone(zone).date()


def _calendar_name(package: dict[str, Any] | None, severity: int, region: str) -> str:
    """The clock at `severity`: the package's `clock[s]`, else 24x7 for 1 and business for 2-3."""
    clock = (package or {}).get("clock") or {}
    name = clock.get(str(severity))
    if name is None:
        name = "24x7" if severity == 1 else "business"
    return region if name == "business" else name


def _target_seconds(package: dict[str, Any] | None, kind: str, severity: int) -> int | None:
    """round(hours * 3600) from the package's table for the kind, or None if there is none."""
    if package is None:
        return None
    table = package.get("initial_response_hours" if kind == "initial" else "follow_up_hours")
    if not table or str(severity) not in table:
        return None
    return round(table[str(severity)] * 3600)


def _pauses(status: Timeline, start: datetime, end: datetime) -> list[Interval]:
    """Maximal stretches of [start, end) whose status is pending_customer."""
    bounds = [start] + [t for t in status.instants() if start < t < end] + [end]
    pauses: list[Interval] = []
    for u, v in itertools.pairwise(bounds):
        if u < v and status.at(u) == "pending_customer":
            if pauses and pauses[-1][1] == u:
                pauses[-1] = (pauses[-1][0], v)
            else:
                pauses.append((u, v))
    return pauses


def _is_suspended(suspensions: list[tuple[datetime, datetime | None]], t: datetime) -> bool:
    """suspended_from <= t < suspended_to, an empty end meaning still suspended."""
    return any(start <= t and (end is None or t < end) for start, end in suspensions)


def _evaluate(
    case: RefCase,
    config: dict[str, Any],
    package_name: str | None,
    package: dict[str, Any] | None,
    life: _Life,
    status: Timeline,
    severity: Timeline,
    suspensions: list[tuple[datetime, datetime | None]],
    as_of: datetime,
) -> dict[str, Any]:
    """Cut one obligation's life into severity pieces, find its first breach and build its export row."""
    start = life.start
    end = life.end if life.end is not None else as_of  # a running obligation is measured to A
    # The initial clock never pauses; a follow-up stops while pending_customer within [start, end).
    pauses = _pauses(status, start, end) if life.kind == "follow_up" else []

    def calendar_at(s: int) -> Calendar:
        return get_calendar(config, _calendar_name(package, s, case.region))

    # Cut the life at each severity change strictly after start and at or before end.
    cuts = [t for t in severity.instants() if start < t <= end]
    piece_starts = [start, *cuts]
    breached_at: datetime | None = None
    for index, x in enumerate(piece_starts):
        y = piece_starts[index + 1] if index + 1 < len(piece_starts) else end  # last piece is [x, end]
        s = severity.at(x)
        target = _target_seconds(package, life.kind, s)
        if target is None:
            continue  # a piece whose severity has no target never breaches
        due = deadline(calendar_at(s), start, target, pauses)
        if due < y:
            breached_at = max(due, x)  # an upgrade past its deadline breaches at the upgrade
            break  # the first breach wins and is final

    s_last = severity.at(piece_starts[-1])
    calendar_last = calendar_at(s_last)
    target_last = _target_seconds(package, life.kind, s_last)
    deadline_last = deadline(calendar_last, start, target_last, pauses) if target_last is not None else None
    elapsed = work_seconds(calendar_last, start, end, pauses)

    if _is_suspended(suspensions, start):
        verdict = "suspended"
    elif package is None or (target_last is None and breached_at is None):
        verdict = "untargeted"
    elif breached_at is not None:
        verdict = "breached"
    elif life.ended_by == "response":
        verdict = "met"
    elif life.ended_by == "close":
        verdict = "cancelled"
    else:
        verdict = "pending"
    shows_target = verdict not in ("suspended", "untargeted")

    return {
        "case_id": case.case_id,
        "account_id": case.account_id,
        "package": package_name,
        "kind": life.kind,
        "seq": life.seq,
        "start_at": start,
        "severity": s_last,
        "calendar": calendar_last.name,
        "target_seconds": target_last if shows_target else None,
        "deadline_at": deadline_last if shows_target else None,
        "end_at": life.end,
        "elapsed_seconds": elapsed,
        "status": verdict,
        "breached_at": breached_at if verdict == "breached" else None,
    }
