"""Headlines that cannot hide: the per-kind attainment tiles' texts, worked out by hand."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ui.components import (
    attainment_tile_texts,
    escalation_tile_texts,
    lowest_text,
    provisional_text,
    week_to_date_label,
)

# Shaped as attainment_summary returns it: the sample's Q3 2026 numbers (follow-up pending set to 135
# to show a provisional figure).
SUMMARY = {
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
