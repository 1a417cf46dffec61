"""Hostile data values stay text everywhere they are shown: weekly Markdown and HTML, pages, charts, CSV, packs.

One small dataset whose names, advisors, packages, calendar, subjects, owners, contacts,
escalation levels and ids are markup (`<img src=x onerror=alert(4)>`, a Markdown link and
image, a Streamlit directive) or spreadsheet formulas (`=1+2`, `-2+3`, `+1`, a tab ...).
Expected escapes are worked by hand from the rules in metrics/safe_text.py.

2026-W11 in America/Denver runs 2026-03-09T06:00Z to 2026-03-16T06:00Z.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from metrics.reports.governance_pack import governance_pack
from metrics.reports.html import markdown_page
from metrics.reports.weekly import weekly_update
from metrics.reports.weekly_render import to_html, to_markdown
from metrics.storage.ingest import ingest
from metrics.storage.store import DB_ENV, PROJECT_ROOT
from ui import figures

EVIL_HTML = "<img src=x onerror=alert(4)>"
EVIL_LINK = "[click](https://evil.example)"
EVIL_IMAGE = "![x](https://evil.example/t.png)"
EVIL_DIRECTIVE = ":red[alarm]"
EVIL_ID = '<a href="https://evil.example">C9</a>'  # a case id plotly would draw as a live link
CALC = "@SUM(1+1)*cmd|' /C calc'!A0"
ACCOUNT = "=1+2"  # the hostile account's id

# The same values escaped by hand for Markdown (CommonMark backslashes, `-` only at the start).
MD_HTML = r"\<img src\=x onerror\=alert\(4\)\>"
MD_LINK = r"\[click\]\(https\://evil.example\)"
MD_IMAGE = r"\!\[x\]\(https\://evil.example/t.png\)"
MD_DIRECTIVE = r"\:red\[alarm\]"
H_HTML = "&lt;img src=x onerror=alert(4)&gt;"

HOSTILE = {
    # The package with targets (severity 1: 4 h initial, 32 h follow-up) and one without any,
    # whose obligations are untargeted: explain's sentence then names the package.
    "config.toml": f"""
        [reporting]
        timezone = "America/Denver"

        [calendars."{EVIL_LINK}"]
        timezone = "America/Denver"
        hours = {{ mon = "07:00-18:00", tue = "07:00-18:00", wed = "07:00-18:00", thu = "07:00-18:00", fri = "07:00-18:00" }}

        [packages."{EVIL_HTML}"]
        rank = 6
        initial_response_hours = {{ 1 = 4, 2 = 8, 3 = 12 }}
        follow_up_hours = {{ 1 = 32, 2 = 72, 3 = 72 }}
        authorized_contacts = 1
        service_days = 3
        training_sessions = 4

        [packages."{EVIL_IMAGE}"]
        rank = 7
        authorized_contacts = 1
        service_days = 0
        training_sessions = 0
    """,
    "accounts.csv": f"""
        account_id,name,region,advisor
        {ACCOUNT},{EVIL_HTML},{EVIL_LINK},{EVIL_LINK}
        A2,{EVIL_IMAGE},americas,{EVIL_DIRECTIVE}
    """,
    "subscriptions.csv": f"""
        account_id,package,start_date,end_date
        {ACCOUNT},{EVIL_HTML},2026-01-01,2026-12-31
        A2,{EVIL_IMAGE},2026-01-01,2026-12-31
    """,
    "contacts.csv": f"""
        contact_id,account_id,name,email,authorized
        {ACCOUNT},{ACCOUNT},{EVIL_HTML},x@evil.example,false
    """,
    # +1: never answered, initial missed Tue 19:00Z, open at the week's end.
    # -2+3: answered, closed Thu. CALC: answered Wed 16:00Z, follow-up missed Fri 00:00Z, open.
    # C4-C8: formula and tab subjects, answered and closed within the week (C5 stays open).
    # EVIL_ID: never answered, missed Fri 22:00Z, open. C10: the untargeted account's case.
    "cases.csv": f"""
        case_id,account_id,opened_at,severity,closed_at,subject,owner,contact_id
        +1,{ACCOUNT},2026-03-10T15:00:00Z,1,,{EVIL_LINK},=1+2,{ACCOUNT}
        -2+3,{ACCOUNT},2026-03-10T16:00:00Z,1,2026-03-12T15:00:00Z,{EVIL_IMAGE},{EVIL_HTML},
        {CALC},{ACCOUNT},2026-03-11T15:00:00Z,1,,{EVIL_DIRECTIVE},{CALC},
        C4,{ACCOUNT},2026-03-11T16:00:00Z,1,2026-03-11T20:00:00Z,=1+2,-2+3,
        C5,{ACCOUNT},2026-03-12T16:00:00Z,1,,{CALC},+1,
        C6,{ACCOUNT},2026-03-12T17:00:00Z,1,2026-03-12T20:00:00Z,-2+3,{EVIL_DIRECTIVE},
        C7,{ACCOUNT},2026-03-13T16:00:00Z,1,2026-03-13T20:00:00Z,+1,{EVIL_LINK},
        C8,{ACCOUNT},2026-03-13T17:00:00Z,1,2026-03-13T20:00:00Z,"\tx",{EVIL_IMAGE},
        "{EVIL_ID.replace('"', '""')}",{ACCOUNT},2026-03-13T18:00:00Z,1,,{EVIL_HTML},{EVIL_HTML},
        C10,A2,2026-03-10T15:00:00Z,1,,{EVIL_HTML},{EVIL_DIRECTIVE},
    """,
    "responses.csv": f"""
        case_id,at,author_type,public
        -2+3,2026-03-10T17:00:00Z,agent,true
        {CALC},2026-03-11T16:00:00Z,agent,true
        C4,2026-03-11T17:00:00Z,agent,true
        C5,2026-03-12T17:00:00Z,agent,true
        C6,2026-03-12T18:00:00Z,agent,true
        C7,2026-03-13T17:00:00Z,agent,true
        C8,2026-03-13T18:00:00Z,agent,true
    """,
    "case_changes.csv": f"""
        case_id,at,field,value
        +1,2026-03-11T15:00:00Z,escalation,{EVIL_HTML}
        {CALC},2026-03-12T15:00:00Z,escalation,{EVIL_LINK}
    """,
}

# A live image or link in HTML (but the one the advisor writes to example.com), or in Markdown
# a link or image to the attacker (an unescaped `](`) or a Streamlit directive.
LIVE_HTML = re.compile(r"<img\b|<a\b(?![^>]*href=\"https://example\.com\")", re.I)
LIVE_MARKDOWN = re.compile(r"(?<!\\)\]\((https?://evil|javascript:)|(?<!\\):red\[")
SCRIPT = re.compile(r"<script.*?</script>", re.S)
# plotly writes a figure's JSON with `<` as \u003c: a tag a label would carry into the chart.
FIGURE_TAG = re.compile(r"\\u003c(a|img)\b", re.I)


def figure_scripts(page: str) -> list[str]:
    """The scripts that draw the figures (plotly.js itself aside)."""
    return [s for s in SCRIPT.findall(page) if "Plotly.newPlot" in s and "plotly.js v" not in s]


@pytest.fixture
def hostile_db(make_dataset: Callable[..., Path], tmp_path: Path) -> Path:
    folder = make_dataset(HOSTILE)
    db = tmp_path / "hostile.duckdb"
    report = ingest(folder, db, strict=True)
    assert report.rows_stored["cases"] == 10
    return db


@pytest.fixture
def hostile_app(hostile_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the dashboard at the hostile store."""
    monkeypatch.setenv(DB_ENV, str(hostile_db))
    yield hostile_db


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], bytes]:
    """The bytes behind a download button of the last AppTest run, deferred (callable) ones included.

    AppTest keeps downloads in a media file manager of its own for the run; recording it is
    the only way to read a file the user would get.
    """
    managers: list[MediaFileManager] = []

    class RecordingManager(MediaFileManager):
        def __init__(self, storage: Any) -> None:
            super().__init__(storage)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", RecordingManager)

    def fetch(button: Any) -> bytes:
        manager = managers[-1]
        proto = button.proto
        url = manager.execute_deferred(proto.deferred_file_id) if proto.HasField("deferred_file_id") else proto.url
        return manager._storage.get_file(url.rsplit("/", 1)[-1]).content

    return fetch


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard.py"), default_timeout=120)
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    return at


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


