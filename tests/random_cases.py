"""Seeded adversarial random cases for comparing the fast SLA engine with the reference.

`make_random_cases(seed, n)` returns a config override, the cases as `RefCase` objects
and the same data as rows of the contract's tables; `write_dataset` writes those as a
dataset folder (CSV files + config.toml) that the fast engine loads. A comparison test
runs the engine's export and `reference_obligations` at each of `AS_OF_INSTANTS` (the
last, `AS_OF_FINAL`, is the main one) and compares row by row.

The cases aim at the places where clocks go wrong: DST weeks in three hemispheres/zones,
holidays (with `add` and `remove`), severity changes both ways and at awkward instants,
pauses, closes and reopens, same-instant rows whose file order decides, suspensions,
package changes and gaps between terms (local opening date), versions of packages and
accounts' overrides from a date (local opening date again), responses placed exactly
on their deadline and one second after it, internal notes, customer messages, as-of cuts.
Only rows the loader accepts are emitted (no event before its case's opening, unique
response ids, no duplicate change keys, non-overlapping terms, known ids).
"""

from __future__ import annotations

import csv
import functools
import json
import random
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.reference_sla import (
    BusinessCalendar,
    RefCase,
    get_calendar,
    load_default_config,
    merge_config,
    reference_obligations,
)

# As-of instants for the comparison: three cuts through running cases (odd seconds on one)
# and the final one after almost everything. Some events land exactly on a cut.
AS_OF_FINAL = datetime(2027, 1, 4, 17, 0, 0, tzinfo=UTC)
AS_OF_INSTANTS: tuple[datetime, ...] = (
    datetime(2025, 11, 3, 16, 0, 0, tzinfo=UTC),  # Monday after Denver's 2025 fall-back
    datetime(2026, 3, 30, 9, 30, 17, tzinfo=UTC),  # Monday after London's 2026 spring-forward
    datetime(2026, 10, 5, 1, 0, 0, tzinfo=UTC),  # Monday morning after Sydney's 2026 DST start
    AS_OF_FINAL,
)
FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 12, 31)
EVENT_HORIZON = datetime(2027, 2, 1, tzinfo=UTC)  # scripts stop here

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
REGIONS = ("americas", "emea", "japan", "denver", "london", "sydney")
REGION_ZONES = {
    "americas": "America/Denver",
    "denver": "America/Denver",
    "emea": "Europe/London",
    "london": "Europe/London",
    "japan": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
}
DST_ZONES = ("America/Denver", "Europe/London", "Australia/Sydney")
PACKAGES = ("Standard", "Bronze", "Silver", "Gold", "Platinum", "Premier", "Flex", "Partial")
PACKAGE_WEIGHTS = (1, 1, 3, 4, 3, 2, 3, 2)
# How a case's opening is placed: near a DST change, a holiday, a term edge, a suspension,
# an as-of cut, or anywhere.
SCENARIOS = ("dst", "holiday", "term_edge", "suspension", "cut", "terms_from", "plain")
SCENARIO_WEIGHTS = (24, 12, 10, 8, 15, 5, 26)

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id", "name", "region", "advisor"),
    "subscriptions": ("account_id", "package", "start_date", "end_date"),
    "cases": ("case_id", "account_id", "opened_at", "severity", "closed_at", "channel", "subject", "contact_id",
              "development_ticket"),
    "responses": ("response_id", "case_id", "at", "author_type", "public", "author"),
    "case_changes": ("case_id", "at", "field", "value"),
    "standing": ("account_id", "suspended_from", "suspended_to"),
    "contacts": ("contact_id", "account_id", "name", "authorized", "authorized_from", "authorized_to"),
}


