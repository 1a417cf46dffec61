"""Weekly update: one account and ISO week, generated, editable, downloadable; or an advisor's whole book."""

from __future__ import annotations

import io
import zipfile
from zoneinfo import ZoneInfo

import streamlit as st

from metrics.reports import weekly, weekly_render
from metrics.reports.html import markdown_page
from metrics.safe_text import file_part
from ui import components as ui
from ui import state
from ui.navigation import page_title

bounds = state.bounds()
snap = state.snapshot()
page_title(__file__)

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

if account:
    [(account_id, stem, text)] = state.report(weekly_render.weekly_markdown, account_ids=(account,), week=week)
    edited = st.text_area("Update (Markdown, edit freely before sending)", text, height=420,
                          key=f"weekly_text_{account_id}_{week}")
    title = f"Weekly update {accounts.get(account_id, account_id)} {week}"
    cols = st.columns(3)
    cols[0].download_button("Download Markdown", edited.encode(), f"{stem}.md", "text/markdown",
                            key="weekly_md", icon=":material/description:")
    cols[1].download_button("Download HTML", markdown_page(edited, title).encode(), f"{stem}.html", "text/html",
                            key="weekly_html", icon=":material/html:")
    with st.expander("Preview", expanded=False):
        st.markdown(edited)

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