# ----------------------------------------------------------------------------- weekly update


def test_weekly_markdown_escapes_every_value(hostile_db: Path):
    """Names, advisor, package, ids, subjects, owners and levels appear in their escaped forms only."""
    with duckdb.connect(str(hostile_db), read_only=True) as con:
        text = to_markdown(weekly_update(con, ACCOUNT, "2026-W11"))
    assert text.startswith(rf"# Weekly update: {MD_HTML} (\=1\+2), 2026-W11" + "\n")
    assert rf"package {MD_HTML} · advisor {MD_LINK}" in text
    assert rf"Package {MD_HTML}, term 2026-01-01 to 2026-12-31" in text  # the utilization paragraph
    for escaped in (MD_LINK, MD_IMAGE, MD_DIRECTIVE, r"\=1\+2", r"\@SUM\(1\+1\)\*cmd\|\' /C calc\'\!A0", r"\-2\+3"):
        assert f"| {escaped} |" in text  # a subject, an owner or an id, each one table cell
    assert r"| \+1 | initial response | 1 |" in text  # the miss of case +1
    assert r"| \<a href\=\"https\://evil.example\"\>C9\</a\> |" in text
    # Any renderer, even one passing raw HTML through (markdown-it's commonmark preset), shows text.
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert not LIVE_HTML.search(rendered)
    assert not LIVE_MARKDOWN.search(text)


