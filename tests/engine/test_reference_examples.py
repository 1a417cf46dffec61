"""The reference SLA clock against hand-worked cases.

The seven worked examples come from sla-rules.md section 6 (values copied from the spec
text, not from running the code). The extra tests pin the edge rules of
docs/sla-clock.md; each expected value is worked out by hand in a comment.
Calendar `americas`: America/Denver, Mon-Fri 07:00-18:00, US holidays. MDT is UTC-6
from 2026-03-08, MST is UTC-7 before it and from 2026-11-01.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from tests.reference_sla import (
    RefCase,
    get_calendar,
    load_default_config,
    merge_config,
    reference_obligations,
    work_seconds,
)

LATE = datetime.fromisoformat("2027-06-01T00:00:00+00:00")  # as-of after every event


def utc(text: str) -> datetime:
    """'2026-03-09T19:00:00Z' -> aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def make_case(
    package: str | None,
    severity: int,
    opened: str,
    agent: tuple[str, ...] = (),
    changes: tuple[tuple[str, str, str], ...] = (),
    closed: str | None = None,
    region: str = "americas",
    subscriptions: list[tuple[str, date, date]] | None = None,
    suspensions: list[tuple[datetime, datetime | None]] | None = None,
    other_responses: tuple[tuple[str, str, bool], ...] = (),
) -> RefCase:
    """A case whose account holds `package` all of 2025-2026 unless `subscriptions` is given."""
    if subscriptions is None:
        subscriptions = [(package, date(2025, 1, 1), date(2026, 12, 31))] if package else []
    responses = [(utc(at), "agent", True) for at in agent] + [(utc(at), a, p) for at, a, p in other_responses]
    return RefCase(
        case_id="C1",
        account_id="A1",
        region=region,
        opened_at=utc(opened),
        severity=severity,
        closed_at=utc(closed) if closed else None,
        responses=responses,
        changes=[(utc(at), fld, value) for at, fld, value in changes],
        subscriptions=subscriptions,
        suspensions=suspensions or [],
    )


def run(case: RefCase, config: dict[str, Any] | None = None, as_of: datetime = LATE) -> list[dict[str, Any]]:
    return reference_obligations(case, config or load_default_config(), as_of)


def initial(case: RefCase, **kwargs: Any) -> dict[str, Any]:
    rows = run(case, **kwargs)
    assert rows[0]["kind"] == "initial" and rows[0]["seq"] == 0
    return rows[0]


# ----------------------------------------------------------------------------- spec section 6


def test_example_1_weekend_and_dst() -> None:
    """Business clock skips the weekend and Monday starts at 07:00 MDT after DST began."""
    row = initial(make_case("Gold", 2, "2026-03-06T23:00:00Z", agent=("2026-03-09T18:30:00Z",)))
    assert row["calendar"] == "americas"
    assert row["target_seconds"] == 8 * 3600
    assert row["deadline_at"] == utc("2026-03-09T19:00:00Z")
    assert row["status"] == "met"
    assert row["elapsed_seconds"] == 27000
    assert row["breached_at"] is None
    assert row["severity"] == 2


def test_example_2_24x7() -> None:
    """Severity 1 on Platinum runs 24x7 through a Saturday night and breaches at start + 2 h."""
    row = initial(make_case("Platinum", 1, "2026-03-07T23:30:00Z", agent=("2026-03-08T01:45:00Z",)))
    assert row["calendar"] == "24x7"
    assert row["target_seconds"] == 7200
    assert row["deadline_at"] == utc("2026-03-08T01:30:00Z")
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-03-08T01:30:00Z")
    assert row["elapsed_seconds"] == 8100


