"""The weekly update as a workflow in AppTest: drafts that survive a new session, a refused stale save,
marking sent, the history shown as text, and who may do what (local admin, advisor, executive, subscriber).

Each test works on its own copy of the sample store, so the workspace beside it starts empty.
In the sample, ACC-0002 (Zenith Bank Inc.) is Gold (weekly updates) with advisor Dana Whitfield;
the data ends on 2026-11-27, so the page opens on the last complete week, 2026-W47 (Mon 16 Nov).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.storage.store import DB_ENV, PROJECT_ROOT
from metrics.workspace import Workspace
from ui import navigation
from ui.access import ACCESS_ENV
from ui.audit import AUDIT_ENV

ACCOUNT = "ACC-0002"
WEEK = dt.date(2026, 11, 16)  # 2026-W47
HOSTILE = "Draft <script>alert(1)</script> **bold** [x](javascript:alert(2)) ![i](http://evil.example/t.png)"
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x", "client_id": "x",
        "client_secret": "x", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ACCESS = """
[[users]]
email = "dana@vendor.example"
role = "advisor"
advisor = "Dana Whitfield"
[[users]]
email = "exec@vendor.example"
role = "executive"
[[users]]
email = "lead@customer.example"
role = "subscriber"
accounts = ["ACC-0002"]
"""


@pytest.fixture
def store(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the sample store with an empty workspace, served to the app."""
    db = tmp_path / "support.duckdb"
    shutil.copyfile(sample_db, db)
    monkeypatch.setenv(DB_ENV, str(db))
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    yield db


def open_weekly(user: str | None = None, tmp_path: Path | None = None, monkeypatch=None) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    if user is not None:
        assert tmp_path is not None and monkeypatch is not None
        (tmp_path / "access.toml").write_text(ACCESS)
        monkeypatch.setenv(ACCESS_ENV, str(tmp_path / "access.toml"))
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": user}  # type: ignore[assignment]
    at.switch_page(navigation.BY_NAME["weekly_update"].script)
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    if at.selectbox(key="weekly_account").value != ACCOUNT:  # its options read as names, its value is the id
        at.selectbox(key="weekly_account").set_value(ACCOUNT).run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def editor(at: AppTest):
    return next(t for t in at.text_area if t.key and t.key.startswith(f"weekly_text_{ACCOUNT}_"))


def test_a_saved_draft_survives_a_new_session_and_a_stale_save_is_refused(store):
    """Session one saves; a fresh session opens that text; a session still on version 0 is refused."""
    first, second = open_weekly(), open_weekly()  # both opened before any save: version 0
    generated = editor(first).value
    assert "Zenith Bank" in generated
    editor(first).input(HOSTILE)
    first.button(key="weekly_save").click().run()
    assert [s.value for s in first.success] == ["Draft saved (version 1)."]

    reopened = open_weekly()  # a reload, or the server restarted: nothing held in memory
    assert editor(reopened).value == HOSTILE
    assert any("Draft version 1 saved by local" in c.value for c in reopened.caption)

    editor(second).input("Second session's text")
    second.button(key="weekly_save").click().run()
    assert next(w.value for w in second.warning).startswith("This draft was changed by local at ")
    draft = Workspace.beside(store).draft(ACCOUNT, WEEK)
    assert draft is not None and (draft.text, draft.version) == (HOSTILE, 1)  # not overwritten
    second.button(key="weekly_load_saved").click().run()
    assert editor(second).value == HOSTILE
    editor(second).input("Second session, on top of version 1")
    second.button(key="weekly_save").click().run()
    assert [s.value for s in second.success] == ["Draft saved (version 2)."]


def test_an_emptied_text_area_leaves_the_page_working(store):
    """An advisor who clears the whole text sees an empty preview, not an error (st.html refuses "")."""
    at = open_weekly()
    editor(at).input("").run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    assert any(c.value == "Nothing to preview: the update's text is empty." for c in at.caption)


def test_mark_sent_keeps_the_exact_text_and_shows_it_as_text(store):
    """Marked sent: who (local), when, the exact text; the history shows it in a code block, not rendered."""
    at = open_weekly()
    editor(at).input(HOSTILE)
    at.button(key="weekly_mark_sent").click().run()
    assert not at.exception
    [sent] = Workspace.beside(store).sent_updates([ACCOUNT])
    assert (sent.text, sent.sent_by, sent.week_start) == (HOSTILE, "local", WEEK)
    assert any(c.value == HOSTILE for c in at.code)
    assert not any("<script>" in m.value for m in at.markdown)  # never rendered as Markdown
    assert any("&lt;script&gt;" in h.proto.body for h in at.get("html"))  # the preview keeps it as text
    assert any(c.value.startswith("Sent ") and "(late)" in c.value for c in at.caption)  # W47 was due Mon 23 Nov


