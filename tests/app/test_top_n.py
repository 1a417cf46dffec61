"""The top-N control: which rows a per-account chart draws, and the caption that says so (worked by hand)."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from ui.top_n import Choice

# Six accounts already in a page's ranking (most pressing first); the names test the search.
RANKED = pd.DataFrame({
    "account_id": ["A6", "A2", "A5", "A1", "A4", "A3"],
    "account_name": ["Acme Bank", "Beta Retail", "ACME Retail", None, "Gamma acme Ltd", "Delta"],
})


def test_first_rows_in_the_pages_order():
    """Without a search the first N rows are drawn, in the order given; the caption counts N of all."""
    shown = Choice(limit=4).apply(RANKED)
    assert list(shown.rows["account_id"]) == ["A6", "A2", "A5", "A1"]
    assert shown.caption == "4 of 6 accounts shown"
    assert (shown.matching, shown.total) == (6, 6)


def test_search_narrows_before_the_top_rows_are_taken():
    """'acme' (any case, any part) matches A6, A5 and A4; the top 2 of those are A6 and A5, not A6 alone."""
    shown = Choice(search=" acme ", limit=2).apply(RANKED)
    assert list(shown.rows["account_id"]) == ["A6", "A5"]  # A4 matches too but is third; a missing name never
    assert shown.caption == "2 of 3 accounts matching “acme” shown (6 in all)"


def test_all_and_a_search_that_matches_nothing():
    """`limit=None` draws every row; a search with no match draws none and says so."""
    assert len(Choice(limit=None).apply(RANKED).rows) == 6
    nothing = Choice(search="zeta", limit=25).apply(RANKED)
    assert nothing.rows.empty
    assert nothing.caption == "0 of 0 accounts matching “zeta” shown (6 in all)"


def test_search_over_several_columns_and_thousands_separators():
    """A search may look in several columns (a case id or an account); counts carry thousands separators."""
    queue = pd.DataFrame({"case_id": [f"C{i:04d}" for i in range(5_244)], "account_name": ["Zed"] * 5_244})
    queue.loc[7, "account_name"] = "Acme"
    assert Choice().apply(queue, names="case_id", noun="clocks").caption == "25 of 5,244 clocks shown"
    by_account = Choice(search="acme").apply(queue, names=["case_id", "account_name"], noun="clocks")
    assert list(by_account.rows["case_id"]) == ["C0007"]
    by_case = Choice(search="c0100").apply(queue, names=["case_id", "account_name"], noun="clocks")
    assert list(by_case.rows["case_id"]) == ["C0100"]


def _control_app() -> None:
    import pandas as pd
    import streamlit as st

    from ui import top_n

    frame = pd.DataFrame({"account_name": [f"Account {i:03d}" for i in range(120)]})
    shown = top_n.top_n(frame, "t")
    st.caption(shown.caption)
    st.write(len(shown.rows))


def test_the_control_defaults_to_25_and_offers_more():
    """Drawn: 25 of 120 by default; 'all' draws 120; a search narrows; the widgets sit under the chart's key."""
    at = AppTest.from_function(_control_app).run()
    assert not at.exception
    assert at.caption[0].value == "25 of 120 accounts shown"
    control = at.button_group(key="t_n")
    assert control.value == "25"
    control.set_value("all").run()
    assert at.caption[0].value == "120 of 120 accounts shown"
    at.text_input(key="t_search").set_value("account 11").run()  # Account 110 .. 119
    assert at.caption[0].value == "10 of 10 accounts matching “account 11” shown (120 in all)"


def _small_app() -> None:
    import pandas as pd
    import streamlit as st

    from ui import top_n

    shown = top_n.top_n(pd.DataFrame({"account_name": ["a", "b", "c"]}), "s")
    st.caption(shown.caption)


def test_no_control_when_everything_fits():
    """Three rows: no search, no size, all three drawn."""
    at = AppTest.from_function(_small_app).run()
    assert not at.exception
    assert not at.text_input and at.caption[0].value == "3 of 3 accounts shown"