def test_example_3_upgrade_in_time() -> None:
    """An upgrade to severity 1 takes the 4 h 24x7 deadline from the opening; 18:30 is in time."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T15:00:00Z",
        agent=("2026-03-10T18:30:00Z",),
        changes=(("2026-03-10T16:00:00Z", "severity", "1"),),
    )
    row = initial(case)
    assert row["status"] == "met"
    assert row["severity"] == 1
    assert row["calendar"] == "24x7"
    assert row["target_seconds"] == 4 * 3600
    assert row["deadline_at"] == utc("2026-03-10T19:00:00Z")
    assert row["elapsed_seconds"] == 12600
    assert row["breached_at"] is None


def test_example_3_upgrade_in_time_late_response() -> None:
    """The same upgrade answered at 19:10 breaches at the severity-1 deadline 19:00."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T15:00:00Z",
        agent=("2026-03-10T19:10:00Z",),
        changes=(("2026-03-10T16:00:00Z", "severity", "1"),),
    )
    row = initial(case)
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-03-10T19:00:00Z")
    assert row["severity"] == 1
    assert row["deadline_at"] == utc("2026-03-10T19:00:00Z")
    # 15:00 -> 19:10 on 24x7
    assert row["elapsed_seconds"] == 4 * 3600 + 600


def test_example_4_upgrade_too_late() -> None:
    """An upgrade whose deadline already passed breaches at the instant of the upgrade."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T14:00:00Z",
        agent=("2026-03-10T19:30:00Z",),
        changes=(("2026-03-10T19:00:00Z", "severity", "1"),),
    )
    row = initial(case)
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-03-10T19:00:00Z")
    assert row["severity"] == 1
    assert row["calendar"] == "24x7"
    assert row["target_seconds"] == 4 * 3600
    assert row["deadline_at"] == utc("2026-03-10T18:00:00Z")
    assert row["elapsed_seconds"] == 19800


def test_example_5_downgrade_after_breach() -> None:
    """A downgrade after the breach does not undo it; the last piece's values are reported."""
    case = make_case(
        "Platinum",
        1,
        "2026-03-10T15:00:00Z",
        agent=("2026-03-10T18:30:00Z",),
        changes=(("2026-03-10T18:00:00Z", "severity", "3"),),
    )
    row = initial(case)
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-03-10T17:00:00Z")
    assert row["severity"] == 3
    assert row["calendar"] == "americas"
    assert row["target_seconds"] == 36000
    assert row["deadline_at"] == utc("2026-03-11T14:00:00Z")
    assert row["elapsed_seconds"] == 12600


def test_example_6_pause() -> None:
    """A follow-up's clock stops while pending_customer: 32 h + 24 h paused = 12th 18:00."""
    case = make_case(
        "Silver",
        1,
        "2026-03-10T09:00:00Z",
        agent=("2026-03-10T10:00:00Z", "2026-03-12T17:00:00Z"),
        changes=(
            ("2026-03-10T12:00:00Z", "status", "pending_customer"),
            ("2026-03-11T12:00:00Z", "status", "open"),
        ),
    )
    row = run(case)[1]
    assert (row["kind"], row["seq"], row["start_at"]) == ("follow_up", 1, utc("2026-03-10T10:00:00Z"))
    assert row["calendar"] == "24x7"
    assert row["target_seconds"] == 32 * 3600
    assert row["deadline_at"] == utc("2026-03-12T18:00:00Z")
    assert row["status"] == "met"
    assert row["elapsed_seconds"] == 111600
    assert row["end_at"] == utc("2026-03-12T17:00:00Z")


def test_example_7_holiday() -> None:
    """Thanksgiving is skipped: 3 h Wednesday + 9 h Friday = Fri 16:00 MST."""
    row = initial(make_case("Gold", 3, "2026-11-25T22:00:00Z", agent=("2026-11-30T15:00:00Z",)))
    assert row["calendar"] == "americas"
    assert row["target_seconds"] == 12 * 3600
    assert row["deadline_at"] == utc("2026-11-27T23:00:00Z")
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-11-27T23:00:00Z")
    assert row["elapsed_seconds"] == 54000


