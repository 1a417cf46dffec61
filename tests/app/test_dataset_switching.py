"""Switching datasets holds: the sidebar shows the new data's range, the address names the dataset, Period ≤ As-of.

The tiny dataset (tests/conftest.py BASE_FILES) spans 2026-03-06 23:00Z (its first case)
to 2026-03-11 00:00Z (a closing); in the reporting timezone, America/Denver (MST until
2026-03-08, MDT after), that is 16:00 on 6 March to 18:00 on 10 March. So As-of is
2026-03-10 and the default Period, 90 days ending there but not before the first day,
is 2026-03-06 to 2026-03-10. Its one advisor is Ann.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import cast

import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.datasets import DATA_ROOT_ENV, KEEP_STORES_ENV
from metrics.storage.store import DB_ENV, PROJECT_ROOT, remove_store
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_page, served_app, wait_until_idle
from tests.app.test_access import AUTH
from tests.app.test_data_page import assert_private, load_folder, metric_value, shown_text
from ui.access import ACCESS_ENV
from ui.audit import AUDIT_ENV

TINY_AS_OF = dt.date(2026, 3, 10)
TINY_PERIOD = (dt.date(2026, 3, 6), dt.date(2026, 3, 10))
NOTICE = "The address named a dataset this server does not hold"
CUT = "Period cut to end at As of."


@pytest.fixture
def site(app_env: Path, make_dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A data root holding the tiny dataset, and a copy of the sample store served from its own folder."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.move(make_dataset(), root / "tiny")
    served = tmp_path / "served" / "support.duckdb"
    served.parent.mkdir()
    shutil.copyfile(app_env, served)
    monkeypatch.setenv(DATA_ROOT_ENV, str(root))
    monkeypatch.setenv(DB_ENV, str(served))
    monkeypatch.delenv(KEEP_STORES_ENV, raising=False)
    return {"root": root, "stores": served.parent / "stores", "tmp": tmp_path}


def open_page(page: str = "data", **params: str | list[str]) -> AppTest:
    """A new session (a reload, a shared link) opening `page` with the address's query parameters."""
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update(params)
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def sidebar(at: AppTest) -> tuple[dt.date, tuple[dt.date, ...]]:
    """What the sidebar's As of and Period show."""
    return as_of(at), tuple(cast(tuple[dt.date, ...], at.date_input(key="period").value))


def as_of(at: AppTest) -> dt.date:
    return cast(dt.date, at.date_input(key="as_of").value)


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_a_load_resets_the_sidebar_to_the_new_data_and_names_it_in_the_address(site):
    """After moving As-of, Period, Account and Advisor on the sample, loading tiny shows tiny's range and no stale choice."""
    at = open_page()
    latest = as_of(at)
    sample_advisor = next(a for a in at.multiselect(key="advisor").options if a != "Ann")
    account = at.multiselect(key="account").options[0]
    at.date_input(key="as_of").set_value(latest - days(40))
    at.date_input(key="period").set_value((latest - days(60), latest - days(45)))
    at.multiselect(key="account").select(account)
    at.multiselect(key="advisor").select(sample_advisor)
    # what the browser writes into the address on those clicks (AppTest has no frontend to do it)
    at.query_params.update(as_of=str(latest - days(40)), period=[str(latest - days(60)), str(latest - days(45))],
                           account=account, advisor=sample_advisor)
    at.run()

    load_folder(at, "tiny")
    store = next(site["stores"].glob("tiny-*.duckdb"))
    assert metric_value(at, "Cases") == "2"
    assert sidebar(at) == (TINY_AS_OF, TINY_PERIOD)
    assert at.multiselect(key="account").value == [] and at.multiselect(key="advisor").value == []
    assert at.query_params == {"dataset": store.stem}  # the defaults are not in the address
    assert at.selectbox(key="data_switch_to").value == store.stem


def test_a_reload_or_shared_link_opens_the_same_data(site):
    """A new session with ?dataset=<the loaded store> shows tiny on every page, and the address keeps the name."""
    load_folder(open_page(), "tiny")
    name = next(site["stores"].glob("tiny-*.duckdb")).stem
    at = open_page(dataset=name)
    assert metric_value(at, "Cases") == "2"
    assert sidebar(at) == (TINY_AS_OF, TINY_PERIOD)
    assert at.selectbox(key="data_switch_to").value == name
    at.switch_page("views/overview.py").run()
    assert not at.exception
    assert at.query_params.get("dataset") == name  # a page change keeps the dataset in the address
    assert any("As of 2026-03-11 00:00 UTC" in c.value for c in at.caption)  # tiny's latest instant


