"""Explanations: the intervals, pauses and pieces behind each number, and one sentence why."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from metrics.engine.explain import explain_case, fmt_clock_time, fmt_duration, format_explanations
from metrics.engine.obligations import as_utc
from tests.engine.test_obligations import AS_OF, write_examples

UTC = dt.UTC


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    db = write_examples(tmp_path_factory.mktemp("explain"))
    connection = duckdb.connect(str(db), read_only=True)
    yield connection
    connection.close()


def test_holiday_case_lists_the_working_intervals_counted(con):
    """Example 7: Wed 3 h, Fri 11 h (Thanksgiving skipped), Mon 1 h, in UTC."""
    initial = explain_case(con, "E7", AS_OF)[0]
    assert initial.intervals == [
        (dt.datetime(2026, 11, 25, 22, tzinfo=UTC), dt.datetime(2026, 11, 26, 1, tzinfo=UTC)),
        (dt.datetime(2026, 11, 27, 14, tzinfo=UTC), dt.datetime(2026, 11, 28, 1, tzinfo=UTC)),
        (dt.datetime(2026, 11, 30, 14, tzinfo=UTC), dt.datetime(2026, 11, 30, 15, tzinfo=UTC)),
    ]
    assert initial.verdict.startswith("Breached at 2026-11-27 23:00:00Z: the severity-3 deadline passed")


def test_upgrade_pieces_and_sentence(con):
    """Example 4: severity 3 then 1; the verdict says the raise came after the deadline."""
    initial = explain_case(con, "E4", AS_OF)[0]
    assert [(p.severity, p.calendar) for p in initial.pieces] == [(3, "americas"), (1, "24x7")]
    assert initial.pieces[1].deadline == dt.datetime(2026, 3, 10, 18, tzinfo=UTC)
    assert "raised to 1" in initial.verdict and "had already passed" in initial.verdict


def test_pause_is_listed_and_met_sentence_gives_the_margin(con):
    """Example 6: the 24 h pause is shown; met 1 h before the 18:00Z deadline."""
    follow_up = explain_case(con, "E6", AS_OF)[1]
    assert follow_up.pauses == [(dt.datetime(2026, 3, 10, 12, tzinfo=UTC), dt.datetime(2026, 3, 11, 12, tzinfo=UTC))]
    assert follow_up.verdict == (
        "Met: an agent responded at 2026-03-12 17:00:00Z, 1h 00m before the deadline 2026-03-12 18:00:00Z."
    )


def test_unknown_case_says_so(con):
    """A case id that does not exist gives a sentence, not an error."""
    text = format_explanations("NOPE", explain_case(con, "NOPE", AS_OF), dt.datetime(2026, 12, 1, tzinfo=UTC))
    assert "no obligations" in text


@pytest.mark.parametrize(("seconds", "text"), [(0, "0h 00m"), (3661, "1h 01m 01s"), (90000, "1d 1h 00m"), (-60, "-0h 01m")])
def test_fmt_duration(seconds, text):
    """Durations read as hours and minutes, days when longer, seconds only when present."""
    assert fmt_duration(seconds) == text


def test_targets_are_stated_in_the_clocks_own_terms(con):
    """Example 7's 12 business hours (15 counted: Wed 3 + Fri 11 + Mon 1) and example 2's 2 h on 24x7."""
    as_of = as_utc(AS_OF)
    holiday = format_explanations("E7", explain_case(con, "E7", AS_OF), as_of)
    assert "target 12 business hours on americas" in holiday
    assert "elapsed 15 business hours on americas" in holiday
    around_the_clock = format_explanations("E2", explain_case(con, "E2", AS_OF), as_of)
    assert "target 2 hours, 24x7" in around_the_clock
    assert "elapsed 2h 15m, 24x7" in around_the_clock  # 8100 s


@pytest.mark.parametrize(
    ("seconds", "calendar", "text"),
    [
        (259200, "americas", "72 business hours on americas"),
        (3600, "emea", "1 business hour on emea"),
        (5400, "americas", "1h 30m of business time on americas"),
        (14400, "24x7", "4 hours, 24x7"),
    ],
)
def test_fmt_clock_time(seconds, calendar, text):
    """72 business hours is not three days: the unit names whose hours they are."""
    assert fmt_clock_time(seconds, calendar) == text