# ----------------------------------------------------------------------------- docs/sla-clock.md edges


@pytest.mark.parametrize(
    ("response", "status", "elapsed"),
    [
        ("2026-03-10T19:00:00Z", "met", 14400),  # exactly at D = 15:00 + 4 h
        ("2026-03-10T19:00:01Z", "breached", 14401),  # one second after D
    ],
)
def test_response_on_deadline_is_met_one_second_later_breached(response: str, status: str, elapsed: int) -> None:
    """Responding exactly at D is met (D < end is false); at D + 1 s it breaches at D."""
    row = initial(make_case("Gold", 1, "2026-03-10T15:00:00Z", agent=(response,)))
    assert row["deadline_at"] == utc("2026-03-10T19:00:00Z")
    assert row["status"] == status
    assert row["elapsed_seconds"] == elapsed
    assert row["breached_at"] == (utc("2026-03-10T19:00:00Z") if status == "breached" else None)


def test_agent_responses_at_one_instant_count_once() -> None:
    """Two agent responses at 16:00 are one response: no zero-length follow-up appears."""
    agent = ("2026-03-10T16:00:00Z", "2026-03-10T16:00:00Z", "2026-03-10T17:00:00Z")
    rows = run(make_case("Gold", 1, "2026-03-10T15:00:00Z", agent=agent), as_of=utc("2026-03-10T18:00:00Z"))
    # initial 15:00-16:00 met; follow-up 1 16:00-17:00 met; follow-up 2 from 17:00 running at 18:00
    assert [(r["seq"], r["status"], r["elapsed_seconds"]) for r in rows] == [
        (0, "met", 3600),
        (1, "met", 3600),
        (2, "pending", 3600),
    ]
    assert rows[1]["start_at"] == utc("2026-03-10T16:00:00Z")


def test_agent_response_at_opening_instant() -> None:
    """A response at the opening ends the initial obligation (elapsed 0) and starts follow-up 1."""
    case = make_case("Gold", 2, "2026-03-10T15:00:00Z", agent=("2026-03-10T15:00:00Z",), closed="2026-03-11T15:00:00Z")
    initial_row, follow_up = run(case)
    assert (initial_row["status"], initial_row["elapsed_seconds"]) == ("met", 0)
    assert initial_row["end_at"] == utc("2026-03-10T15:00:00Z")
    # Follow-up 1, Gold sev 2 = 72 business hours, cancelled by the close after
    # Tue 09:00-18:00 MDT (9 h) + Wed 07:00-09:00 MDT (2 h) = 11 h.
    assert (follow_up["seq"], follow_up["start_at"]) == (1, utc("2026-03-10T15:00:00Z"))
    assert (follow_up["status"], follow_up["elapsed_seconds"]) == ("cancelled", 11 * 3600)


def test_pause_running_at_as_of_stops_at_as_of() -> None:
    """A pause still running at A ends at A: the deadline is where it would be if the clock restarted now."""
    case = make_case(
        "Gold",
        1,
        "2026-03-10T09:00:00Z",
        agent=("2026-03-10T10:00:00Z",),
        changes=(("2026-03-10T12:00:00Z", "status", "pending_customer"),),
    )
    rows = run(case, as_of=utc("2026-03-10T20:00:00Z"))
    follow_up = rows[1]
    # Ran 10:00-12:00 (2 h), paused 12:00-20:00; 30 h remain from 20:00 -> 12th 02:00.
    assert follow_up["status"] == "pending"
    assert follow_up["end_at"] is None
    assert follow_up["elapsed_seconds"] == 7200
    assert follow_up["deadline_at"] == utc("2026-03-12T02:00:00Z")


