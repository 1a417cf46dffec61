"""Headlines that cannot hide: tile texts, the no-target sentence and the weekly update's week, worked by hand."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from ui.components import (
    attainment_tile_texts,
    clock_amount,
    escalation_tile_texts,
    last_complete_week,
    lowest_text,
    no_targets_text,
    provisional_text,
    week_choices,
    week_note,
    week_to_date_label,
)

# Shaped as attainment_summary returns it: the sample's Q3 2026 numbers (follow-up pending set to 135
# to show a provisional figure).
SUMMARY: dict[str, Any] = {
    "pending": 135,
    "by_kind": {
        "initial": {"met": 2637, "breached": 267, "pending": 0, "obligations": 3341, "attainment": 2637 / 2904},
        "follow_up": {"met": 4873, "breached": 195, "pending": 135, "obligations": 9110, "attainment": 4873 / 5068},
    },
    "previous_by_kind": {
        "initial": {"met": 2474, "breached": 183, "pending": 0, "obligations": 3027, "attainment": 2474 / 2657},
        "follow_up": {"met": 4577, "breached": 147, "pending": 0, "obligations": 8255, "attainment": 4577 / 4724},
    },
    "lowest": {"severity": 1, "kind": "follow_up", "attainment": 157 / 272, "met": 157, "breached": 115},
}


def test_lowest_cell_in_words():
    """157 / 272 = 0.57720... -> '57.7 %', with the counts behind it."""
    assert lowest_text(SUMMARY["lowest"]) == "lowest: severity 1 follow-up 57.7 % (157/272)"
    assert lowest_text(None) is None


def test_provisional_count_in_words():
    """A running obligation makes the figure provisional; none running says it is settled."""
    assert provisional_text(1234) == "provisional: 1,234 still running"
    assert provisional_text(0) == "settled: none still running"


def test_tiles_per_kind_never_pooled():
    """One tile per kind with its own rate, delta in pp, provisional count; the lowest cell on its kind's tile."""
    initial, follow_up = attainment_tile_texts(SUMMARY)
    # initial 2637 / 2904 = 0.90806 -> 90.8 %; before 2474 / 2657 = 0.93112; -2.306 pp -> -2.3 pp
    assert (initial["label"], initial["value"], initial["delta"]) == ("Initial response attainment", "90.8 %", "-2.3 pp")
    assert initial["captions"] == ["settled: none still running"]
    # follow-up 4873 / 5068 = 0.96152 -> 96.2 %; before 4577 / 4724 = 0.96888; -0.736 pp -> -0.7 pp
    assert (follow_up["value"], follow_up["delta"]) == ("96.2 %", "-0.7 pp")
    assert follow_up["captions"] == [
        "lowest: severity 1 follow-up 57.7 % (157/272)", "provisional: 135 still running",
    ]


def test_tiles_without_previous_period_or_verdicts():
    """No previous period: no delta; nothing decided: '–' and no lowest cell."""
    empty = {"met": 0, "breached": 0, "pending": 2, "obligations": 2, "attainment": None}
    summary = {"by_kind": {"initial": empty, "follow_up": empty}, "previous_by_kind": None, "lowest": None}
    tiles = attainment_tile_texts(summary)
    assert [(t["value"], t["delta"]) for t in tiles] == [("–", None), ("–", None)]
    assert [t["captions"] for t in tiles] == [["provisional: 2 still running"]] * 2


def test_week_to_date_label_names_the_local_end():
    """Thursday noon reads 'to Thu 12:00'; the sidebar's end of Sunday (Monday 00:00) reads 'to end of Sun'."""
    denver = ZoneInfo("America/Denver")
    assert week_to_date_label(dt.datetime(2026, 11, 26, 12, 0, tzinfo=denver)) == "Breaches this week (to Thu 12:00)"
    assert week_to_date_label(dt.datetime(2026, 11, 23, 0, 0, tzinfo=denver)) == "Breaches this week (to end of Sun)"


def test_escalation_tile_is_the_share_with_policy_and_recorded_apart():
    """476 of 3,341 cases = 14.2 %; policy and recorded named apart (never summed); pp delta vs before."""
    now = {"cases_opened": 3341, "cases_escalated": 476, "escalated_share": 476 / 3341, "policy": 462,
           "recorded": 758}
    before = {"escalated_share": 0.15}
    tile = escalation_tile_texts(now, before)
    # 476 / 3341 = 0.142472 -> 14.2 %; minus 0.15 = -0.7528 pp -> -0.8 pp
    assert tile == {"value": "14.2 % of cases", "delta": "-0.8 pp",
                    "caption": "476 of 3,341 cases · policy 462 · recorded 758"}


def test_escalation_tile_before_the_share_exists():
    """A summary without escalated_share shows '–' and still names policy and recorded apart."""
    tile = escalation_tile_texts({"policy": 3, "recorded": 2, "total": 5}, None)
    assert tile == {"value": "–", "delta": None, "caption": "policy 3 · recorded 2"}


# Bronze and Basic promise no response time; Gold does.
CONFIG = SimpleNamespace(packages={"Bronze": SimpleNamespace(targeted=False), "Basic": SimpleNamespace(targeted=False),
                                   "Gold": SimpleNamespace(targeted=True)})


