"""Sign-in for real: an OpenID Connect provider on 127.0.0.1, the app as `streamlit run`, Chromium signing in.

`oidc-provider-mock` is the identity provider (users and their claims are set over its
HTTP API; its login form signs them in). The app runs with a temporary secrets.toml whose
`[auth]` section points at it and a temporary access file; both start once for the module.
Each visitor gets a fresh browser context (their own cookies) and signs in through the
provider's form: an admin, an executive (by domain), an advisor, a subscriber and an
unknown address. What each sees is checked against the sample's accounts table, read here
with DuckDB.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from metrics.storage.store import DB_ENV, PROJECT_ROOT
from tests.app.serving import CHROMIUM, NO_CHROMIUM, chromium_browser, free_port, served_app, wait_until_idle
from ui.access import ACCESS_ENV
from ui.audit import AUDIT_ENV

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]

ADMIN = "admin@vendor.example"
EXECUTIVE = "ceo@vendor.example"  # matched by the domain entry only
ADVISOR = "priya.raman@vendor.example"
SUBSCRIBER = "it-lead@customer.example"
UNKNOWN = "stranger@elsewhere.example"
ACCESS = f"""
contact = "analytics-admins@vendor.example"
[[users]]
email = "{ADMIN}"
role = "admin"
[[users]]
email = "{ADVISOR}"
role = "advisor"
advisor = "Priya Raman"
[[users]]
email = "{SUBSCRIBER}"
role = "subscriber"
accounts = ["ACC-0002"]
[[users]]
email = "*@vendor.example"
role = "executive"
"""
CUSTOMER_PAGES = ["Overview", "SLA attainment", "Utilization", "Active tickets", "Weekly update", "Governance"]
ALL_PAGES = [*CUSTOMER_PAGES[:5], "Escalations", "Governance", "Data"]


def _accounts() -> dict[str, tuple[str, str | None]]:
    """account id -> (name, advisor), straight from the sample's file."""
    rows = duckdb.sql(
        f"select account_id, name, advisor from read_parquet('{PROJECT_ROOT / 'data/sample/accounts.parquet'}')"
    ).fetchall()
    return {a: (n, adv) for a, n, adv in rows}


ACCOUNTS = _accounts()
PRIYA = sorted(a for a, (_, adv) in ACCOUNTS.items() if adv == "Priya Raman")


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the OIDC provider did not start; see {log}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """oidc-provider-mock on a free loopback port, with the users' claims set over its API."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "oidc.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/.well-known/openid-configuration", proc, log)
        for email in (ADMIN, EXECUTIVE, ADVISOR, SUBSCRIBER, UNKNOWN):
            claims = json.dumps({"email": email, "email_verified": True, "name": email.split("@")[0]}).encode()
            request = urllib.request.Request(f"{url}/users/{quote(email)}", data=claims, method="PUT",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 204
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def served(provider: str, sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app signing in against `provider`, with the access file above; yields (URL, audit file)."""
    tmp = tmp_path_factory.mktemp("auth")
    port = free_port()
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-some-length"\n'
        'client_id = "support-analytics"\n'
        'client_secret = "not-a-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    (tmp / "access.toml").write_text(ACCESS)
    audit = tmp / "audit.jsonl"
    env = {DB_ENV: str(sample_db), ACCESS_ENV: str(tmp / "access.toml"), AUDIT_ENV: str(audit)}
    with served_app(env, tmp / "streamlit.log", args=["--secrets.files", str(secrets)], port=port) as url:
        yield url, audit


@pytest.fixture(scope="module")
def browser(served):
    with chromium_browser() as b:
        yield b


def sign_in(browser, url: str, email: str, path: str = ""):  # type: ignore[no-untyped-def]
    """A fresh visitor signing in as `email` through the provider's form; returns the page, on `path`."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True).new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_placeholder("sub").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**", timeout=60_000)
    page.locator('[data-testid="stApp"]').wait_for(timeout=120_000)
    wait_until_idle(page)
    if path:  # Streamlit returns to its root after the provider's redirect
        open_page(page, url, path)
    return page


def open_page(page, url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/{path}")
    page.locator('[data-testid="stApp"]').wait_for(timeout=120_000)
    wait_until_idle(page)


def nav_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles of the top navigation's links (each text ends with the title, after its icon's name)."""
    return [t.strip().splitlines()[-1] for t in page.locator('[data-testid="stTopNavLink"]').all_inner_texts()]


