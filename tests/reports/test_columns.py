"""The column vocabulary: labels in words, values in people's units, worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics.reports.columns import column, format_cell, grid_frame, hours_minutes, human_frame


def test_hours_minutes_rounds_to_the_minute_and_never_says_days():
    """11,532 s = 192.2 min -> 3 h 12 m; 72 h stays 72 h (business hours are not days); a minus survives."""
    assert hours_minutes(11_532) == "3 h 12 m"
    assert hours_minutes(259_200) == "72 h 00 m"
    assert hours_minutes(-300) == "-0 h 05 m"
    assert hours_minutes(20) == "0 h 00 m"  # 0.33 min rounds to none


def test_cells_in_their_units_and_missing_as_empty():
    """Timestamps in UTC to the minute with the zone, shares in %, blanks empty (never None/nan/NaT)."""
    denver = pd.Timestamp("2026-11-27 23:47:31", tz="America/Denver")  # 06:47:31 UTC the next day
    assert format_cell(denver, "timestamp") == "2026-11-28 06:47 UTC"
    assert format_cell(pd.Timestamp("2026-11-28 06:47:59"), "timestamp") == "2026-11-28 06:47 UTC"  # naive = UTC
    assert format_cell(0.95714, "share") == "95.7 %"
    assert format_cell(1234, "count") == "1,234"
    assert format_cell(2.5, "number") == "2.5"
    assert format_cell(3.0, "number") == "3"
    assert format_cell(None, "text") == ""
    assert format_cell(float("nan"), "share") == ""
    assert format_cell(pd.NaT, "timestamp") == ""


def test_unknown_columns_get_words_and_a_unit_from_their_suffix():
    """Names outside the vocabulary: underscores become spaces; _at a UTC timestamp, _share a share."""
    assert column("cases_opened", pd.Series([1, 2])).label == "cases opened"
    assert column("cases_opened", pd.Series([1, 2])).unit == "count"
    assert (column("reviewed_at").label, column("reviewed_at").unit) == ("reviewed (UTC)", "timestamp")
    assert (column("reopened_share").label, column("reopened_share").unit) == ("reopened", "share")


BREACHED = pd.DataFrame({
    "case_id": ["C1", "C2"],
    "account_name": ["Acme", "Beacon"],
    "package": ["Gold", "Silver"],
    "end_at": [pd.Timestamp("2026-11-28 08:00", tz="UTC"), pd.NaT],  # C2 never answered
    "breached_at": pd.to_datetime(["2026-11-28 06:47:31", "2026-11-27 12:00:00"], utc=True),
    "elapsed_seconds": [81_932, 50_400],
    "owner": ["Dana", None],
})


def test_human_frame_labels_orders_and_formats():
    """The leading keys (case, account, package), then the answer (breached at, elapsed), then the rest."""
    shown = human_frame(BREACHED)
    assert list(shown.columns) == [
        "case", "account", "package", "breached at (UTC)", "elapsed (clock h)", "answered (UTC)", "owner"]
    # 81,932 s = 1,365.5 min -> 1,366 min = 22 h 46 m; 50,400 s = 840 min = 14 h 00 m
    assert shown.iloc[0].tolist() == [
        "C1", "Acme", "Gold", "2026-11-28 06:47 UTC", "22 h 46 m", "2026-11-28 08:00 UTC", "Dana"]
    assert shown.iloc[1].tolist() == ["C2", "Beacon", "Silver", "2026-11-27 12:00 UTC", "14 h 00 m", "", ""]


def test_a_duration_in_seconds_beside_the_same_in_hours_is_shown_once():
    """277,894 s and 77.192778 h both read 77 h 12 m (4,631.6 min): one column, not two of one label."""
    frame = pd.DataFrame({"time_to_first_escalation_seconds": [277_894],
                          "hours_to_first_escalation": [277_894 / 3600]})
    assert human_frame(frame).to_dict("list") == {"to first escalation (calendar h)": ["77 h 12 m"]}


def test_two_different_columns_of_one_label_are_refused():
    """Seconds and hours that disagree cannot both be headed 'age (calendar h)'."""
    with pytest.raises(ValueError, match="age"):
        human_frame(pd.DataFrame({"age_seconds": [3600], "age_hours": [5.0]}))


def test_grid_frame_keeps_numbers_for_sorting_in_the_unit_shown():
    """Seconds become hours (%,.1f h: thousands grouped), shares percent (%.1f %%); a kept column is untouched and unlabelled."""
    frame = pd.DataFrame({"escalated_share": [0.25, None], "elapsed_seconds": [5_400, 36_000],
                          "consumed": [0.5, 1.2], "case_id": ["C1", None]})
    values, display = grid_frame(frame, keep={"consumed"})
    assert list(values.columns) == ["escalated_share", "elapsed_seconds", "consumed", "case_id"]  # all lead
    assert values["escalated_share"].iloc[0] == 25.0
    assert values["elapsed_seconds"].tolist() == [1.5, 10.0]
    assert values["consumed"].tolist() == [0.5, 1.2]
    assert values["case_id"].tolist() == ["C1", ""]
    assert (display["escalated_share"].label, display["escalated_share"].format) == ("share escalated", "%.1f %%")
    assert (display["elapsed_seconds"].kind, display["elapsed_seconds"].format) == ("number", "%,.1f h")
    assert "consumed" not in display


@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_a_text_column_in_a_grid_reads_as_each_value_formatted_alone(dtype: object) -> None:
    """Ids of every kind of string column, missing ones blank: what format_cell gives value by value."""
    raw = ["C-1", None, "C-3", "<b>C-4</b>", "", "C-1", None]
    values, display = grid_frame(pd.DataFrame({"case_id": pd.Series(raw, dtype=dtype)}))
    assert values["case_id"].tolist() == ["C-1", "", "C-3", "<b>C-4</b>", "", "C-1", ""]
    assert values["case_id"].tolist() == [format_cell(v, "text") for v in raw]
    assert display["case_id"].kind == "text"


def test_machine_values_in_words():
    """An obligation's kind reads 'follow-up', a clock state 'at risk'; an unknown value is kept."""
    frame = pd.DataFrame({"kind": ["follow_up", "initial", "other_kind"], "clock_state": ["at_risk", None, "paused"]})
    assert human_frame(frame).to_dict("list") == {
        "clock": ["at risk", "", "paused"], "obligation": ["follow-up", "initial", "other_kind"]}


def test_a_grouped_table_keeps_its_groups_first_and_then_the_answer():
    """By quarter and package: period and package, then the share escalated (4 of 103 = 3.9 %), then counts."""
    frame = pd.DataFrame({"period": ["2026-Q3"], "package": ["Bronze"], "cases_opened": [103],
                          "cases_escalated": [4], "escalated_share": [4 / 103], "policy": [1]})
    shown = human_frame(frame)
    assert list(shown.columns) == [
        "period", "package", "share escalated", "cases opened", "cases escalated", "policy escalations"]
    assert shown.iloc[0].tolist() == ["2026-Q3", "Bronze", "3.9 %", "103", "4", "1"]