def test_no_targets_sentence_when_nothing_in_view_has_a_target():
    """Package = Bronze: all 212 obligations untargeted, so the sentence names Bronze instead of a '–'."""
    summary = {"obligations": 212, "untargeted": 212}
    assert no_targets_text(summary, ("Bronze",), CONFIG) == (
        "Bronze promises no response times, so there is no attainment to measure "
        "(212 obligations in view, none with a target)."
    )
    both = no_targets_text({"obligations": 1500, "untargeted": 1500}, ("Bronze", "Basic"), CONFIG)
    assert both is not None and both.startswith("Bronze and Basic promise no response times")
    assert "(1,500 obligations in view" in both


def test_no_targets_sentence_only_when_every_obligation_is_untargeted():
    """One targeted obligation in view gives an attainment (no sentence); an empty view has nothing to explain."""
    assert no_targets_text({"obligations": 213, "untargeted": 212}, ("Bronze", "Gold"), CONFIG) is None
    assert no_targets_text({"obligations": 0, "untargeted": 0}, ("Bronze",), CONFIG) is None


DENVER = ZoneInfo("America/Denver")


def test_the_weekly_update_defaults_to_the_last_complete_week():
    """Mon 23 Nov 2026 00:00 is W48's first instant: W47 is over and the default; W48 runs (0 s old)."""
    as_of = dt.datetime(2026, 11, 23, 0, 0, tzinfo=DENVER)  # 2025-12-29 + 47 weeks: W48 starts here
    assert week_choices(as_of)[:3] == ["2026-W48", "2026-W47", "2026-W46"]
    assert last_complete_week(as_of) == "2026-W47"
    assert week_note("2026-W47", as_of) == (
        "W47 (Mon 16 – Sun 22 Nov 2026): the last complete week before the as-of, Mon 23 Nov 00:00 MST "
        "(Mon 23 Nov 07:00 UTC); an update is written once its week is over. W48 is still running."
    )


def test_weeks_are_cut_in_the_reporting_timezone():
    """Sun 22 Nov 20:00 in Denver is Mon 03:00 UTC: locally W47 still runs, so W46 is the last complete."""
    as_of = dt.datetime(2026, 11, 22, 20, 0, tzinfo=DENVER)
    assert (week_choices(as_of)[0], last_complete_week(as_of)) == ("2026-W47", "2026-W46")


def test_choosing_the_running_week_says_what_it_means():
    """The running week is a draft counted to its end; an older week is counted as of its end."""
    as_of = dt.datetime(2026, 11, 27, 23, 47, tzinfo=DENVER)
    assert week_note("2026-W48", as_of).startswith(
        "W48 (Mon 23 – Sun 29 Nov 2026) is still running at the as-of, Fri 27 Nov 23:47 MST "
        "(Sat 28 Nov 06:47 UTC): "
        "its numbers are counted to the week's end"
    )
    # 2026 has 53 ISO weeks (1 Jan 2026 is a Thursday): W53 runs Mon 28 Dec 2026 to Sun 3 Jan 2027
    later = dt.datetime(2027, 2, 1, 9, 0, tzinfo=DENVER)
    assert week_note("2026-W53", later) == "W53 (Mon 28 Dec 2026 – Sun 3 Jan 2027): a past week, counted as of its end."
    assert week_note("2026-W49", later).startswith("W49 (Mon 30 Nov – Sun 6 Dec 2026)")


def test_overview_says_bronze_has_no_targets_instead_of_a_dash(app_env):
    """Package = Bronze on the sample: the no-target sentence replaces the attainment tiles; no chart is drawn."""
    from streamlit.testing.v1 import AppTest

    from metrics.storage.store import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.session_state["package"] = ["Bronze"]  # the sidebar widget's key
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert any(i.value.startswith("Bronze promises no response times") for i in at.info), [i.value for i in at.info]
    assert "SLA attainment" not in [m.label for m in at.metric]
    assert "Active tickets" in [m.label for m in at.metric]  # the rest of the overview stays
    assert not at.get("plotly_chart")


def test_weekly_update_page_defaults_to_the_last_complete_week_and_says_why(app_env):
    """The sample ends Sat 28 Nov 2026 06:47 UTC (Fri 23:47 in Denver, in W48): W47 is chosen, and said why."""
    from streamlit.testing.v1 import AppTest

    from metrics.storage.store import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page("views/weekly_update.py")
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    week = at.selectbox(key="weekly_week")
    assert (week.value, week.options[:2]) == ("2026-W47", ["2026-W48", "2026-W47"])
    assert any(c.value.startswith("W47 (Mon 16 – Sun 22 Nov 2026): the last complete week before the as-of, "
                                  "Fri 27 Nov 23:47 MST (Sat 28 Nov 06:47 UTC)") for c in at.caption)
    week.set_value("2026-W48").run()
    assert any("W48 (Mon 23 – Sun 29 Nov 2026) is still running" in c.value for c in at.caption)


def test_clock_amounts_in_hours_never_days():
    """97 h 31 m 50 s = 351,110 s on 24x7; 52 business hours stay 52 h (not '2d 4h'); whole minutes drop the seconds."""
    assert clock_amount(97 * 3600 + 31 * 60 + 50, "24x7") == "97 h 31 m 50 s, 24x7"
    assert clock_amount(52 * 3600, "americas") == "52 h 00 m of business time on americas"
    assert clock_amount(8 * 3600 + 41 * 60 + 47, "japan") == "8 h 41 m 47 s of business time on japan"