def options_of(page, label: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The options a sidebar multiselect offers (opened, read, closed)."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    listbox = page.locator('[role="listbox"]')
    try:
        listbox.wait_for(timeout=5_000)
        found = [t.strip() for t in listbox.locator('[role="option"]').all_inner_texts()]
    except Exception:  # no listbox: nothing to choose
        found = []
    page.keyboard.press("Escape")
    return [f for f in found if f and f not in ("No results", "Select all")]


def body(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator("body").inner_text())


def test_unknown_address_sees_one_page_without_data(browser, served):
    url, _ = served
    page = sign_in(browser, url, UNKNOWN)
    page.get_by_role("heading", name="No access").wait_for(timeout=60_000)
    text = body(page)
    assert UNKNOWN in text and "analytics-admins@vendor.example" in text
    assert page.locator('[data-testid="stMetric"]').count() == 0
    assert page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').count() == 0
    open_page(page, url, "sla_attainment?account=Zenith%20Bank%20Inc.")  # a deep link changes nothing
    page.get_by_role("heading", name="No access").wait_for(timeout=60_000)
    assert "Zenith" not in body(page)
    page.context.close()


def test_subscriber_sees_their_account_on_the_customer_pages_only(browser, served):
    url, _ = served
    page = sign_in(browser, url, SUBSCRIBER)
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=120_000)
    assert nav_links(page) == CUSTOMER_PAGES
    assert f"Signed in as {SUBSCRIBER} (subscriber)" in body(page)
    assert options_of(page, "Account") == [ACCOUNTS["ACC-0002"][0]]
    assert options_of(page, "Advisor") == []

    # Another account's name in the address is dropped, and the page says so.
    other = ACCOUNTS["ACC-0001"][0]
    open_page(page, url, f"utilization?account={quote(other)}")
    page.get_by_role("heading", name="Utilization").first.wait_for(timeout=60_000)
    text = body(page)
    assert "outside your access" in text
    assert other not in text
    others = [n for a, (n, _) in ACCOUNTS.items() if a != "ACC-0002"]
    assert not [n for n in others if n in text], "another account's name on Utilization"

    # The address of a page a subscriber may not open falls back to the default page.
    open_page(page, url, "escalations")
    assert page.get_by_role("heading", name="Escalations").count() == 0
    open_page(page, url, "data")
    assert page.get_by_role("heading", name="Data").count() == 0
    assert page.get_by_role("button", name="Load folder").count() == 0

    # A download carries only their account.
    open_page(page, url, "active_tickets")
    page.get_by_role("heading", name="Active tickets").first.wait_for(timeout=60_000)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").last.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows, "the open queue of ACC-0002 is empty on the sample"
    assert {r["account_name"] for r in rows} == {ACCOUNTS["ACC-0002"][0]}
    owners = dict(duckdb.sql(
        f"select case_id, account_id from read_parquet('{PROJECT_ROOT / 'data/sample/cases.parquet'}')"
    ).fetchall())
    assert {owners[r["case_id"]] for r in rows} == {"ACC-0002"}
    wait_until_idle(page)
    page.context.close()