def make_config_override() -> dict[str, Any]:
    """The dataset's config.toml as a TOML-shaped dict (severity keys are strings, as tomllib gives)."""
    return {
        "calendars": {
            "denver": {
                "timezone": "America/Denver",
                "hours": {day: "07:00-18:00" for day in WEEKDAYS},
                "holidays": {"country": "US", "add": [], "remove": []},
            },
            "london": {
                "timezone": "Europe/London",
                "hours": {day: "08:00-12:00,13:00-17:00" for day in WEEKDAYS},
                # Easter Monday 2026 and Christmas Eve 2025 added; Boxing Day 2025 and the
                # early-May bank holiday 2026 removed (worked as normal days).
                "holidays": {
                    "country": "GB",
                    "add": ["2025-12-24", "2026-04-06"],
                    "remove": ["2025-12-26", "2026-05-04"],
                },
            },
            "sydney": {
                "timezone": "Australia/Sydney",
                # Friday runs round the clock and touches Saturday's 00:00 start.
                "hours": {
                    "mon": "08:30-17:30",
                    "tue": "08:30-17:30",
                    "wed": "08:30-17:30",
                    "thu": "08:30-17:30",
                    "fri": "00:00-24:00",
                    "sat": "00:00-12:00",
                },
                "holidays": {"country": "AU", "subdiv": "NSW", "add": [], "remove": []},
            },
            # Weekend desk in Denver whose Sunday ranges start/end inside the DST gap (02:30)
            # and the repeated fall-back hour (01:30): exercises fold=0 on real deadlines.
            "sunday_ops": {
                "timezone": "America/Denver",
                "hours": {"sat": "00:00-24:00", "sun": "00:00-01:30,02:30-24:00"},
            },
        },
        "packages": {
            "Flex": {
                "rank": 7,
                "initial_response_hours": {"1": 1.5, "2": 6.25, "3": 10.2},
                "follow_up_hours": {"1": 7.75, "2": 30.5, "3": 48},
                # Inverted clocks: severity 1 on business hours, 2 round the clock, 3 on a named calendar.
                "clock": {"1": "business", "2": "24x7", "3": "sunday_ops"},
            },
            "Partial": {
                "rank": 8,
                # Severity 3 has no initial target and severity 1 no follow-up target.
                "initial_response_hours": {"1": 0.75, "2": 5.5},
                "follow_up_hours": {"2": 20.25, "3": 40},
                "clock": {"1": "24x7", "2": "business", "3": "business"},
            },
            # Change one target of a built-in package; the merge keeps its others.
            "Premier": {"initial_response_hours": {"1": 0.5}},
            # Terms that change over time, from DST dates: the "dst" scenario opens cases around
            # them, so some open on the day before locally but on the `from` date in UTC.
            "Gold": {
                "versions": [
                    # listed out of date order: the later one still applies last
                    {"from": "2026-03-08", "follow_up_hours": {"1": 20}, "clock": {"3": "24x7"}},
                    {"from": "2025-11-02", "initial_response_hours": {"2": 5}},
                ],
            },
            "Silver": {"versions": [{"from": "2025-10-26", "initial_response_hours": {"3": 9.5}}]},
            "Platinum": {"versions": [{"from": "2026-10-04", "initial_response_hours": {"1": 1, "2": 3}}]},
        },
        # An account's negotiated terms: from the start, and from a date on, over the versions.
        "overrides": [
            {"account_id": "A0003", "follow_up_hours": {"1": 12}},  # denver
            {"account_id": "A0003", "from": "2026-03-08", "initial_response_hours": {"1": 1.25}, "clock": {"2": "24x7"}},
            {"account_id": "A0004", "from": "2025-10-26", "initial_response_hours": {"2": 3}},  # london
            {"account_id": "A0005", "from": "2026-10-04", "follow_up_hours": {"3": 30}},  # sydney
        ],
    }


# ----------------------------------------------------------------------------- helpers


