"""Every table on every page, in AppTest on the bundled sample: headers in words, no cell reading None/nan/NaT."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.store import PROJECT_ROOT
from ui import navigation

MACHINE_BLANKS = {"None", "nan", "NaN", "NaT", "<NA>"}


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page(navigation.BY_NAME[page].script)
    return at.run()


def headers(table: Any) -> list[str]:
    """The header each shown column reads: its configured label, else its name."""
    config: dict[str, dict[str, Any]] = json.loads(table.proto.columns or "{}")
    frame: pd.DataFrame = table.value
    shown = list(table.proto.column_order) or list(frame.columns)
    return [(config.get(c) or {}).get("label") or str(c) for c in shown if not (config.get(c) or {}).get("hidden")]


def machine_cells(table: Any) -> list[str]:
    """Cells a reader would see as None/nan/NaT: text spelling them, or missing values without a placeholder."""
    frame: pd.DataFrame = table.value
    found = [str(v) for col in frame.columns for v in frame[col] if isinstance(v, str) and v in MACHINE_BLANKS]
    if not table.proto.HasField("placeholder") and frame.isna().to_numpy().any():
        found.append("None (a missing value without a placeholder)")
    return found


@pytest.mark.parametrize("page", [p.name for p in navigation.PAGES])
def test_tables_read_in_words(app_env, page):
    """No table header is a snake_case name and no cell shows None, nan or NaT."""
    at = open_page(page)
    assert not at.exception, at.exception[0].value if at.exception else ""
    for table in at.dataframe:
        assert not [h for h in headers(table) if "_" in h], (table.key, headers(table))
        assert not machine_cells(table), (table.key, machine_cells(table)[:5])


def test_the_walk_sees_a_machine_table():
    """A raw st.dataframe of snake_case names and a blank is caught: the walk above can fail."""

    def script() -> None:
        import pandas as pd
        import streamlit as st

        st.dataframe(pd.DataFrame({"case_id": ["C1", None], "label": ["NaT", "ok"]}))

    at = AppTest.from_function(script).run()
    [table] = at.dataframe
    assert headers(table) == ["case_id", "label"]
    assert machine_cells(table) == ["NaT", "None (a missing value without a placeholder)"]


def test_show_table_reads_in_words_and_keeps_machine_values_in_its_csv():
    """show_table: labels and units from the vocabulary, a caller's column wins, the CSV keeps seconds and fractions."""

    def script() -> None:
        import pandas as pd
        import streamlit as st

        from ui import components

        frame = pd.DataFrame({"case_id": ["C1", "C2"], "account_id": ["A1", "A2"], "elapsed_seconds": [5_400, None],
                              "escalated_share": [0.25, 0.5], "owner": ["Dana", None],
                              "advisor": [None, "Dana Whitfield"]})
        components.show_table(frame, key="t", file_name="t.csv", account_id=None,
                              owner=st.column_config.TextColumn("who holds it"))

    at = AppTest.from_function(script).run()
    [table] = at.dataframe
    assert headers(table) == ["case", "elapsed (clock h)", "share escalated", "who holds it", "advisor"]
    # key, lead, rest; a name only in row 2 still fits: 14 characters x 6.8 px + 18 px padding = 113.2 px
    assert json.loads(table.proto.columns)["advisor"]["width"] == 113
    assert table.value["elapsed_seconds"].iloc[0] == 1.5  # 5,400 s = 1.5 h, shown "%,.1f h"
    assert table.value["escalated_share"].tolist() == [25.0, 50.0]
    assert table.proto.placeholder == ""
    assert machine_cells(table) == []
    csv = at.download_button(key="t_csv").proto
    assert "Machine values" in csv.help


def test_a_selected_breach_is_explained_in_a_dialog_once(app_env):
    """Selecting a breached row opens its explanation in a dialog; a rerun with the same row keeps it closed."""
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120).run()  # Overview
    first = str(at.dataframe(key="overview_breached").value["case_id"].iloc[0])
    at.session_state["overview_breached"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    [dialog] = at.get("dialog")  # st.dialog, in the page's event container
    assert [m.value for m in dialog.markdown if "how each clock ran" in m.value] == [
        f"#### Case ` {first} `: how each clock ran"]
    at.run()  # e.g. after the user closed it and touched another widget
    assert not at.get("dialog")
