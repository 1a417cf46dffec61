"""Figure builders are pure: frames in, plotly dicts out, checked without a browser."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from metrics.engine.snapshot import Snapshot
from metrics.subjects.attainment import attainment_table, response_times
from metrics.subjects.buckets import mark_buckets
from metrics.subjects.filters import Filters
from tests.subjects.test_attainment import build_fixture_snapshot
from ui import figures


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    """The hand-worked attainment fixture (tests/subjects/test_attainment.py's table of obligations)."""
    return build_fixture_snapshot(Path(tmp_path_factory.mktemp("figures")))


def values(encoded: Any) -> list:
    """Plain values of a to_dict() array: plotly 7 writes numeric arrays as typed base64 buffers."""
    if isinstance(encoded, dict) and "bdata" in encoded:
        array = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=np.dtype(encoded["dtype"]))
        if "shape" in encoded:
            array = array.reshape([int(n) for n in str(encoded["shape"]).split(",")])
        return array.tolist()
    return [list(v) if isinstance(v, (list, tuple, np.ndarray)) else v for v in encoded]


def test_trend_has_one_line_per_kind_with_distinct_symbols():
    """Initial and follow-up are separate series told apart by marker symbol, not only colour."""
    frame = pd.DataFrame(
        {
            "period": ["2026-W10", "2026-W11", "2026-W10", "2026-W11"],
            "kind": ["initial", "initial", "follow_up", "follow_up"],
            "attainment": [0.9, 0.8, 1.0, 0.5],
            "met": [9, 8, 10, 1],
            "breached": [1, 2, 0, 1],
        }
    )
    fig = figures.build_attainment_trend_figure(frame).to_dict()
    names = [t["name"] for t in fig["data"]]
    assert names == ["initial", "follow-up"]
    assert fig["data"][0]["marker"]["symbol"] != fig["data"][1]["marker"]["symbol"]
    assert values(fig["data"][0]["y"]) == [90.0, 80.0]  # attainment shown in percent
    assert values(fig["data"][1]["y"]) == [100.0, 50.0]


def test_matrix_labels_every_cell_with_rate_and_counts():
    """Each severity x package cell of one kind carries the metric's percentage and met/decided counts."""
    frame = pd.DataFrame(
        {
            "kind": ["initial", "follow_up", "initial"],
            "severity": [1, 1, 2],
            "package": ["Gold", "Gold", "Gold"],
            "met": [3, 1, 2],
            "breached": [1, 0, 2],
            "pending": [0, 0, 3],
            "attainment": [0.75, 1.0, 0.5],
        }
    )
    fig = figures.build_attainment_matrix_figure(frame, "initial").to_dict()
    heat = fig["data"][0]
    # initial only: severity 1 3 of 4 = 75 %; severity 2 2 of 4 = 50 % with 3 still running
    assert values(heat["text"]) == [["75.0%<br>3/4"], ["50.0%<br>2/4<br>3 running"]]
    assert values(heat["z"]) == [[75.0], [50.0]]
    assert list(heat["y"]) == ["Severity 1", "Severity 2"]
    assert fig["layout"]["title"]["text"] == "Initial response attainment by severity and package"
    follow_up = figures.build_attainment_matrix_figure(frame, "follow_up").to_dict()
    assert values(follow_up["data"][0]["z"]) == [[100.0]]
    assert follow_up["layout"]["title"]["text"].startswith("Follow-up attainment")


def test_matrix_plots_the_metrics_cells_per_kind(snap):
    """The heatmap of each kind shows attainment_table's own cells (hand values: the fixture's table)."""
    table = attainment_table(snap, by=["kind", "severity", "package"])
    heat = figures.build_attainment_matrix_figure(table, "initial").to_dict()["data"][0]
    # initial cells (test_attainment_per_kind_severity_package): severity 1 Bronze nothing decided,
    # Gold 2/3, Platinum 2/2, Silver 0/1; severity 2 Gold pending only, Platinum 0/1, Silver suspended;
    # severity 3 Bronze untargeted, Gold cancelled, Silver 1/1
    # Bronze has nothing met, breached or running in any severity: no column of "–", named under the axis instead
    assert list(heat["x"]) == ["Gold", "Platinum", "Silver"]
    z = [[None if v is None or np.isnan(v) else round(v, 4) for v in row] for row in values(heat["z"])]
    assert z == [[round(200 / 3, 4), 100.0, 0.0], [None, 0.0, None], [None, None, 100.0]]
    assert values(heat["text"])[1][0] == "–<br>1 running"  # C04, severity 2 Gold, still running: kept
    layout = figures.build_attainment_matrix_figure(table, "initial").to_dict()["layout"]
    assert layout["xaxis"]["title"]["text"].endswith("Bronze")