def test_switching_back_to_the_sample_restores_its_range(site):
    """From tiny, choosing the default in the list and Switch shows the sample as a fresh session shows it."""
    fresh = open_page()
    at = load_folder(open_page(), "tiny")
    at.selectbox(key="data_switch_to").select("sample").run()
    at.button(key="data_switch").click().run()
    assert not at.exception
    assert metric_value(at, "Cases") == metric_value(fresh, "Cases") == "20,000"
    assert sidebar(at) == sidebar(fresh)
    assert "dataset" not in at.query_params
    assert "store_path" not in at.session_state
    name = next(site["stores"].glob("tiny-*.duckdb")).stem
    at.selectbox(key="data_switch_to").select(name).run()  # and forth again, without loading
    at.button(key="data_switch").click().run()
    assert metric_value(at, "Cases") == "2" and sidebar(at) == (TINY_AS_OF, TINY_PERIOD)
    assert at.query_params == {"dataset": name}


def test_the_list_names_datasets_by_label_and_time_never_a_path(site):
    """Each entry reads "<folder under the root> · loaded <UTC time>"; the default says so."""
    at = load_folder(open_page(), "tiny")
    labels = [at.selectbox(key="data_switch_to").format_func(o) for o in at.selectbox(key="data_switch_to").options]
    assert labels[0].startswith("sample (default) · loaded ")
    assert labels[1].startswith("tiny · loaded ") and labels[1].endswith(" UTC")
    assert_private(at, site["tmp"])


@pytest.mark.parametrize("name", ["../../etc/passwd", "/tmp/x", "nowhere", "stores/x", "support", "{tmp}"])
def test_a_hostile_or_unknown_dataset_shows_the_default_data_and_reveals_nothing(site, name):
    """A path, a traversal, an unknown name: one neutral notice, the default data, the parameter dropped."""
    at = open_page(dataset=name.format(tmp=site["tmp"] / "served" / "support.duckdb"))
    notices = [w.value for w in at.warning if NOTICE in w.value]
    assert len(notices) == 1 and name not in notices[0]
    assert metric_value(at, "Cases") == "20,000"
    assert "dataset" not in at.query_params
    assert_private(at, site["tmp"])
    at.run()
    assert not [w for w in at.warning if NOTICE in w.value]  # said once


def test_a_pruned_dataset_in_a_link_gives_the_notice(site):
    """A link to a store the server no longer keeps opens the default data with the same notice."""
    load_folder(open_page(), "tiny")
    store = next(site["stores"].glob("tiny-*.duckdb"))
    remove_store(store)
    at = open_page(dataset=store.stem)
    assert [w.value for w in at.warning if NOTICE in w.value]
    assert metric_value(at, "Cases") == "20,000" and "dataset" not in at.query_params
    assert str(site["tmp"]) not in shown_text(at)


def test_moving_as_of_earlier_moves_the_default_period(site):
    """Untouched, Period is the 90 days ending at As-of, wherever As-of goes, and never ends after it."""
    at = open_page("overview")
    latest = as_of(at)
    assert sidebar(at) == (latest, (latest - days(89), latest))
    at.date_input(key="as_of").set_value(latest - days(30)).run()
    assert sidebar(at) == (latest - days(30), (latest - days(119), latest - days(30)))
    assert at.date_input(key="period").max == latest - days(30)
    assert not [c for c in at.caption if c.value == CUT]
    at.date_input(key="as_of").set_value(latest).run()  # and back
    assert sidebar(at) == (latest, (latest - days(89), latest))


def test_a_chosen_period_ending_after_a_new_as_of_is_cut(site):
    """A chosen Period keeps its start and ends at the new As-of, with a caption; past its start, the default."""
    at = open_page("overview")
    latest = as_of(at)
    at.date_input(key="period").set_value((latest - days(20), latest)).run()
    at.date_input(key="as_of").set_value(latest - days(10)).run()
    assert sidebar(at) == (latest - days(10), (latest - days(20), latest - days(10)))
    assert [c for c in at.caption if c.value == CUT]
    assert at.query_params["period"] == [str(latest - days(20)), str(latest - days(10))]
    at.date_input(key="as_of").set_value(latest - days(30)).run()  # before the chosen start
    assert sidebar(at) == (latest - days(30), (latest - days(119), latest - days(30)))


def test_a_link_whose_period_ends_after_its_as_of_gets_the_default_period(site):
    """The issue's link (As-of 2026-10-16, Period to 2026-11-27) opens with the 90 days to 2026-10-16, and says so."""
    at = open_page("overview", as_of="2026-10-16", period=["2026-08-30", "2026-11-27"])
    assert sidebar(at) == (dt.date(2026, 10, 16), (dt.date(2026, 7, 19), dt.date(2026, 10, 16)))
    assert [c for c in at.caption if c.value.startswith("The address's Period ended after As of")]
    assert "period" not in at.query_params
    assert any("period 2026-07-19 to 2026-10-16" in c.value for c in at.caption)  # what the page computes


