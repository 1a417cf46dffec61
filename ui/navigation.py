"""The dashboard's pages, listed once.

The frame builds its navigation from this list, the benchmarks and the tests walk it,
and each page takes its heading from it.

Page scripts live in `views/`, not `pages/`: a folder named `pages/` beside the main
script puts Streamlit in its legacy multipage mode, which `st.navigation` does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage


@dataclass(frozen=True)
class PageSpec:
    name: str  # the script's stem and the page's URL path: views/<name>.py, /<name>
    title: str  # in the navigation bar
    heading: str  # the page's own title
    icon: str
    default: bool = False

    @property
    def script(self) -> str:
        """The page script, relative to the project root (what st.Page and AppTest take)."""
        return f"views/{self.name}.py"


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "Overview", "Overview", ":material/dashboard:", default=True),
    PageSpec("sla_attainment", "SLA attainment", "SLA attainment", ":material/timer:"),
    PageSpec("utilization", "Utilization", "Utilization", ":material/donut_large:"),
    PageSpec("active_tickets", "Active tickets", "Active tickets", ":material/pending_actions:"),
    PageSpec("weekly_update", "Weekly update", "Weekly update", ":material/mail:"),
    PageSpec("escalations", "Escalations", "Escalations", ":material/trending_up:"),
    PageSpec("governance", "Governance", "Governance review", ":material/groups:"),
    PageSpec("data", "Data", "Data", ":material/database:"),
)
BY_NAME = {p.name: p for p in PAGES}


HOME = "home"  # the default page's inner path: its address is the root, and /<its name> an alias of it


def navigation(may_open: Callable[[str], bool] | None = None) -> StreamlitPage:
    """Streamlit's navigation over PAGES, in the top bar: only the pages `may_open` allows (all without it).

    A page left out is not served at all: its address falls back to the default page.
    Streamlit serves the default page at the root only, so an address naming it (/overview,
    as every other page is named) would open it under a "Page not found" dialog: a hidden
    page at that path runs the same script. (Switching to the root instead would drop the
    filters from the address: Streamlit may not rewrite query parameters bound to widgets.)
    """
    specs = [p for p in PAGES if may_open is None or may_open(p.name)]
    pages = [st.Page(p.script, title=p.title, icon=p.icon, default=p.default, url_path=HOME if p.default else None)
             for p in specs]
    for spec in [p for p in specs if p.default]:
        pages.append(st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.name, visibility="hidden"))
    return st.navigation(pages, position="top")


def page_title(script_file: str, help: str | None = None) -> None:
    """The heading of the page whose script is `script_file` (pass `__file__`)."""
    st.title(BY_NAME[Path(script_file).stem].heading, help=help)