def test_matrix_refuses_pooled_kinds():
    """Without a kind, a frame with both kinds per cell is refused, never summed by the builder."""
    frame = pd.DataFrame({"kind": ["initial", "follow_up"], "severity": [1, 1], "package": ["Gold", "Gold"],
                          "met": [1, 1], "breached": [0, 1], "attainment": [1.0, 0.5]})
    with pytest.raises(ValueError, match="one row per severity, package"):
        figures.build_attainment_matrix_figure(frame)


def test_response_time_plots_pooled_quantiles_of_the_metric(snap):
    """Bars are response_times(by=kind, severity) as returned: pooled quantiles, worked by hand."""
    times = response_times(snap, by=["kind", "severity"])
    data = figures.build_response_time_figure(times).to_dict()["data"]
    assert list(data[0]["x"]) == ["follow-up S1", "initial S1", "initial S2", "initial S3"]
    median, p90 = values(data[0]["y"]), values(data[1]["y"])
    assert median == pytest.approx(list(times["median_of_target"] * 100))
    assert p90 == pytest.approx(list(times["p90_of_target"] * 100))
    # follow-up S1: C01 #1 0.75, C06 #1 13/12; median (9/12 + 13/12) / 2 = 11/12; p90 at rank 0.9:
    #   0.75 + 0.9 x 4/12 = 1.05
    # initial S1 sorted: C03 .375, C01 .5, C06 .5, C08 .5, C11 7/6, C02 1.25; median at rank 2.5 = 0.5;
    #   p90 at rank 4.5 = (7/6 + 5/4) / 2 = 29/24 = 120.8 % (the median of the per-package p90s,
    #   Gold 1.1, Platinum 0.5, Silver 7/6, would be 110 %)
    # initial S2: C07 7/6; initial S3: C09 14400 / 50400 = 2/7
    assert median == pytest.approx([1100 / 12, 50.0, 700 / 6, 200 / 7])
    assert p90 == pytest.approx([105.0, 2900 / 24, 700 / 6, 200 / 7])


def test_response_time_refuses_a_finer_grouping(snap):
    """Per-package rows cannot be combined into a kind x severity quantile: the builder refuses them."""
    with pytest.raises(ValueError, match="one row per kind, severity"):
        figures.build_response_time_figure(response_times(snap))


def test_trend_marks_provisional_points(snap):
    """A period with obligations still running is hollow and says how many; settled ones are filled."""
    trend = attainment_table(snap, by=["kind"], grain="week")
    fig = figures.build_attainment_trend_figure(trend).to_dict()
    initial = next(t for t in fig["data"] if t["name"] == "initial")
    # initial per Denver week: W08 C08 #0, C09 met -> 2/2; W09 C01 #0, C03, C06 #0 met, C02, C07 breached
    # (C05 cancelled, C12 C13 untargeted) -> 3/5; W10 C11 breached, C04 pending, C10 suspended -> 0/1
    assert list(initial["x"]) == ["2026-W08", "2026-W09", "2026-W10"]
    assert values(initial["y"]) == pytest.approx([100.0, 60.0, 0.0])
    first, second, third = initial["marker"]["symbol"]
    assert first == second and third == f"{first}-open"  # only W10 is hollow
    assert [c[2] for c in initial["customdata"]] == ["settled", "settled", "provisional: 1 still running"]
    assert "hollow points: provisional" in fig["layout"]["title"]["subtitle"]["text"]


def test_status_bars_are_the_metrics_counts(snap):
    """Met and breached bars per region are attainment_table(by=region)'s counts; a finer frame is refused."""
    by_region = attainment_table(snap, by=["region"])
    data = figures.build_status_figure(by_region, "region").to_dict()["data"]
    # americas: C01 #0 #1, C03, C09 met; C02, C11 breached. emea: C06 #0, C08 #0; C06 #1, C07. japan: none
    assert list(data[0]["y"]) == ["americas", "emea"]
    assert values(data[0]["x"]) == [4, 2] and values(data[1]["x"]) == [2, 2]
    with pytest.raises(ValueError, match="one row per region"):
        figures.build_status_figure(attainment_table(snap, by=["region", "kind"]), "region")


def test_breached_bars_are_hatched_not_only_coloured():
    """The breached series has a fill pattern and its own legend label."""
    frame = pd.DataFrame({"package": ["Gold", "Silver"], "met": [5, 0], "breached": [1, 2]})
    data = figures.build_status_figure(frame, "package").to_dict()["data"]
    assert data[1]["name"].startswith("breached")
    assert data[1]["marker"]["pattern"]["shape"] == "/"
    assert values(data[1]["x"]) == [1, 2]


def test_empty_frames_give_a_figure_that_says_why():
    """A filter that leaves nothing yields a labelled empty figure instead of an error."""
    empty = pd.DataFrame(columns=["period", "kind", "attainment", "met", "breached"])
    fig = figures.build_attainment_trend_figure(empty).to_dict()
    assert fig["layout"]["annotations"][0]["text"] == "No obligations started in this period"


