"""The access file and the sign-in gate without a browser: parsing, matching, and what the frame stops on.

The gate runs in Streamlit's AppTest with an `[auth]` section in `at.secrets` and a signed-in
`at.user` (the real provider round trip is tests/app/test_auth.py). Line numbers in the
expected messages are counted by hand in the texts below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.store import PROJECT_ROOT
from ui import navigation
from ui.access import ACCESS_ENV, AccessFileError, parse_access, read_access
from ui.audit import AUDIT_ENV, entries, matching, record

AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x", "client_id": "x",
        "client_secret": "x", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}


def test_the_documented_example_parses_and_the_most_specific_entry_wins():
    rules = read_access(PROJECT_ROOT / "docs" / "access.example.toml")
    priya = rules.match("Priya.Raman@Vendor.example")  # addresses compare case-insensitively
    assert priya is not None and (priya.role, priya.advisor) == ("advisor", "Priya Raman")
    assert rules.match("someone@vendor.example").role == "executive"  # the domain entry
    assert rules.match("it-lead@customer.example").accounts == ("ACC-0002",)
    assert rules.match("other@customer.example") is None  # deny by default
    assert rules.match("x@sub.vendor.example") is None  # a domain entry is that domain only
    assert rules.match("not an address") is None


@pytest.mark.parametrize(("text", "message"), [
    ('[[users]]\nemail = "a@b.example"\nrole = "boss"\n',
     "access.toml line 3: role must be one of admin, executive, advisor, subscriber."),
    ('[[users]]\nemail = "a@b.example"\nrole = "admin"\n\n[[users]]\nemail = "c@b.example"\nrole = "subscriber"\n',
     'access.toml line 7: a subscriber needs accounts = a list of account ids, such as ["ACC-0002"].'),
    ('[[users]]\nemail = "a@b.example"\nrole = "advisor"\n',
     "access.toml line 3: an advisor needs advisor = the name used in accounts.advisor."),
    ('[[users]]\nemail = "a@b.example"\nrole = "admin"\n[[users]]\nemail = "A@b.example"\nrole = "executive"\n',
     "access.toml line 5: a@b.example is listed twice (first on line 2)."),
    ('[[users]]\nemail = "a@b.example"\nrole = "admin"\nteam = "x"\n',
     "access.toml line 4: unknown key 'team' (a user has email, role, advisor and accounts)."),
    ('[[users]]\nemail = "*.example"\nrole = "admin"\n',
     "access.toml line 2: email must be an address (name@example.com) or a whole domain (*@example.com)."),
    ('[[users]]\nemail = "a@b.example"\nrole = admin\n', "access.toml line 3: this is not valid TOML."),
])
def test_a_malformed_access_file_is_one_sentence_naming_the_line(text, message):
    with pytest.raises(AccessFileError) as caught:
        parse_access(text)
    assert str(caught.value) == message


def test_the_audit_trail_is_appended_and_read_newest_first(tmp_path: Path):
    log = tmp_path / "audit.jsonl"
    record("sign_in", "a@b.example", "admin", {}, path=log)
    record("download", "c@b.example", "subscriber", {"page": "overview", "file": "x.csv"}, path=log)
    with log.open("a") as f:
        f.write('{"time": "cut short')  # a crash mid-line is skipped, not fatal
    frame = entries(log)
    assert list(frame["event"]) == ["download", "sign_in"]
    assert frame["what"][0] == "page=overview; file=x.csv"
    assert list(matching(frame, ("sign_in",))["identity"]) == ["a@b.example"]
    assert list(matching(frame, (), "X.CSV")["identity"]) == ["c@b.example"]


def app(tmp_path: Path, access: str | None, user: dict[str, object] | None, monkeypatch) -> AppTest:
    if access is not None:
        (tmp_path / "access.toml").write_text(access)
        monkeypatch.setenv(ACCESS_ENV, str(tmp_path / "access.toml"))
    else:
        monkeypatch.delenv(ACCESS_ENV, raising=False)
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.secrets["auth"] = AUTH
    if user is not None:
        at.user = user  # type: ignore[assignment]
    return at


ACCESS = '[[users]]\nemail = "lead@customer.example"\nrole = "subscriber"\naccounts = ["ACC-0002"]\n'


def test_local_mode_says_so_in_the_sidebar(app_env):
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120).run()
    assert not at.exception
    assert any("Local mode" in c.value for c in at.sidebar.caption)


def test_a_malformed_access_file_stops_the_app(app_env, tmp_path, monkeypatch):
    at = app(tmp_path, '[[users]]\nemail = "a@b.example"\nrole = "boss"\n',
             {"is_logged_in": True, "email": "a@b.example"}, monkeypatch).run()
    assert [e.value for e in at.error] == [
        "access.toml line 3: role must be one of admin, executive, advisor, subscriber."]
    assert not at.metric and not at.title


def test_sign_in_without_an_access_file_lets_nobody_in(app_env, tmp_path, monkeypatch):
    at = app(tmp_path, None, {"is_logged_in": True, "email": "a@b.example"}, monkeypatch).run()
    assert [e.value for e in at.error] == [
        f"Sign-in is configured but {ACCESS_ENV} names no access file, so nobody has access."]


def test_signed_out_visitors_see_the_sign_in_button_only(app_env, tmp_path, monkeypatch):
    at = app(tmp_path, ACCESS, {"is_logged_in": False}, monkeypatch).run()
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.sidebar.multiselect


def test_an_unverified_address_is_refused(app_env, tmp_path, monkeypatch):
    at = app(tmp_path, ACCESS, {"is_logged_in": True, "email": "lead@customer.example", "email_verified": False},
             monkeypatch).run()
    assert [t.value for t in at.title] == ["No access"]
    assert not at.metric


def test_a_subscriber_cannot_reach_another_page_or_account(app_env, tmp_path, monkeypatch):
    at = app(tmp_path, ACCESS, {"is_logged_in": True, "email": "lead@customer.example"}, monkeypatch)
    at.switch_page(navigation.BY_NAME["escalations"].script)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Overview"]  # not served to a subscriber: the default page instead
    assert at.sidebar.multiselect(key="account").options == ["Zenith Bank Inc."]
    assert at.sidebar.multiselect(key="advisor").options == []