def test_case_opened_during_suspension() -> None:
    """An obligation starting inside [suspended_from, suspended_to) is suspended, not breached."""
    suspension = (utc("2026-03-01T00:00:00Z"), utc("2026-03-10T20:00:00Z"))
    case = make_case("Gold", 1, "2026-03-10T15:00:00Z", agent=("2026-03-10T20:00:00Z",), suspensions=[suspension])
    initial_row, follow_up = run(case, as_of=utc("2026-03-10T21:00:00Z"))
    # 15:00 -> 20:00 is 5 h > 4 h target, but the start lies in the suspension.
    assert initial_row["status"] == "suspended"
    assert initial_row["target_seconds"] is None and initial_row["deadline_at"] is None
    assert initial_row["breached_at"] is None
    assert initial_row["elapsed_seconds"] == 18000
    assert initial_row["calendar"] == "24x7" and initial_row["package"] == "Gold"
    # The follow-up starts at exactly suspended_to: start < suspended_to is false, so it runs.
    assert follow_up["status"] == "pending"
    assert follow_up["elapsed_seconds"] == 3600
    assert follow_up["deadline_at"] == utc("2026-03-12T04:00:00Z")  # 20:00 + 32 h


def test_open_ended_suspension_covers_starts_from_its_beginning_on() -> None:
    """An open-ended suspension (empty end) suspends obligations starting at or after its start only."""
    as_of = utc("2026-03-10T16:30:00Z")
    suspension = (utc("2026-03-10T15:00:00Z"), None)
    case = make_case("Gold", 1, "2026-03-10T15:00:00Z", suspensions=[suspension])
    assert initial(case, as_of=as_of)["status"] == "suspended"  # suspended_from <= start, no end
    later_suspension = (utc("2026-03-10T16:00:00Z"), None)
    case = make_case("Gold", 1, "2026-03-10T15:00:00Z", suspensions=[later_suspension])
    row = initial(case, as_of=as_of)
    assert (row["status"], row["elapsed_seconds"]) == ("pending", 5400)  # started before it


def test_case_opened_in_gap_between_terms() -> None:
    """No term holds the opening date: untargeted, default clocks (sev 2 runs on the region calendar)."""
    terms = [("Gold", date(2026, 1, 1), date(2026, 2, 28)), ("Platinum", date(2026, 4, 1), date(2026, 12, 31))]
    case = make_case(None, 2, "2026-03-10T15:00:00Z", agent=("2026-03-11T14:00:00Z",), subscriptions=terms)
    row = initial(case)
    # Tue 09:00-18:00 MDT (9 h) + Wed 07:00-08:00 MDT (1 h) = 10 h
    assert row["package"] is None
    assert row["status"] == "untargeted"
    assert row["calendar"] == "americas"
    assert row["target_seconds"] is None and row["deadline_at"] is None and row["breached_at"] is None
    assert row["elapsed_seconds"] == 36000
    case = make_case(None, 1, "2026-03-10T15:00:00Z", agent=("2026-03-10T16:00:00Z",), subscriptions=terms)
    assert (initial(case)["calendar"], initial(case)["elapsed_seconds"]) == ("24x7", 3600)


def test_reopen_starts_follow_ups_after_close() -> None:
    """A close cancels the running follow-up; a response while closed starts none; after a reopen one does."""
    case = make_case(
        "Gold",
        1,
        "2026-03-10T15:00:00Z",
        agent=("2026-03-10T16:00:00Z", "2026-03-10T18:00:00Z", "2026-03-11T10:00:00Z"),
        changes=(
            ("2026-03-10T17:00:00Z", "status", "closed"),
            ("2026-03-11T09:00:00Z", "status", "open"),
        ),
        closed="2026-03-11T12:00:00Z",
        other_responses=(("2026-03-11T09:30:00Z", "customer", True), ("2026-03-11T09:45:00Z", "agent", False)),
    )
    rows = run(case)
    assert [(r["seq"], r["start_at"], r["end_at"], r["status"], r["elapsed_seconds"]) for r in rows] == [
        (0, utc("2026-03-10T15:00:00Z"), utc("2026-03-10T16:00:00Z"), "met", 3600),
        (1, utc("2026-03-10T16:00:00Z"), utc("2026-03-10T17:00:00Z"), "cancelled", 3600),
        # 18:00 response came while closed: no follow-up. The customer message and the
        # internal note (public false) neither start nor stop a clock.
        (2, utc("2026-03-11T10:00:00Z"), utc("2026-03-11T12:00:00Z"), "cancelled", 7200),
    ]
    assert rows[2]["deadline_at"] == utc("2026-03-12T18:00:00Z")  # 11th 10:00 + 32 h