def test_escalation_trend_puts_policy_and_recorded_side_by_side():
    """Policy and recorded escalations are two labelled series side by side (never stacked into a sum)."""
    frame = pd.DataFrame({"period": ["2026-W10"], "policy": [3], "recorded": [2], "total": [5]})
    fig = figures.build_escalation_trend_figure(frame).to_dict()
    assert fig["layout"]["barmode"] == "group"
    assert values(fig["data"][0]["y"]) == [3] and values(fig["data"][1]["y"]) == [2]
    assert [t["name"] for t in fig["data"]] == ["policy (breach)", "recorded"]
    assert fig["data"][1]["marker"]["pattern"]["shape"] == "x"


def test_active_clock_labels_state_in_text_outside_the_bar():
    """Each running clock's bar says its state and share in words, outside the bar, and stops at 200 %."""
    frame = pd.DataFrame(
        {"case_id": ["C1", "C2"], "consumed": [0.8, 3.0], "clock_state": ["at_risk", "breached"]}
    )
    data = figures.build_active_clock_figure(frame).to_dict()["data"]
    by_name = {t["name"]: t for t in data}
    assert list(by_name["▲ at risk"]["text"]) == ["▲ at risk 80 %"]
    assert list(by_name["✖ breached"]["text"]) == ["✖ breached 300 %"]  # the label says what the bar cannot
    assert values(by_name["✖ breached"]["x"]) == [200.0]
    assert {t["textposition"] for t in data} == {"outside"}  # never white on the hatch


def _honest_months() -> pd.DataFrame:
    """Aug 30 .. Nov 28 by month, as attainment_table marks it (tests/subjects/test_buckets.py works the days out)."""
    frame = pd.DataFrame({
        "period": ["2026-08", "2026-09", "2026-11"], "met": [3, 20, 1], "breached": [0, 0, 0],
        "pending": [0, 0, 0], "attainment": [1.0, 1.0, 1.0],
    })
    period = Filters(start=dt.date(2026, 8, 30), end=dt.date(2026, 11, 28))
    as_of = dt.datetime(2026, 11, 29, 7, tzinfo=dt.UTC)
    return mark_buckets(frame, "month", period, as_of, "America/Denver", frame["met"] + frame["breached"])


def test_trend_marks_a_partial_month_and_a_bucket_too_small_to_judge():
    """August (2 of 31 days, 3 decided) is faded and small, ticked '(partial)', its days in the hover."""
    fig = figures.build_attainment_trend_figure(_honest_months(), "Attainment by month").to_dict()
    trace = fig["data"][0]
    assert values(trace["marker"]["opacity"]) == [figures.PARTIAL_OPACITY, 1.0, figures.PARTIAL_OPACITY]
    assert values(trace["marker"]["size"]) == [figures.TOO_SMALL_PX, 9, figures.TOO_SMALL_PX]  # 3 and 1 < 20
    hover = [c[3] for c in trace["customdata"]]
    assert hover == ["Aug 2026 (partial: 2 of 31 days)", "Sep 2026", "Nov 2026 (partial: 28 of 30 days)"]
    assert [c[4] for c in trace["customdata"]] == ["too few to judge: 3 met or breached", "",
                                                   "too few to judge: 1 met or breached"]
    assert fig["layout"]["xaxis"]["ticktext"] == ["Aug 2026<br>(partial)", "Sep 2026", "Nov 2026<br>(partial)"]
    assert fig["layout"]["xaxis"]["title"]["text"] == "faded: partial period · small: too few to judge"


def test_escalation_bars_of_a_partial_week_are_faded():
    """A week cut by the period: its bars faded, its tick '(partial)', its hover '... (partial: 1 of 7 days)'."""
    frame = pd.DataFrame({"period": ["2026-W35", "2026-W36"], "policy": [1, 4], "recorded": [0, 2]})
    period = Filters(start=dt.date(2026, 8, 30), end=dt.date(2026, 11, 28))
    marked = mark_buckets(frame, "week", period, dt.datetime(2026, 11, 29, 7, tzinfo=dt.UTC), "America/Denver")
    fig = figures.build_escalation_trend_figure(marked).to_dict()
    for trace in fig["data"]:
        assert values(trace["marker"]["opacity"]) == [figures.PARTIAL_OPACITY, 1.0]
        assert list(trace["customdata"]) == ["2026-W35 (from Mon Aug 24) (partial: 1 of 7 days)",
                                             "2026-W36 (from Mon Aug 31)"]
    assert fig["layout"]["xaxis"]["ticktext"] == ["2026-W35<br>(partial)", "2026-W36"]
    assert fig["layout"]["xaxis"]["title"]["text"] == "faded: partial period"