def test_weekly_html_of_the_cli_holds_no_live_markup(hostile_db: Path, tmp_path: Path):
    """`weekly --format html` escapes the values (no <img>, no link to evil.example), markdown quotes them."""
    out = tmp_path / "week.html"
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "weekly", str(tmp_path), "--db", str(hostile_db), "--account", ACCOUNT,
         "--week", "2026-W11", "--format", "html", "--out", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert not LIVE_HTML.search(page)
    assert f"<h1>Weekly update: {H_HTML} (=1+2), 2026-W11</h1>" in page
    assert f"<p>Package {H_HTML}, term 2026-01-01 to 2026-12-31, as of the week&#x27;s end.</p>" in page
    assert "<td>[click](https://evil.example)</td>" in page  # a subject: literal text, no link


def test_weekly_html_and_markdown_agree_on_the_values(hostile_db: Path):
    """to_html writes each value once, escaped for HTML, where to_markdown writes it escaped for Markdown."""
    with duckdb.connect(str(hostile_db), read_only=True) as con:
        update = weekly_update(con, ACCOUNT, "2026-W11")
    page = to_html(update)
    assert not LIVE_HTML.search(page)
    assert page.count(f"<td>{H_HTML}</td>") == to_markdown(update).count(f"| {MD_HTML} |")


def test_the_apps_weekly_downloads_hold_no_live_markup(hostile_app: Path, downloads: Callable[[Any], bytes]):
    """The page's Markdown, HTML and advisor zip carry the escaped values; the advisor's own raw HTML stays text."""
    at = open_page("weekly_update")
    at.selectbox(key="weekly_account").select(ACCOUNT)
    at.selectbox(key="weekly_week").select("2026-W11").run()
    assert not at.exception
    text = at.text_area[0].value
    assert MD_HTML in text and MD_LINK in text
    assert not any(LIVE_MARKDOWN.search(m.value) for m in at.markdown)  # the preview
    assert downloads(at.download_button(key="weekly_md")).decode() == text
    page = downloads(at.download_button(key="weekly_html")).decode()
    assert not LIVE_HTML.search(page)
    assert f"Package {H_HTML}, term 2026-01-01 to 2026-12-31" in page

    # The advisor edits: raw HTML and a javascript: link are typed in, a plain link of their own too.
    at.text_area[0].set_value(text + f"\n\n{EVIL_HTML}\n\n[js](javascript:alert(1)) [ours](https://example.com)\n")
    at.run()
    page = downloads(at.download_button(key="weekly_html")).decode()
    assert not LIVE_HTML.search(page)
    assert f"<p>{H_HTML}</p>" in page
    assert '<a href="https://example.com">ours</a>' in page  # the advisor's own link stays a link

    at.selectbox(key="weekly_advisor").select(EVIL_LINK).run()
    assert not at.exception
    zipped = downloads(at.download_button(key="weekly_zip"))
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        assert sorted(archive.namelist()) == ["2026-W11-_1_2.html", "2026-W11-_1_2.md"]
        assert not LIVE_HTML.search(archive.read("2026-W11-_1_2.html").decode())
        assert MD_HTML in archive.read("2026-W11-_1_2.md").decode()


# ----------------------------------------------------------------------------- pages


def markdown_bodies(at: AppTest) -> list[str]:
    """Every text the page hands to Streamlit's Markdown: bodies, captions, alerts, headings, labels."""
    texts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error") for e in at.get(kind)]
    texts += [e.value for kind in ("title", "header", "subheader") for e in at.get(kind)]
    texts += [e.label for e in at.expander] + [m.label for m in at.metric]
    return texts