def test_severity_change_at_response_instant_makes_zero_length_last_piece() -> None:
    """An upgrade at the response's instant is reported and breaches at that instant if already due."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T14:00:00Z",
        agent=("2026-03-10T19:00:00Z",),
        changes=(("2026-03-10T19:00:00Z", "severity", "1"),),
    )
    row = initial(case)
    # Piece [14:00, 19:00) sev 3: D = Wed 15:00Z, not < 19:00. Piece [19:00, 19:00] sev 1:
    # D = 18:00 < 19:00, breach at max(18:00, 19:00) = 19:00.
    assert row["severity"] == 1
    assert row["status"] == "breached"
    assert row["breached_at"] == utc("2026-03-10T19:00:00Z")
    assert row["deadline_at"] == utc("2026-03-10T18:00:00Z")
    assert row["elapsed_seconds"] == 5 * 3600


def test_same_instant_changes_last_row_wins_and_closed_at_last() -> None:
    """At one instant the last row in file order wins, and closed_at comes after every row."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T15:00:00Z",
        changes=(
            ("2026-03-10T16:00:00Z", "severity", "1"),
            ("2026-03-10T16:00:00Z", "severity", "2"),  # last row of 16:00: severity 2
            ("2026-03-10T18:00:00Z", "status", "closed"),
            ("2026-03-10T18:00:00Z", "status", "open"),  # open wins over the closed row...
        ),
        closed="2026-03-10T18:00:00Z",  # ...but closed_at comes last: closed at 18:00
    )
    row = initial(case)
    # Sev 2 = 8 business h from Tue 09:00 MDT -> Tue 17:00 MDT = 23:00Z; cancelled at 18:00Z.
    assert (row["severity"], row["calendar"], row["status"]) == (2, "americas", "cancelled")
    assert row["deadline_at"] == utc("2026-03-10T23:00:00Z")
    assert row["elapsed_seconds"] == 3 * 3600