def test_advisor_sees_their_book(browser, served):
    url, _ = served
    page = sign_in(browser, url, ADVISOR, "weekly_update")
    page.get_by_role("heading", name="Weekly update").first.wait_for(timeout=120_000)
    assert nav_links(page) == ALL_PAGES
    assert sorted(options_of(page, "Account")) == sorted(ACCOUNTS[a][0] for a in PRIYA)
    assert options_of(page, "Advisor") == ["Priya Raman"]

    # The zip of "all accounts of an advisor" holds their book, nothing else.
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Advisor").locator("input").click()
    page.keyboard.type("Priya Raman")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("button", name="(Markdown and HTML, zip)").click()
    names = zipfile.ZipFile(download.value.path()).namelist()
    assert len(names) == 2 * len(PRIYA)
    assert all(any(a in n for a in PRIYA) for n in names), names
    wait_until_idle(page)

    # Another advisor in the address is left out, and the page says so.
    open_page(page, url, "sla_attainment?advisor=Dana%20Whitfield")
    page.get_by_role("heading", name="SLA attainment").first.wait_for(timeout=60_000)
    assert "outside your access" in body(page)
    assert not [ACCOUNTS[a][0] for a in ACCOUNTS if a not in PRIYA and ACCOUNTS[a][0] in body(page)]

    # The Data page refuses loading and shows no audit trail.
    open_page(page, url, "data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=60_000)
    assert "Loading data and the audit trail are for admins" in body(page)
    assert page.get_by_role("button", name="Load folder").count() == 0
    assert "Audit trail" not in body(page)
    page.context.close()


def test_executive_sees_every_account_read_only(browser, served):
    url, _ = served
    page = sign_in(browser, url, EXECUTIVE, "data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
    assert nav_links(page) == ALL_PAGES
    assert f"Signed in as {EXECUTIVE} (executive)" in body(page)
    assert "Loading data and the audit trail are for admins" in body(page)
    assert page.get_by_role("button", name="Load folder").count() == 0
    assert "Audit trail" not in body(page)
    open_page(page, url, f"sla_attainment?account={quote(ACCOUNTS['ACC-0001'][0])}")
    assert "outside your access" not in body(page)
    page.context.close()


def test_admin_loads_data_and_reads_the_audit_trail(browser, served):
    """Runs last: the trail holds what the visitors above did, newest first."""
    url, audit = served
    page = sign_in(browser, url, ADMIN, "data")
    page.get_by_role("heading", name="Data").first.wait_for(timeout=120_000)
    assert page.get_by_role("button", name="Load folder").count() == 1
    page.get_by_text("Show the audit trail").click()
    wait_until_idle(page)
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    seen = {(e["event"], e["identity"]) for e in entries}
    assert ("denied", UNKNOWN) in seen
    sign_ins = sorted(e["identity"] for e in entries if e["event"] == "sign_in")
    assert sign_ins == sorted([SUBSCRIBER, ADVISOR, EXECUTIVE, ADMIN])  # once each, however many pages they opened
    downloads = [e for e in entries if e["event"] == "download"]
    assert {(e["identity"], e["what"]["page"]) for e in downloads} >= {(SUBSCRIBER, "active_tickets"),
                                                                        (ADVISOR, "weekly_update")}
    assert [e["time"] for e in entries] == sorted(e["time"] for e in entries)  # appended in order

    def shown_trail() -> list[dict[str, str]]:  # the trail as the page shows it, through its CSV export
        for _ in range(3):
            button = page.get_by_role("button", name="Download CSV").last
            expect(button).to_be_enabled(timeout=90_000)  # disabled while a run (the 30 s refresh check) is under way
            try:
                with page.expect_download(timeout=30_000) as download:
                    button.click()
            except PlaywrightTimeoutError:  # clicked as a run redrew the button: no download, as for a person; again
                wait_until_idle(page)
                continue
            wait_until_idle(page)
            return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        raise AssertionError("three clicks on the trail's Download CSV started no download")

    everything = shown_trail()
    assert len(everything) == len(entries)
    assert [r["time"] for r in everything] == sorted((r["time"] for r in everything), reverse=True)  # newest first
    assert everything[-1]["event"] == entries[0]["event"] and everything[-1]["identity"] == entries[0]["identity"]
    page.get_by_label("Contains").fill("stranger")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    # The unknown address visited twice (the sign-in, then a deep link): each visit refused is recorded.
    assert [(r["event"], r["identity"]) for r in shown_trail()] == [("denied", UNKNOWN)] * 2
    page.context.close()