def plotly_strings(at: AppTest) -> list[str]:
    """Every string inside the page's plotly figures (plotly.js renders some HTML in them)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for chart in at.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return found


@pytest.mark.parametrize(
    ("page", "expected_label"),
    [
        ("overview", H_HTML),  # the package on the matrix's axis
        ("sla_attainment", H_HTML),  # the account on the met/breached bars
        ("active_tickets", '&lt;a href="https://evil.example"&gt;C9&lt;/a&gt;'),  # a case id on the clocks
        ("utilization", H_HTML),
        ("escalations", None),
        ("governance", None),
        ("weekly_update", None),
    ],
)
def test_pages_render_values_as_text(hostile_app: Path, page: str, expected_label: str | None):
    """No Markdown a page shows holds a live link, image or directive; plotly text carries escaped tags."""
    at = open_page(page)
    for body in markdown_bodies(at):
        assert not LIVE_MARKDOWN.search(body), body
    strings = plotly_strings(at)
    assert not any(LIVE_HTML.search(s) for s in strings)
    if expected_label:
        assert expected_label in strings


def test_regions_on_the_compare_chart_are_escaped(hostile_app: Path):
    """Comparing by region draws the calendar `[click](https://evil.example)` as text (no tags in it)."""
    at = open_page("sla_attainment")
    at.segmented_control(key="sla_by").set_value("region").run()
    assert not at.exception
    assert EVIL_LINK in plotly_strings(at)  # no tag to escape: plotly draws Markdown as is


def test_the_explain_panel_escapes_the_sentence_and_the_id(hostile_app: Path):
    """Explaining the untargeted case shows explain's sentence with the package escaped, the id as code."""

    def script() -> None:
        from ui import components

        components.explain_panel("C10")
        components.explain_panel('<a href="https://evil.example">C9</a>')

    at = AppTest.from_function(script, default_timeout=120).run()
    assert not at.exception, at.exception[0].value if at.exception else ""
    bodies = markdown_bodies(at)
    assert "#### Case ` C10 `: how each clock ran" in bodies
    assert rf"Untargeted\: package {MD_IMAGE} sets no initial target at severity 1." in bodies
    assert f"#### Case ` {EVIL_ID} `: how each clock ran" in bodies  # a code span: shown, not linked
    for body in bodies:
        assert not LIVE_MARKDOWN.search(body), body


# ----------------------------------------------------------------------------- CSV and HTML files


def test_csv_downloads_neutralise_formulas(hostile_app: Path, downloads: Callable[[Any], bytes]):
    """The active tickets' CSV: every formula-like id, owner and name cell begins with an apostrophe."""
    at = open_page("active_tickets")
    rows = csv_cells(downloads(at.download_button(key="active_table_csv")))
    header, body = rows[0], rows[1:]
    ids = [row[header.index("case_id")] for row in body]
    owners = [row[header.index("owner")] for row in body]
    assert sorted(ids) == sorted(["'+1", f"'{CALC}", "C5", EVIL_ID])  # C10 is untargeted: not shown by default
    assert sorted(owners) == sorted(["'=1+2", f"'{CALC}", "'+1", EVIL_HTML])
    for row in body:
        for cell in row:
            if re.fullmatch(r"-?[0-9.]+", cell):
                continue  # a number (hours left, negative once breached) is no formula
            assert not cell.lstrip().startswith(("=", "+", "-", "@")) and not cell.startswith(("\t", "\r"))


def test_governance_pack_holds_no_live_markup(hostile_app: Path, downloads: Callable[[Any], bytes]):
    """The review's HTML file, built on click, escapes tables and chart labels: nothing outside plotly.js is live."""
    at = open_page("governance")
    pack = downloads(at.download_button(key="gov_pack")).decode()
    outside_scripts = SCRIPT.sub("", pack)
    assert not LIVE_HTML.search(outside_scripts)
    assert f"<td>{H_HTML}</td>" in outside_scripts  # the account's name in a table
    assert EVIL_HTML not in pack
    assert not any(FIGURE_TAG.search(s) for s in figure_scripts(pack))


def test_governance_pack_escapes_what_it_is_given():
    """Titles, headline tiles, table headers and cells and figure labels given as markup come out as text."""
    frame = pd.DataFrame({EVIL_HTML: [EVIL_HTML], "advisor": [EVIL_LINK]})
    status = pd.DataFrame({"account_name": [EVIL_ID], "met": [1], "breached": [1]})
    pack = governance_pack(
        EVIL_HTML,
        EVIL_ID,
        [(EVIL_HTML, EVIL_ID)],
        [figures.build_status_figure(status, "account_name")],
        [(EVIL_HTML, frame)],
    )
    outside_scripts = SCRIPT.sub("", pack)
    assert not LIVE_HTML.search(outside_scripts)
    assert f"<h2>{H_HTML}</h2>" in outside_scripts and f"<th>{H_HTML}</th>" in outside_scripts
    assert EVIL_HTML not in pack and EVIL_ID not in pack
    [drawing] = figure_scripts(pack)
    assert not FIGURE_TAG.search(drawing)  # the bar's label is `&lt;a href=...`: plotly draws it as text
    assert "&lt;a href=" in drawing


def test_markdown_page_never_passes_raw_html():
    """An edited update with raw HTML and a javascript: link renders both as text; Markdown links still work."""
    page = markdown_page(
        f"# Week\n\n{EVIL_HTML}\n\n<script>alert(1)</script>\n\n[js](javascript:alert(1)) [ok](https://example.com)",
        EVIL_HTML,
    )
    assert not LIVE_HTML.search(page)
    assert "<script>alert" not in page
    assert f"<title>{H_HTML}</title>" in page and f"<p>{H_HTML}</p>" in page
    assert '<a href="https://example.com">ok</a>' in page
