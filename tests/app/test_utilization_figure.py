"""The utilization chart plots the metric's shares; it computes none of its own."""

from __future__ import annotations

import math

import pandas as pd

from ui.figures import build_utilization_figure


def test_bars_are_the_metrics_shares_and_unentitled_rows_are_left_out() -> None:
    """Bars = share x 100 in ascending order; a NaN share (nothing entitled) is no bar, whatever used says."""
    frame = pd.DataFrame({
        "account_name": ["Acme", "Beta", "Gamma"],
        # the share column is taken as given: 0.9 is deliberately not used / entitled (1/3)
        "service_days_share": [0.9, 0.25, math.nan],
        "service_days_used": [1.0, 1.0, 2.0],
        "service_days_entitled": [3.0, 4.0, 0.0],
        "elapsed_share": [0.5, 0.1, 0.7],
    })
    fig = build_utilization_figure(frame, "service_days_share", "service_days_used", "service_days_entitled", "t")
    bars, marks = fig.data
    assert list(bars.y) == ["Beta", "Acme"]
    assert list(bars.x) == [25.0, 90.0]
    assert list(bars.text) == ["1/4", "1/3"]
    assert list(marks.x) == [10.0, 50.0]
