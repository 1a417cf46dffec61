"""Weekly update: one account and ISO week, generated, kept as a draft, marked sent; or an advisor's whole book.

Drafts and sent updates live in the workspace beside the store (metrics/workspace), so an
edit survives a reload and a server restart. Advisors (their book) and admins write;
executives read; a subscriber sees only the updates sent for their own account. A save names
the draft version it was edited from and is refused when another session saved in between.
Every text a person wrote is shown as text (st.code), never rendered as Markdown or HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from metrics.reports import weekly, weekly_render
from metrics.reports.html import markdown_page, page
from metrics.safe_text import file_part, md
from metrics.subjects.weekly_delivery import week_due
from metrics.workspace import StaleDraftError
from ui import audit, state
from ui import components as ui
from ui.navigation import page_title

bounds = state.bounds()
snap = state.snapshot()
who = state.viewer()
workspace = state.workspace()
page_title(__file__)

may_write = who.role in ("admin", "advisor")  # an advisor's scope is their book: every account offered is theirs
drafts_visible = who.role != "subscriber"
as_of_local = snap.as_of.astimezone(ZoneInfo(bounds.timezone))  # weeks are cut in the reporting timezone
weeks = ui.week_choices(as_of_local)
default = ui.last_complete_week(as_of_local)

advisor_filter = state.current_filters().advisors
accounts = {  # the sidebar's advisor filter narrows the choice to that advisor's book
    a: name for a, name in bounds.accounts.items()
    if not advisor_filter or bounds.account_advisors.get(a) in advisor_filter
}
left, right = st.columns(2)
account = left.selectbox(
    "Account", list(accounts), format_func=lambda a: accounts.get(a, a), key="weekly_account", bind="query-params",
)
week = right.selectbox("ISO week", weeks, index=weeks.index(default), key="weekly_week", bind="query-params",
                       help="Weeks run Monday to Monday in the reporting timezone; numbers are as of the week's end.")
right.caption(ui.week_note(week, as_of_local))  # the week's days and why; no format_func: the URL holds the value


def utc_text(at: dt.datetime) -> str:
    return f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def due_text(week_start: dt.date) -> str:
    """'Mon 23 Nov 2026 23:59 MST': the end of the Monday after the week, when an update is on time until."""
    due = week_due(week_start, bounds.timezone).astimezone(ZoneInfo(bounds.timezone)) - dt.timedelta(minutes=1)
    return f"{due:%a} {due.day} {due:%b %Y %H:%M %Z}"


def notice(kind: str, text: str) -> None:
    st.session_state["weekly_notice"] = (kind, text)


def show_notice() -> None:
    kind, text = st.session_state.pop("weekly_notice", (None, ""))
    if kind == "success":
        st.success(text, icon=":material/check:")
    elif kind == "warning":
        st.warning(text, icon=":material/warning:")


def history(account_id: str) -> None:
    """The updates sent for one account, newest first, each text shown verbatim (never rendered)."""
    sent = workspace.sent_updates([account_id])
    st.subheader("Updates sent", help="Every update marked sent for this account: who, when, and exactly the text.")
    if not sent:
        ui.empty_state("No update has been marked sent for this account yet.")
        return
    table = pd.DataFrame(
        {
            "week": [s.week_start.strftime("%G-W%V") for s in sent],
            "sent_at": pd.to_datetime([s.sent_at for s in sent], utc=True),
            "sent_by": [s.sent_by for s in sent],
            "on_time": [s.sent_at < week_due(s.week_start, bounds.timezone) for s in sent],
        }
    )
    ui.show_table(table, key="weekly_history", file_name=f"{file_part(account_id)}-updates-sent.csv")
    for s in sent[:20]:
        with st.expander(f"{s.week_start:%G-W%V} · sent {utc_text(s.sent_at)} by {md(s.sent_by)}"):
            st.code(s.text, language=None, wrap_lines=True)
    if len(sent) > 20:
        st.caption(f"The 20 latest of {len(sent):,} texts are shown; the table lists every send.")


if account and not state.scope().allows(account):  # the options hold the scope only; this holds whatever state says
    st.stop()

if account and not drafts_visible:
    history(account)  # a subscriber: what was sent to them, nothing in the making
    st.stop()

if account:
    account_id = account
    week_start = weekly.parse_week(week)
    [(_, stem, generated)] = state.report(weekly_render.weekly_markdown, account_ids=(account_id,), week=week)
    text_key, base_key = f"weekly_text_{account_id}_{week}", f"weekly_base_{account_id}_{week}"
    draft = workspace.draft(account_id, week_start)
    if base_key not in st.session_state:  # first look in this session: start from the saved draft, if any
        st.session_state[base_key] = draft.version if draft else 0
        st.session_state[text_key] = draft.text if draft else generated

    def save() -> None:
        if not may_write or not state.scope().allows(account_id):
            return
        try:
            saved = workspace.save_draft(account_id, week_start, st.session_state[text_key], who.identity,
                                         dt.datetime.now(dt.UTC), st.session_state[base_key])
        except StaleDraftError as stale:
            st.session_state["weekly_stale"] = (account_id, week)
            notice("warning", str(stale))
            return
        except ValueError as exc:
            notice("warning", str(exc))
            return
        st.session_state[base_key] = saved.version
        st.session_state.pop("weekly_stale", None)
        notice("success", f"Draft saved (version {saved.version}).")

    def load_saved() -> None:
        current = workspace.draft(account_id, week_start)
        st.session_state[text_key] = current.text if current else generated
        st.session_state[base_key] = current.version if current else 0
        st.session_state.pop("weekly_stale", None)

    def overwrite() -> None:
        current = workspace.draft(account_id, week_start)
        st.session_state[base_key] = current.version if current else 0
        save()

    def regenerate() -> None:
        st.session_state[text_key] = generated  # not saved until Save draft

    def mark_sent() -> None:
        if not may_write or not state.scope().allows(account_id):
            return
        text = st.session_state[text_key]
        try:
            sent = workspace.mark_sent(account_id, week_start, text, who.identity, dt.datetime.now(dt.UTC))
        except ValueError as exc:
            notice("warning", str(exc))
            return
        audit.record("weekly_update_sent", who.identity, who.role,
                     {"page": "weekly_update", "account": account_id, "week": week, "sent_id": sent.sent_id})
        notice("success", f"Marked sent at {utc_text(sent.sent_at)}; the text is kept in the history below.")

    show_notice()
    if st.session_state.get("weekly_stale") == (account_id, week):
        stale = st.columns(2)
        stale[0].button("Load the saved draft (drops my edits)", key="weekly_load_saved", on_click=load_saved)
        stale[1].button("Save mine over it", key="weekly_overwrite", on_click=overwrite)

    owed = state.delivery(dataclasses.replace(
        state.current_filters(with_period=False), accounts=(account_id,), start=week_start,
        end=week_start + dt.timedelta(days=6),
    ))
    first_send = owed["sent_at"].dropna()
    if owed.empty:
        status = "No update is owed for this week (the package has no weekly updates, or the week is not over)."
    elif first_send.empty:
        status = f"Not sent yet; on time until {due_text(week_start)}."
    else:
        on_time = "on time" if bool(owed["on_time"].iloc[0]) else "late"
        status = f"Sent {utc_text(first_send.iloc[0].to_pydatetime())} by {md(owed['sent_by'].iloc[0])} ({on_time})."
    saved_note = (
        f"Draft version {draft.version} saved by {md(draft.updated_by)} at {utc_text(draft.updated_at)}."
        if draft else "No draft saved yet: the text is generated from the data."
    )
    st.caption(f"{status} {saved_note}")

    edited = st.text_area(
        "Update (Markdown, edit freely before sending)" if may_write else "Update (read only)",
        height=420, key=text_key, disabled=not may_write,
    )
    title = f"Weekly update {accounts.get(account_id, account_id)} {week}"
    if may_write:
        actions = st.columns(3)
        actions[0].button("Save draft", key="weekly_save", on_click=save, icon=":material/save:", type="primary")
        actions[1].button("Mark sent", key="weekly_mark_sent", on_click=mark_sent, icon=":material/send:",
                       help="Records this exact text as sent, by you, now. Send it by e-mail or chat as usual.")
        actions[2].button("Start again from the data", key="weekly_regenerate", on_click=regenerate,
                       help="Replaces the text with the generated update; nothing is saved until Save draft.")
    cols = st.columns(3)
    cols[0].download_button("Download Markdown", edited.encode(), f"{stem}.md", "text/markdown",
                            key="weekly_md", icon=":material/description:")
    body = state.markdown_html(edited)  # rendered once per text, for the download and the preview
    cols[1].download_button("Download HTML", page(title, body).encode(), f"{stem}.html", "text/html",
                            key="weekly_html", icon=":material/html:")
    with st.expander("Preview", expanded=False):  # as the HTML download renders it: raw HTML stays text
        if edited.strip():
            st.html(body)
        else:  # st.html refuses an empty body: an emptied text area must not break the page
            st.caption("Nothing to preview: the update's text is empty.")
    history(account_id)

if who.role == "subscriber":
    st.stop()
st.divider()
st.subheader("All accounts of an advisor")
advisor = st.selectbox("Advisor", bounds.advisors, index=None, placeholder="Choose an advisor",
                       key="weekly_advisor")
if advisor and advisor_filter and advisor not in advisor_filter:
    st.caption("This advisor is outside the sidebar's advisor filter.")
if advisor:
    ids = tuple(weekly.advisor_accounts(state.connection(), advisor))
    if not ids:
        st.info("This advisor has no accounts.")
    else:
        updates = state.report(weekly_render.weekly_markdown, account_ids=ids, week=week)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for account_id, stem, text in updates:
                archive.writestr(f"{stem}.md", text)
                archive.writestr(f"{stem}.html", markdown_page(text, f"Weekly update {account_id} {week}"))
        st.download_button(
            f"Download {len(updates)} updates (Markdown and HTML, zip)", buffer.getvalue(),
            f"{week}-{file_part(advisor)}.zip", "application/zip", key="weekly_zip",
            icon=":material/folder_zip:",
        )