ROLES = """
[[users]]
email = "exec@vendor.example"
role = "executive"
[[users]]
email = "ann@vendor.example"
role = "advisor"
advisor = "Ann"
"""


def signed_in(site: dict[str, Path], email: str, monkeypatch: pytest.MonkeyPatch, page: str,
              **params: str) -> AppTest:
    (site["tmp"] / "access.toml").write_text(ROLES)
    monkeypatch.setenv(ACCESS_ENV, str(site["tmp"] / "access.toml"))
    monkeypatch.setenv(AUDIT_ENV, str(site["tmp"] / "audit.jsonl"))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email}  # type: ignore[assignment]
    at.query_params.update(params)
    at.switch_page(f"views/{page}.py")
    return at.run()


def test_an_executive_switches_and_an_advisor_follows_a_link_within_their_scope(site, monkeypatch):
    """The executive (read-only) switches on the Data page; Ann's link to tiny shows tiny, her account only."""
    load_folder(open_page(), "tiny")
    name = next(site["stores"].glob("tiny-*.duckdb")).stem
    at = signed_in(site, "exec@vendor.example", monkeypatch, "data")
    assert not at.exception
    assert not [b for b in at.button if b.key == "data_load_folder"]  # switching, not loading
    assert len(at.selectbox(key="data_switch_to").options) == 2  # the default and tiny
    at.selectbox(key="data_switch_to").select(name).run()
    at.button(key="data_switch").click().run()
    assert metric_value(at, "Cases") == "2" and sidebar(at) == (TINY_AS_OF, TINY_PERIOD)
    ann = signed_in(site, "ann@vendor.example", monkeypatch, "overview", dataset=name)
    assert not ann.exception
    assert ann.multiselect(key="account").options == ["Acme"]  # A1, Ann's one account of tiny's two
    assert sidebar(ann) == (TINY_AS_OF, TINY_PERIOD)
    data = signed_in(site, "ann@vendor.example", monkeypatch, "data", dataset=name)
    assert not [s for s in data.selectbox if s.key == "data_switch_to"]  # an advisor sees freshness only


def shown_dates(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The dates the browser's sidebar shows: As of, then Period's start and end (the fields' own inputs)."""
    dates = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"] input')
    dates.nth(2).wait_for(timeout=60_000)  # the sidebar may still be drawing when the page's heading shows
    return [dates.nth(i).input_value() for i in range(dates.count())]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_the_browser_shows_the_new_range_after_a_load_and_a_reload(make_dataset, sample_db, tmp_path):
    """What only a browser shows: after a load the sidebar's fields display tiny's dates (they kept the old ones), a
    reload keeps tiny, and a switch back shows the sample's dates again."""
    root, served = tmp_path / "root", tmp_path / "served" / "support.duckdb"
    root.mkdir()
    served.parent.mkdir()
    shutil.move(make_dataset(), root / "tiny")
    shutil.copyfile(sample_db, served)
    env = {DB_ENV: str(served), DATA_ROOT_ENV: str(root)}
    with served_app(env, tmp_path / "streamlit.log") as url, chromium_page(width=1440) as page:
        page.goto(f"{url}/data")
        page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
        wait_until_idle(page)
        sample_dates = shown_dates(page)
        page.goto(f"{url}/data?as_of=2026-10-16")  # a moved As-of in the address, as the issue had it
        page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
        wait_until_idle(page)
        assert shown_dates(page) == ["2026-10-16", "2026-07-19", "2026-10-16"]
        page.get_by_role("textbox", name="…or type a folder under the data root").fill("tiny")
        page.keyboard.press("Enter")
        wait_until_idle(page)
        page.get_by_role("button", name="Load folder").click()
        page.get_by_text("Loaded. The whole app now shows this data.").wait_for(timeout=120_000)
        wait_until_idle(page)
        name = next((served.parent / "stores").glob("tiny-*.duckdb")).stem
        tiny_dates = ["2026-03-10", "2026-03-06", "2026-03-10"]
        assert shown_dates(page) == tiny_dates
        assert page.url == f"{url}/data?dataset={name}"
        page.reload()
        page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
        wait_until_idle(page)
        assert shown_dates(page) == tiny_dates
        assert page.locator('[data-testid="stMetric"]').filter(has_text="Cases").first.inner_text().split()[-1] == "2"
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").first.click()
        page.get_by_role("option", name="sample (default)").click()
        wait_until_idle(page)
        page.get_by_role("button", name="Switch", exact=True).click()
        wait_until_idle(page)
        assert page.url == f"{url}/data"
        assert shown_dates(page) == sample_dates  # as a fresh visit shows the sample: As-of starts over too
        assert page.locator('[data-testid="stException"]').count() == 0
