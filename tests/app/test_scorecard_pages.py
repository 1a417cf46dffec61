"""The promise scorecard on Overview and Governance (AppTest on the bundled sample) and in the governance pack."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from metrics.storage.store import PROJECT_ROOT
from tests.app.test_safe_outputs import downloads  # noqa: F401  (the fixture reading a download's bytes)
from ui import navigation


def open_page(page: str, **state: object) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=180)
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(navigation.BY_NAME[page].script)
    return at.run()


def frames(at: AppTest) -> dict[str, object]:
    return {d.proto.id: d.value for d in at.dataframe}


def test_overview_shows_the_book_per_promise(app_env):
    """The filtered book: one row per promise with accounts kept, at risk and missed."""
    at = open_page("overview")
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert "Promises kept" in [s.value for s in at.subheader]
    book = next(d.value for d in at.dataframe if "promise" in d.value.columns and "kept" in d.value.columns)
    assert {"response targets", "authorized contacts", "weekly updates"} <= set(book["promise"])
    assert (book[["kept", "at_risk", "missed"]].sum(axis=1) <= book["accounts"]).all()


def test_overview_of_one_account_shows_its_whole_card(app_env):
    """One account chosen: every promise of its package, each with a status and evidence."""
    at = open_page("overview", account=["ACC-0013"])
    assert not at.exception, at.exception[0].value if at.exception else ""
    card = next(d.value for d in at.dataframe if "evidence" in d.value.columns)
    assert set(card["account_name"]) == {card["account_name"].iloc[0]}
    assert "response targets" in set(card["promise"])
    assert set(card["status"]) <= {"kept", "at risk", "missed", "nothing to judge", "not measured"}


def test_governance_shows_the_scorecard_and_its_pack_carries_it(app_env, downloads):  # noqa: F811
    """The Governance page has the section; the downloaded pack has both scorecard tables."""
    at = open_page("governance")
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert "Promises kept" in [h.value for h in at.header]
    assert any("promise" in d.value.columns for d in at.dataframe)
    pack = downloads(at.download_button(key="gov_pack")).decode()
    assert "<h2>Promises kept, per promise</h2>" in pack and "<h2>Promises at risk or missed</h2>" in pack
    assert "<th>evidence</th>" in pack
    meeting = open_page("governance", gov_meeting=True)
    assert not meeting.exception
    assert any("promise" in t.value.columns for t in meeting.table)