def test_an_advisor_writes_for_their_book_only_and_is_named_as_sender(store, tmp_path, monkeypatch):
    """Dana's options are her six accounts; her send is recorded under her address."""
    at = open_weekly("dana@vendor.example", tmp_path, monkeypatch)
    options = at.selectbox(key="weekly_account").options
    assert len(options) == 6 and "Zenith Bank Inc." in options
    at.button(key="weekly_mark_sent").click().run()
    [sent] = Workspace.beside(store).sent_updates()
    assert (sent.account_id, sent.sent_by) == (ACCOUNT, "dana@vendor.example")


def test_an_executive_reads_without_writing(store, tmp_path, monkeypatch):
    """The text is read only and there is no Save or Mark sent button; the saved draft is what they read."""
    Workspace.beside(store).save_draft(ACCOUNT, WEEK, "Saved by Dana", "dana@vendor.example",
                                       dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC), 0)
    at = open_weekly("exec@vendor.example", tmp_path, monkeypatch)
    assert editor(at).disabled and editor(at).value == "Saved by Dana"
    keys = {b.key for b in at.button}
    assert not keys & {"weekly_save", "weekly_mark_sent"}


def test_a_subscriber_sees_sent_updates_of_their_account_and_no_draft(store, tmp_path, monkeypatch):
    """No editor and no draft text; the sent update shows verbatim; another account's never."""
    ws = Workspace.beside(store)
    at_ = dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC)
    ws.save_draft(ACCOUNT, WEEK, "DRAFT NOT FOR THE CUSTOMER", "dana@vendor.example", at_, 0)
    ws.mark_sent(ACCOUNT, WEEK - dt.timedelta(days=7), "Sent to Zenith <b>", "dana@vendor.example", at_)
    ws.mark_sent("ACC-0015", WEEK, "Sent to another customer", "dana@vendor.example", at_)
    at = open_weekly("lead@customer.example", tmp_path, monkeypatch)
    assert not at.text_area
    assert [c.value for c in at.code] == ["Sent to Zenith <b>"]
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.code])
    assert "DRAFT NOT FOR THE CUSTOMER" not in shown and "another customer" not in shown


def test_delivery_shows_on_governance_and_the_executive_overview(store, tmp_path, monkeypatch):
    """Governance shows the tiles; an executive's Overview shows them, an advisor's does not."""
    Workspace.beside(store).mark_sent(ACCOUNT, WEEK, "x", "dana@vendor.example",
                                      dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC))
    gov = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    gov.switch_page(navigation.BY_NAME["governance"].script)
    gov.run()
    assert not gov.exception
    labels = {m.label: m.value for m in gov.metric}
    assert "Weekly updates sent" in labels and "Weekly updates on time" in labels
    assert any(c.value.startswith("1 of ") for c in gov.caption)  # one account-week sent in the period

    def overview(user: str) -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
        (tmp_path / "access.toml").write_text(ACCESS)
        monkeypatch.setenv(ACCESS_ENV, str(tmp_path / "access.toml"))
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": user}  # type: ignore[assignment]
        return at.run()

    assert "Weekly updates sent" in {m.label for m in overview("exec@vendor.example").metric}
    assert "Weekly updates sent" not in {m.label for m in overview("dana@vendor.example").metric}


def test_a_send_from_another_session_shows_on_the_next_run(store):
    """Delivery is cached per workspace write: the run after a send counts it, the runs before did not."""
    gov = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    gov.switch_page(navigation.BY_NAME["governance"].script)
    gov.run()
    before = [c.value for c in gov.caption if c.value.endswith("account-weeks owed")]
    assert before and before[0].startswith("0 of "), before  # nothing sent: the workspace is empty
    gov.run()  # a rerun with nothing written reads the cached delivery
    Workspace.beside(store).mark_sent(ACCOUNT, WEEK, "x", "dana@vendor.example",
                                      dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC))
    gov.run()
    after = [c.value for c in gov.caption if c.value.endswith("account-weeks owed")]
    assert after and after[0].startswith("1 of "), after
    Workspace.beside(store).mark_sent("ACC-0002", WEEK - dt.timedelta(days=7), "y", "dana@vendor.example",
                                      dt.datetime(2026, 11, 16, 18, tzinfo=dt.UTC))
    gov.run()
    again = [c.value for c in gov.caption if c.value.endswith("account-weeks owed")]
    assert again and again[0].startswith("2 of "), again