def test_round_the_clock_calendar_across_midnight() -> None:
    """A 00:00-24:00 day touches the next day; a deadline on a day's end is that end."""
    config = merge_config(
        load_default_config(),
        {
            "calendars": {
                "nonstop": {
                    "timezone": "America/Denver",
                    "hours": {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri")},
                    "holidays": {"country": "US", "add": [], "remove": []},
                }
            }
        },
    )
    # Thu 20:00 MDT (Fri 02:00Z): Thu 20:00-24:00 (4 h) + Fri 00:00-04:00 -> Fri 04:00 MDT = 10:00Z.
    case = make_case("Gold", 2, "2026-03-13T02:00:00Z", agent=("2026-03-13T09:00:00Z",), region="nonstop")
    row = initial(case, config=config)
    assert (row["calendar"], row["deadline_at"], row["status"]) == ("nonstop", utc("2026-03-13T10:00:00Z"), "met")
    assert row["elapsed_seconds"] == 7 * 3600  # Thu 20:00 -> Fri 03:00 MDT, midnight not a gap
    # Fri 16:00 MDT (22:00Z): Fri 16:00-24:00 is exactly 8 h -> D = Sat 00:00 MDT = 06:00Z,
    # not Mon 00:00. Answer Mon 01:00 MDT = 07:00Z: breached at Sat 06:00Z, elapsed 8 h + 1 h.
    case = make_case("Gold", 2, "2026-03-13T22:00:00Z", agent=("2026-03-16T07:00:00Z",), region="nonstop")
    row = initial(case, config=config)
    assert row["deadline_at"] == utc("2026-03-14T06:00:00Z")
    assert (row["status"], row["breached_at"]) == ("breached", utc("2026-03-14T06:00:00Z"))
    assert row["elapsed_seconds"] == 9 * 3600


def test_lunch_break_calendar() -> None:
    """Two ranges a day: the lunch hour never counts, and a deadline at 12:00 stays at 12:00."""
    config = merge_config(
        load_default_config(),
        {
            "calendars": {
                "lunch": {
                    "timezone": "Europe/London",
                    "hours": {day: "08:00-12:00,13:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")},
                    "holidays": {"country": "GB"},
                }
            }
        },
    )
    # London is on GMT (UTC+0) until 2026-03-29. Opened Tue 12:30 (lunch): the clock starts
    # at 13:00; Tue 13-17 (4 h) + Wed 08-12 (4 h) = 8 h -> D = Wed 12:00, the end of a range.
    # Answered Wed 12:45 (lunch): breached at 12:00, elapsed 8 h (the lunch adds nothing).
    case = make_case("Gold", 2, "2026-03-10T12:30:00Z", agent=("2026-03-11T12:45:00Z",), region="lunch")
    row = initial(case, config=config)
    assert row["deadline_at"] == utc("2026-03-11T12:00:00Z")
    assert (row["status"], row["breached_at"]) == ("breached", utc("2026-03-11T12:00:00Z"))
    assert row["elapsed_seconds"] == 8 * 3600
    # Opened Tue 11:00: Tue 11-12 (1 h) + 13-17 (4 h) + Wed 08-11 (3 h) -> D = Wed 11:00.
    case = make_case("Gold", 2, "2026-03-10T11:00:00Z", agent=("2026-03-11T10:00:00Z",), region="lunch")
    row = initial(case, config=config)
    assert (row["deadline_at"], row["status"], row["elapsed_seconds"]) == (
        utc("2026-03-11T11:00:00Z"),
        "met",
        7 * 3600,
    )


def test_dst_fall_back_week_in_london() -> None:
    """BST ends Sun 2026-10-25: Friday is UTC+1, Monday is UTC+0, business hours stay 08:00-18:00."""
    # emea Gold sev 3 = 12 business h. Opened Fri 12:00 BST (11:00Z): Fri 12-18 (6 h);
    # Mon 08:00 GMT = 08:00Z + 6 h -> 14:00Z. Answered Mon 13:00Z: 6 h + 5 h = 11 h.
    case = make_case("Gold", 3, "2026-10-23T11:00:00Z", agent=("2026-10-26T13:00:00Z",), region="emea")
    row = initial(case)
    assert row["calendar"] == "emea"
    assert row["deadline_at"] == utc("2026-10-26T14:00:00Z")
    assert (row["status"], row["elapsed_seconds"]) == ("met", 11 * 3600)


def test_dst_gap_and_ambiguous_wall_times_on_sundays() -> None:
    """fold=0: a gap time moves forward by the gap, an ambiguous time takes its first occurrence."""
    config = merge_config(
        load_default_config(),
        {"calendars": {"sundays": {"timezone": "America/Denver", "hours": {"sun": "00:00-01:30,02:30-24:00"}}}},
    )
    sundays = get_calendar(config, "sundays")
    # Spring forward Sun 2026-03-08 (02:00 MST -> 03:00 MDT): 00:00 MST = 07:00Z, 01:30 MST =
    # 08:30Z; 02:30 does not exist and moves to 03:30 MDT = 09:30Z; 24:00 = Mon 00:00 MDT =
    # 06:00Z. Work: 1.5 h + 20.5 h = 22 h.
    assert work_seconds(sundays, utc("2026-03-07T00:00:00Z"), utc("2026-03-10T00:00:00Z")) == 22 * 3600
    # Fall back Sun 2026-11-01 (02:00 MDT -> 01:00 MST): 00:00 MDT = 06:00Z, 01:30 first
    # occurrence (MDT) = 07:30Z; 02:30 MST = 09:30Z; 24:00 = Mon 00:00 MST = 07:00Z.
    # Work: 1.5 h + 21.5 h = 23 h.
    assert work_seconds(sundays, utc("2026-10-31T00:00:00Z"), utc("2026-11-03T00:00:00Z")) == 23 * 3600


