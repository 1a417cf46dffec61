"""The utilization chart plots the metric's shares; it computes none of its own."""

from __future__ import annotations

import math

import pandas as pd

from ui.figures import build_utilization_figure


def test_bars_are_the_metrics_shares_and_unentitled_rows_are_left_out() -> None:
    """Bars = share x 100 in the frame's order, first at the top; a NaN share (nothing entitled) is no bar."""
    frame = pd.DataFrame({
        "account_name": ["Acme", "Beta", "Gamma"],
        # the share column is taken as given: 0.9 is deliberately not used / entitled (1/3)
        "service_days_share": [0.9, 0.25, math.nan],
        "service_days_used": [1.0, 1.0, 2.0],
        "service_days_entitled": [3.0, 4.0, 0.0],
        "elapsed_share": [0.5, 0.1, 0.7],
    })
    fig = build_utilization_figure(frame, "service_days_share", "service_days_used", "service_days_entitled", "t")
    bars, marks, labels = fig.data
    assert list(bars.y) == ["Acme", "Beta"]
    assert fig.layout.yaxis.autorange == "reversed"  # the page's ranking reads top-down
    assert list(bars.x) == [90.0, 25.0]
    assert list(marks.x) == [50.0, 10.0]
    assert list(labels.text) == ["1/3", "1/4"]


def test_labels_sit_right_of_the_bar_and_the_diamond() -> None:
    """The used/entitled label starts past whichever is further right: the bar's end or the elapsed diamond."""
    frame = pd.DataFrame({
        "account_name": ["Bar longer", "Diamond further"],
        "training_sessions_share": [1.2, 0.2],
        "training_sessions_used": [6.0, 1.0],
        "training_sessions_entitled": [5.0, 5.0],
        "elapsed_share": [0.4, 0.9],
    })
    fig = build_utilization_figure(frame, "training_sessions_share", "training_sessions_used",
                                   "training_sessions_entitled", "t")
    _, marks, labels = fig.data
    # row 1: bar 120 % beyond the diamond at 40 %; row 2: the diamond at 90 % beyond the bar at 20 %
    assert list(labels.x) == [120.0, 90.0]
    assert labels.textposition == "middle right"
    # the label's anchor is an invisible marker wider than the diamond, so the text clears it
    assert labels.marker.opacity == 0 and labels.marker.size > marks.marker.size
    assert labels.mode == "markers+text" and marks.mode == "markers"  # no text at the diamond's place