@functools.cache
def dst_transitions(zone_name: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in `year` at which the zone's UTC offset changes (on the hour for our zones)."""
    zone = ZoneInfo(zone_name)
    found = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    offset = t.astimezone(zone).utcoffset()
    while t.year == year:
        t += timedelta(hours=1)
        new_offset = t.astimezone(zone).utcoffset()
        if new_offset != offset:
            found.append(t)
            offset = new_offset
    return tuple(found)


def format_instant(t: datetime) -> str:
    """Aware datetime -> '2026-03-09T14:05:00Z' (whole seconds)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(zone_name: str, day: date, seconds_after_midnight: int) -> datetime:
    """Local wall time on `day` (fold=0) as UTC, whole seconds."""
    wall = datetime.combine(day, time(0)) + timedelta(seconds=seconds_after_midnight)
    return wall.replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)


def _random_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    t = start + timedelta(seconds=rng.randint(0, max(seconds, 0)))
    if rng.random() < 0.8:  # mostly whole minutes, like real logs; the rest odd seconds
        t = t.replace(second=0)
    return t


def _gap(rng: random.Random) -> timedelta:
    """Time to the next event: often zero (same instant), sometimes one second, minutes, hours or days."""
    roll = rng.random()
    if roll < 0.14:
        return timedelta(0)
    if roll < 0.17:
        return timedelta(seconds=1)
    if roll < 0.50:
        return timedelta(minutes=rng.randint(1, 90), seconds=rng.choice((0, 0, 0, rng.randint(1, 59))))
    if roll < 0.87:
        return timedelta(hours=rng.randint(1, 30), minutes=rng.choice((0, 15, 30, rng.randint(1, 59))))
    return timedelta(days=rng.randint(1, 5), hours=rng.randint(0, 23))


# ----------------------------------------------------------------------------- accounts


def _make_terms(rng: random.Random) -> list[tuple[str, date, date]]:
    """Consecutive non-overlapping terms over 2025-2026: some back to back, some with gaps."""
    if rng.random() < 0.04:
        return []  # an account that never held a package
    terms = []
    day = FIRST_DAY if rng.random() < 0.7 else FIRST_DAY + timedelta(days=rng.randint(1, 120))
    while day <= LAST_DAY:
        end = min(day + timedelta(days=rng.randint(45, 330)), LAST_DAY)
        terms.append((rng.choices(PACKAGES, PACKAGE_WEIGHTS)[0], day, end))
        day = end + timedelta(days=1 if rng.random() < 0.6 else rng.randint(2, 40))
    return terms


def _make_suspensions(rng: random.Random, index: int) -> list[tuple[datetime, datetime | None]]:
    """Zero to two closed suspensions, and sometimes an open-ended one late in 2026."""
    suspensions: list[tuple[datetime, datetime | None]] = []
    # Account 0 always has a closed suspension and account 1 an open-ended one (below).
    count = {0: 1, 1: 0}.get(index, rng.choices((0, 1, 2), (60, 30, 10))[0])
    start = datetime(2025, 1, 15, tzinfo=UTC)
    for _ in range(count):
        begin = _random_instant(rng, start, start + timedelta(days=250))
        end = begin + timedelta(seconds=rng.randint(3600, 15 * 86400))
        suspensions.append((begin, end))
        start = end + timedelta(days=10)
    if index == 1 or rng.random() < 0.08:
        begin = _random_instant(rng, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC))
        if all(end is not None and end < begin for _, end in suspensions):
            suspensions.append((begin, None))
    return suspensions


# ----------------------------------------------------------------------------- one case


class _CaseBuilder:
    """Accumulates one case's rows in time (and file) order while tracking its status and severity."""

    def __init__(self, case_id: str, account: dict[str, Any], opened: datetime, severity: int) -> None:
        self.case_id = case_id
        self.account = account
        self.opened = opened
        self.submitted = severity
        self.severity = severity
        self.status = "open"
        self.t = opened
        self.closed_at: datetime | None = None
        self.responses: list[tuple[datetime, str, bool | None]] = []  # public None = blank cell
        self.changes: list[tuple[datetime, str, str]] = []
        self._change_keys: set[tuple[datetime, str, str]] = set()

    def respond(self, at: datetime, author: str = "agent", public: bool | None = True) -> None:
        self.responses.append((at, author, public))

    def change(self, at: datetime, fld: str, value: str) -> bool:
        """Append a change row unless it would duplicate the key (case_id, at, field, value)."""
        if (at, fld, value) in self._change_keys:
            return False
        self._change_keys.add((at, fld, value))
        self.changes.append((at, fld, value))
        if fld == "status":
            self.status = value
        elif fld == "severity":
            self.severity = int(value)
        return True

    def ref_case(self, closed_at: datetime | None = None) -> RefCase:
        return RefCase(
            case_id=self.case_id,
            account_id=self.account["account_id"],
            region=self.account["region"],
            opened_at=self.opened,
            severity=self.submitted,
            closed_at=closed_at,
            responses=[(at, author, public is not False) for at, author, public in self.responses],
            changes=list(self.changes),
            subscriptions=list(self.account["terms"]),
            suspensions=list(self.account["suspensions"]),
        )


def _running_deadline(builder: _CaseBuilder, config: dict[str, Any]) -> datetime | None:
    """The deadline of the latest obligation still running after the rows so far, if it has one.

    Asked as of now (`builder.t`, after every row so far): the status is open, so no pause
    runs on and the deadline is the one that holds if nothing else happens before it.
    """
    rows = reference_obligations(builder.ref_case(), config, builder.t)
    running = [r for r in rows if r["end_at"] is None and r["deadline_at"] is not None]
    if not running or running[-1]["deadline_at"] < builder.t:
        return None
    return running[-1]["deadline_at"]


ACTIONS = (
    "agent", "deadline", "customer", "note", "upgrade", "downgrade",
    "pause", "unpause", "close", "reopen", "escalation", "combo",
)  # fmt: skip
ACTION_WEIGHTS = (28, 11, 8, 5, 6, 6, 8, 7, 4, 5, 3, 9)


def _script(rng: random.Random, builder: _CaseBuilder, config: dict[str, Any]) -> None:
    """A random walk of events after the opening, each at or after the previous one."""
    b = builder
    if rng.random() < 0.06:  # a severity change at the opening instant
        b.change(b.opened, "severity", str(rng.choice([s for s in (1, 2, 3) if s != b.severity])))
    if rng.random() < 0.05:  # an agent response at the opening instant
        b.respond(b.opened)
    for _ in range(rng.choices(range(9), (6, 10, 14, 14, 14, 12, 12, 10, 8))[0]):
        b.t = b.t + _gap(rng)
        if b.t > EVENT_HORIZON:
            break
        t = b.t
        action = rng.choices(ACTIONS, ACTION_WEIGHTS)[0]
        if b.status == "closed" and action not in ("reopen", "customer", "agent", "escalation"):
            action = "reopen" if rng.random() < 0.7 else "agent"  # an agent reply while closed starts nothing
        if action == "deadline":
            due = _running_deadline(b, config) if b.status == "open" else None
            if due is None:
                action = "agent"
            else:
                b.t = due + timedelta(seconds=rng.choice((0, 1)))  # exactly on D, or one second late
                b.respond(b.t)
                continue
        if action == "agent":
            b.respond(t, public=True if rng.random() < 0.9 else None)  # blank `public` means true
        elif action == "customer":
            b.respond(t, "customer", rng.choice((True, None)))
        elif action == "note":
            b.respond(t, "agent", False)  # internal note: never a response
        elif action in ("upgrade", "downgrade"):
            higher = [s for s in (1, 2, 3) if s < b.severity]
            lower = [s for s in (1, 2, 3) if s > b.severity]
            choices = (higher if action == "upgrade" else lower) or (lower or higher)
            b.change(t, "severity", str(rng.choice(choices)))
        elif action == "pause":
            b.change(t, "status", "pending_customer" if b.status == "open" else "open")
        elif action == "unpause":
            b.change(t, "status", "open" if b.status == "pending_customer" else "pending_customer")
        elif action == "close":
            b.change(t, "status", "closed")
        elif action == "reopen":
            b.change(t, "status", rng.choice(("open", "open", "pending_customer")))
        elif action == "escalation":
            b.change(t, "escalation", rng.choice(("1", "2", "3", "manager")))
        else:
            _combo(rng, b, t)


def _combo(rng: random.Random, b: _CaseBuilder, t: datetime) -> None:
    """Several rows at one instant, where file order (last row wins) or tie rules decide."""
    kind = rng.choice(
        (
            "response_and_severity",
            "double_agent",
            "status_flip",
            "close_then_open",
            "response_and_pause",
            "response_and_close",
            "severity_twice",
        )
    )
    if kind == "response_and_severity":
        b.change(t, "severity", str(rng.choice([s for s in (1, 2, 3) if s != b.severity])))
        b.respond(t)
    elif kind == "double_agent":
        b.respond(t)
        b.respond(t)
        if rng.random() < 0.5:
            b.respond(t, "agent", False)
    elif kind == "status_flip":
        first, last = ("pending_customer", "open") if rng.random() < 0.5 else ("open", "pending_customer")
        b.change(t, "status", first)
        b.change(t, "status", last)
    elif kind == "close_then_open":
        b.change(t, "status", "closed")
        b.change(t, "status", "open")  # open wins at this instant: never closed
        if rng.random() < 0.5:
            b.respond(t)
    elif kind == "response_and_pause":
        b.respond(t)
        b.change(t, "status", "pending_customer")  # the follow-up starts paused
    elif kind == "response_and_close":
        b.respond(t)
        b.change(t, "status", "closed")  # satisfies the running obligation, starts nothing
    else:
        overridden, winner = rng.sample((1, 2, 3), 2)
        b.change(t, "severity", str(overridden))
        b.change(t, "severity", str(winner))


def _finish(rng: random.Random, b: _CaseBuilder) -> None:
    """Close the case (closed_at, a status row, ties with other rows) or leave it running."""
    roll = rng.random()
    at = b.t + _gap(rng)
    if roll < 0.45:
        b.closed_at = at
    elif roll < 0.52:
        b.closed_at = at
        b.change(at, "status", "open")  # closed_at comes after every row of its instant: closed
    elif roll < 0.58:
        b.closed_at = at
        later = at + _gap(rng) + timedelta(minutes=5)
        b.change(later, "status", "open")  # reopened after closed_at
        b.respond(later + timedelta(minutes=rng.randint(0, 120)))
    elif roll < 0.66:
        b.change(at, "status", "closed")  # closed by a status row only


def _shuffle_file_order(
    rng: random.Random, changes: list[tuple[datetime, str, str]]
) -> list[tuple[datetime, str, str]]:
    """Interleave rows of different instants randomly, keeping the order of rows at one instant."""
    group_key = {at: rng.random() for at, _, _ in changes}
    order = sorted(range(len(changes)), key=lambda i: (group_key[changes[i][0]], i))
    return [changes[i] for i in order]


# ----------------------------------------------------------------------------- opening instants


def _opening(rng: random.Random, scenario: str, account: dict[str, Any], config: dict[str, Any]) -> datetime:
    zone_name = REGION_ZONES[account["region"]]
    if scenario == "dst":
        transition = rng.choice([t for y in (2025, 2026) for t in dst_transitions(zone_name, y)])
        return _random_instant(rng, transition - timedelta(days=6), transition + timedelta(days=1))
    if scenario == "holiday":
        calendar = get_calendar(config, account["region"])
        assert isinstance(calendar, BusinessCalendar)  # regions are business calendars
        days = sorted(calendar.holidays_of(2025) | calendar.holidays_of(2026) | calendar.removed)
        if (calendar.added or calendar.removed) and rng.random() < 0.5:
            days = sorted(calendar.added | calendar.removed)  # the config's own add/remove dates
        day = rng.choice(days) - timedelta(days=rng.randint(0, 3))
        return _local(zone_name, day, rng.randint(0, 86399) // 60 * 60)
    if scenario == "term_edge" and account["terms"]:
        edges = [start for _, start, _ in account["terms"]] + [
            end + timedelta(days=1) for _, _, end in account["terms"]
        ]
        edge = rng.choice(edges)
        offset = rng.choice((0, -1, 1, rng.randint(-3 * 3600, 3 * 3600)))  # around local midnight
        return _local(zone_name, edge, 0) + timedelta(seconds=offset)
    if scenario == "terms_from":  # around local midnight of a version's or an override's `from`
        changes = [v for p in config["packages"].values() for v in p.get("versions", [])]
        changes += [o for o in config.get("overrides", []) if o["account_id"] == account["account_id"] and "from" in o]
        day = date.fromisoformat(rng.choice(changes)["from"])
        offset = rng.choice((0, -1, 1, rng.randint(-14 * 3600, 14 * 3600)))  # the UTC date may differ
        return _local(zone_name, day, 0) + timedelta(seconds=offset)
    if scenario == "suspension" and account["suspensions"]:
        begin, end = rng.choice(account["suspensions"])
        choices = [begin, begin - timedelta(hours=rng.randint(1, 48)), begin + timedelta(minutes=rng.randint(1, 600))]
        if end is not None:
            choices += [end, end - timedelta(seconds=1)]
        return rng.choice(choices)
    if scenario == "cut":
        cut = rng.choice(AS_OF_INSTANTS)
        return _random_instant(rng, cut - timedelta(days=5), cut - timedelta(minutes=1))
    start = datetime.combine(FIRST_DAY, time(0), tzinfo=UTC) + timedelta(days=3)
    return _random_instant(rng, start, datetime(2026, 12, 24, tzinfo=UTC))


# ----------------------------------------------------------------------------- public


def make_random_cases(seed: int, n: int) -> tuple[dict[str, Any], list[RefCase], dict[str, list[dict[str, Any]]]]:
    """Deterministic per seed: (config override, n RefCases, contract table rows with typed values).

    Table values are typed (datetime, date, bool, int) and None for an empty cell;
    `write_dataset` turns them into CSV text.
    """
    rng = random.Random(seed)
    override = make_config_override()
    config = merge_config(load_default_config(), override)

    accounts: list[dict[str, Any]] = []
    for index in range(max(12, n // 25)):
        accounts.append(
            {
                "account_id": f"A{index:04d}",
                "region": REGIONS[index % len(REGIONS)],
                "terms": _make_terms(rng),
                "suspensions": _make_suspensions(rng, index),
            }
        )
    by_zone: dict[str, list[dict[str, Any]]] = {}
    for account in accounts:
        by_zone.setdefault(REGION_ZONES[account["region"]], []).append(account)

    cases: list[RefCase] = []
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}
    response_number = 0
    for number in range(n):
        scenario = rng.choices(SCENARIOS, SCENARIO_WEIGHTS)[0]
        if scenario == "dst":
            account = rng.choice(by_zone[rng.choice(DST_ZONES)])
        elif scenario == "suspension":
            account = rng.choice([a for a in accounts if a["suspensions"]])
        elif scenario == "terms_from":  # the accounts with overrides, or any
            account = rng.choice([*accounts[3:6], rng.choice(accounts)])
        else:
            account = rng.choice(accounts)
        opened = _opening(rng, scenario, account, config)
        builder = _CaseBuilder(f"C{number:05d}", account, opened, rng.choice((1, 2, 2, 3, 3)))
        _script(rng, builder, config)
        _finish(rng, builder)
        if scenario == "cut" and rng.random() < 0.5:
            cut = next((c for c in AS_OF_INSTANTS if c > opened), None)
            if cut is not None:  # a row exactly at the cut: kept, since rows at A count
                if rng.random() < 0.6:
                    builder.respond(cut)
                else:
                    builder.change(cut, "severity", str(rng.choice((1, 2, 3))))
        if rng.random() < 0.12:
            builder.changes = _shuffle_file_order(rng, builder.changes)

        case = builder.ref_case(builder.closed_at)
        cases.append(case)
        tables["cases"].append(
            {
                "case_id": case.case_id,
                "account_id": case.account_id,
                "opened_at": case.opened_at,
                "severity": case.severity,
                "closed_at": case.closed_at,
                "channel": rng.choice(("phone", "email", "web", "chat")),
                "subject": f"{scenario} case {number}",
            }
        )
        response_rows = []
        for at, author, public in builder.responses:
            response_number += 1
            response_rows.append(
                {
                    "response_id": f"R{response_number:07d}",
                    "case_id": case.case_id,
                    "at": at,
                    "author_type": author,
                    "public": public,
                    "author": "agent-7" if author == "agent" else "customer",
                }
            )
        rng.shuffle(response_rows)  # response order in the file carries no meaning
        tables["responses"].extend(response_rows)
        for at, fld, value in case.changes:  # file order = RefCase.changes order
            tables["case_changes"].append({"case_id": case.case_id, "at": at, "field": fld, "value": value})

    for account in accounts:
        tables["accounts"].append(
            {
                "account_id": account["account_id"],
                "name": f"Account {account['account_id']}",
                "region": account["region"],
                "advisor": rng.choice(("Ana", "Bo", "Chen", None)),
            }
        )
        for package, start, end in account["terms"]:
            tables["subscriptions"].append(
                {"account_id": account["account_id"], "package": package, "start_date": start, "end_date": end}
            )
        for begin, end in account["suspensions"]:
            tables["standing"].append(
                {"account_id": account["account_id"], "suspended_from": begin, "suspended_to": end}
            )
    _add_requesters(random.Random(seed + 1), tables)
    return override, cases, tables


def _add_requesters(rng: random.Random, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Contacts and development tickets, drawn apart from the cases' clocks (the SLA rows never read them).

    Each account has an authorized contact, one authorized for the first half of 2025 only and
    one never authorized; a case names one of them or none, and one in ten raised a ticket.
    """
    for account in tables["accounts"]:
        account_id = account["account_id"]
        for suffix, authorized, start, end in (("ok", True, None, None),
                                               ("h1", True, date(2025, 1, 1), date(2025, 6, 30)),
                                               ("no", False, None, None)):
            tables["contacts"].append({"contact_id": f"{account_id}-{suffix}", "account_id": account_id,
                                       "name": f"Contact {suffix}", "authorized": authorized,
                                       "authorized_from": start, "authorized_to": end})
    for row in tables["cases"]:
        who = rng.choice((None, "ok", "ok", "h1", "no"))
        row["contact_id"] = None if who is None else f"{row['account_id']}-{who}"
        row["development_ticket"] = rng.random() < 0.1


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_toml(config: dict[str, Any]) -> str:
    """A small TOML writer: tables holding tables become [sections], leaf tables inline tables."""
    lines: list[str] = []

    def key(name: str) -> str:
        return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)  # a JSON string is a valid TOML basic string
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(item) for item in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{key(k)} = {value(item)}" for k, item in v.items()) + " }"
        raise TypeError(f"cannot write {v!r} as TOML")

    def is_section(v: Any) -> bool:
        return isinstance(v, dict) and any(isinstance(item, dict) for item in v.values())

    def section(path: list[str], table: dict[str, Any]) -> None:
        entries = [(k, v) for k, v in table.items() if not is_section(v)]
        if entries or not path:
            if path:
                lines.append("")
                lines.append("[" + ".".join(key(part) for part in path) + "]")
            lines.extend(f"{key(k)} = {value(v)}" for k, v in entries)
        for k, v in table.items():
            if is_section(v):
                section([*path, k], v)

    # Top-level tables are always sections, even when they hold only scalars.
    top_scalars = {k: v for k, v in config.items() if not isinstance(v, dict)}
    section([], top_scalars)
    for name, table in config.items():
        if isinstance(table, dict):
            if is_section(table):
                section([name], table)
            else:
                lines.append("")
                lines.append(f"[{key(name)}]")
                lines.extend(f"{key(k)} = {value(v)}" for k, v in table.items())
    return "\n".join(lines).lstrip("\n") + "\n"


def write_dataset(folder: Path, config_override: dict[str, Any], tables: dict[str, list[dict[str, Any]]]) -> None:
    """Write the tables as `<table>.csv` with the contract's columns, plus config.toml."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns in TABLE_COLUMNS.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in tables.get(name, []):
                writer.writerow([_csv_text(row.get(column)) for column in columns])
    (folder / "config.toml").write_text(to_toml(config_override), encoding="utf-8")