def test_package_change_between_terms_uses_local_opening_date() -> None:
    """The package is the one in force on the local (Denver) date of opening, not the UTC date."""
    terms = [("Gold", date(2026, 1, 1), date(2026, 6, 30)), ("Platinum", date(2026, 7, 1), date(2026, 12, 31))]
    # 2026-07-01T05:00Z is Tue 2026-06-30 23:00 MDT: Gold, sev 1 = 4 h 24x7 -> D 09:00Z, so an
    # answer at 08:00Z is met (on Platinum's 2 h it would have breached at 07:00Z).
    case = make_case(None, 1, "2026-07-01T05:00:00Z", agent=("2026-07-01T08:00:00Z",), subscriptions=terms)
    row = initial(case)
    assert (row["package"], row["target_seconds"], row["deadline_at"], row["status"]) == (
        "Gold",
        14400,
        utc("2026-07-01T09:00:00Z"),
        "met",
    )
    # 06:00Z is Wed 2026-07-01 00:00 MDT: Platinum, D = 08:00Z, answered exactly at D: met.
    case = make_case(None, 1, "2026-07-01T06:00:00Z", agent=("2026-07-01T08:00:00Z",), subscriptions=terms)
    row = initial(case)
    assert (row["package"], row["target_seconds"], row["deadline_at"], row["status"]) == (
        "Platinum",
        7200,
        utc("2026-07-01T08:00:00Z"),
        "met",
    )


def test_as_of_cut_ignores_later_rows_and_later_cases() -> None:
    """Rows after A are ignored (close, response, change) and a case opened after A does not exist."""
    case = make_case(
        "Gold",
        3,
        "2026-03-10T15:00:00Z",
        agent=("2026-03-10T17:00:00Z",),
        changes=(("2026-03-10T16:30:00Z", "severity", "1"),),
        closed="2026-03-10T18:00:00Z",
    )
    # As of 16:00: the upgrade and the response have not happened; sev 3 business, 1 h elapsed.
    row = initial(case, as_of=utc("2026-03-10T16:00:00Z"))
    assert (row["status"], row["severity"], row["calendar"], row["end_at"]) == ("pending", 3, "americas", None)
    assert row["elapsed_seconds"] == 3600
    # As of exactly the response instant, the response counts (rows at A are kept).
    row = initial(case, as_of=utc("2026-03-10T17:00:00Z"))
    assert (row["status"], row["severity"], row["end_at"]) == ("met", 1, utc("2026-03-10T17:00:00Z"))
    assert run(case, as_of=utc("2026-03-10T14:59:59Z")) == []


def test_fractional_hours_round_to_whole_seconds() -> None:
    """Targets are round(hours * 3600): 10.2 h is 36720 s even though the float is 36720.000...01."""
    config = merge_config(load_default_config(), {"packages": {"Gold": {"initial_response_hours": {"1": 10.2}}}})
    row = initial(make_case("Gold", 1, "2026-03-10T15:00:00Z"), config=config)
    assert row["target_seconds"] == 36720
    assert row["deadline_at"] == utc("2026-03-11T01:12:00Z")
    # The merge replaced one target and kept the others.
    assert config["packages"]["Gold"]["initial_response_hours"]["2"] == 8
