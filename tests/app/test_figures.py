"""Figure builders are pure: frames in, plotly dicts out, checked without a browser."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd

from ui import figures


def values(encoded: object) -> list:
    """Plain values of a to_dict() array: plotly 7 writes numeric arrays as typed base64 buffers."""
    if isinstance(encoded, dict) and "bdata" in encoded:
        array = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=np.dtype(encoded["dtype"]))
        if "shape" in encoded:
            array = array.reshape([int(n) for n in str(encoded["shape"]).split(",")])
        return array.tolist()
    return [list(v) if isinstance(v, (list, tuple)) else v for v in encoded]  # type: ignore[union-attr]


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
    """Each severity x package cell carries its percentage and met/decided counts as text."""
    frame = pd.DataFrame(
        {
            "kind": ["initial", "follow_up", "initial"],
            "severity": [1, 1, 2],
            "package": ["Gold", "Gold", "Gold"],
            "met": [3, 1, 2],
            "breached": [1, 0, 2],
        }
    )
    heat = figures.build_attainment_matrix_figure(frame).to_dict()["data"][0]
    # severity 1: (3 + 1) met of 5 decided = 80 %; severity 2: 2 of 4 = 50 %
    assert values(heat["text"]) == [["80.0%<br>4/5"], ["50.0%<br>2/4"]]
    assert values(heat["z"]) == [[80.0], [50.0]]
    assert list(heat["y"]) == ["Severity 1", "Severity 2"]


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


def test_escalation_trend_stacks_policy_and_recorded():
    """Policy and recorded escalations are two labelled, stacked series; recorded is patterned."""
    frame = pd.DataFrame({"period": ["2026-W10"], "policy": [3], "recorded": [2], "total": [5]})
    fig = figures.build_escalation_trend_figure(frame).to_dict()
    assert fig["layout"]["barmode"] == "stack"
    assert [t["name"] for t in fig["data"]] == ["policy (breach)", "recorded"]
    assert fig["data"][1]["marker"]["pattern"]["shape"] == "x"


def test_active_clock_labels_state_in_text():
    """Each running clock's bar says its state in words and caps the length at 200 %."""
    frame = pd.DataFrame(
        {"case_id": ["C1", "C2"], "consumed": [0.8, 3.0], "clock_state": ["at_risk", "breached"]}
    )
    data = figures.build_active_clock_figure(frame).to_dict()["data"]
    by_name = {t["name"]: t for t in data}
    assert list(by_name["▲ at risk"]["text"]) == ["▲ at risk"]
    assert values(by_name["✖ breached"]["x"]) == [200.0]
