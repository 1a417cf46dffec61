"""The SLA attainment, Utilization and Active tickets pages in AppTest on the sample: bounded charts that say
how many rows they draw, and a sentence instead of an empty chart when nothing in view has a target."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from metrics.engine.freshness import data_bounds
from metrics.engine.snapshot import take_snapshot
from metrics.storage.store import PROJECT_ROOT, connect_published
from metrics.subjects.active import active_tickets
from metrics.subjects.attainment import attainment_table
from metrics.subjects.filters import Filters
from metrics.subjects.utilization import utilization_ranking


def open_page(script: str, **state: object) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page(script)
    for key, value in state.items():  # the sidebar widgets' keys; AppTest drops the sidebar after switch_page
        at.session_state[key] = value
    return at.run()


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


@pytest.fixture(scope="module")
def snap(sample_db):
    con = connect_published(sample_db)
    return take_snapshot(con, data_bounds(con).latest.isoformat())


def test_bronze_says_it_has_no_targets_and_draws_no_chart(app_env):
    """Package = Bronze (no response targets): the sentence where the attainment would be, and no chart at all."""
    at = open_page("views/sla_attainment.py", package=["Bronze"])
    assert not at.exception
    assert any(i.value.startswith("Bronze promises no response times") for i in at.info)
    assert charts(at) == []
    assert [m.label for m in at.metric] == ["Breached", "Still running"]  # no "–" attainment tiles


def test_gold_still_shows_the_attainment(app_env):
    """A targeted package keeps its tiles and charts: the notice is only for views without a target."""
    at = open_page("views/sla_attainment.py", package=["Gold"])
    assert not at.exception
    assert not any("no response times" in i.value for i in at.info)
    assert "Initial response attainment" in [m.label for m in at.metric] and charts(at)


def test_compare_by_chart_draws_the_25_most_breached_accounts(app_env, snap):
    """Compare by account: 25 bars, the first the account with the most breaches; the caption counts all accounts."""
    at = open_page("views/sla_attainment.py")
    assert not at.exception
    start, end = at.session_state["period"]  # the sidebar's default period
    by_account = attainment_table(snap, by=["account_name"], filters=Filters(start=start, end=end))
    decided = by_account[(by_account["met"] + by_account["breached"]) > 0]
    status = next(c for c in charts(at) if c["layout"]["title"]["text"] == "Met and breached")
    names = status["data"][0]["y"]
    assert len(names) == 25
    assert decided.set_index("account_name").loc[names[0], "breached"] == decided["breached"].max()
    assert f"25 of {len(decided):,} accounts shown" in captions(at)  # accounts with something met or breached


def test_utilization_charts_say_how_many_accounts_they_draw(app_env, snap):
    """Each chart draws at most 25 accounts and says 'N of M accounts shown', M the accounts entitled to the kind."""
    at = open_page("views/utilization.py")
    assert not at.exception
    ranking = utilization_ranking(snap)
    entitled = [int(ranking[f"{kind}_share"].notna().sum()) for kind in ("service_days", "training_sessions")]
    shown = [c for c in captions(at) if c.endswith("accounts shown")]
    assert shown == [f"{min(n, 25)} of {n:,} accounts shown" for n in entitled]
    assert [len(c["data"][0]["y"]) for c in charts(at)] == [min(n, 25) for n in entitled]
    at.button_group(key="util_top_n").set_value("all").run()
    assert [len(c["data"][0]["y"]) for c in charts(at)] == entitled


def test_active_chart_says_how_many_clocks_it_draws(app_env, snap):
    """The clock chart draws the 25 most urgent running clocks (the metric's order) and says of how many."""
    at = open_page("views/active_tickets.py")
    assert not at.exception
    queue = active_tickets(snap)
    defaults = ["breached", "at_risk", "no_clock", "on_track", "paused"]  # the page's default states
    running = queue[queue["clock_state"].isin(defaults) & queue["consumed"].notna()]
    assert any(c.startswith(f"{min(len(running), 25)} of {len(running):,} running clocks shown") for c in captions(at))
    clocks = charts(at)[0]
    drawn = [case for trace in clocks["data"] for case in trace["y"]]
    assert sorted(drawn) == sorted(running["case_id"].head(25))
