"""The one HTML shell: the document around a body, the Markdown page, and the governance pack built on it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics.reports.governance_pack import PACK_STYLE, governance_pack
from metrics.reports.html import STYLE, markdown_page, page

HEAD = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
)


def test_page_is_the_whole_document():
    """Doctype, charset, viewport, the escaped title, the stylesheet, then the body as given."""
    got = page("A <b> & C", "<h1>x</h1>\n<p>y</p>")
    assert got == (
        HEAD + f"<title>A &lt;b&gt; &amp; C</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        "<h1>x</h1>\n<p>y</p>\n</body>\n</html>\n"
    )


def test_page_appends_the_extra_style_and_ends_the_body_with_one_newline():
    """extra_style follows the shared sheet; a body ending in a newline gets none more; an empty body none."""
    assert f"<style>{STYLE}.x{{color:red}}</style>" in page("t", "<p>a</p>", ".x{color:red}")
    assert page("t", "<p>a</p>\n").endswith("<body>\n<p>a</p>\n</body>\n</html>\n")
    assert page("t", "").endswith("<body>\n</body>\n</html>\n")


def test_page_loads_nothing():
    """The stylesheet has no import or url(): a page opens offline."""
    document = page("t", "<p>a</p>")
    for external in ("<script", "<link", "src=", "http://", "https://", "@import", "url("):
        assert external not in document


def test_markdown_page_renders_markdown_in_the_shell():
    """Headings and tables become HTML; raw HTML stays text; the rest is page()'s."""
    got = markdown_page("# Week 11\n\n| case |\n|---|\n| C1 |\n\n<b>bold</b>", "Update")
    assert got.startswith(HEAD + f"<title>Update</title>\n<style>{STYLE}</style>")
    assert "<h1>Week 11</h1>" in got and "<td>C1</td>" in got
    assert "&lt;b&gt;bold&lt;/b&gt;" in got and "<b>bold</b>" not in got
    assert got.endswith("</table>\n<p>&lt;b&gt;bold&lt;/b&gt;</p>\n</body>\n</html>\n")


def test_governance_pack_is_a_page_with_tiles():
    """The pack is page(title, parts, PACK_STYLE): shared sheet plus the pack's, every text escaped."""
    pack = governance_pack(
        "Review <1>",
        "Q3 & Q4",
        [("Escalations", "12")],
        [go.Figure(go.Bar(x=["a"], y=[1]))],
        [("Tickets", pd.DataFrame({"case_id": ["<C9>"]})), ("None here", pd.DataFrame())],
    )
    assert pack.startswith(HEAD + f"<title>Review &lt;1&gt;</title>\n<style>{STYLE}{PACK_STYLE}</style>")
    assert '<h1>Review &lt;1&gt;</h1>\n<p class="meta">Q3 &amp; Q4</p>' in pack
    assert '<div class="label">Escalations</div><div class="value">12</div>' in pack
    assert '<td class="word">&lt;C9&gt;</td>' in pack
    assert '<h2>None here</h2>\n<p class="rows">no rows</p>\n<p>None.</p>\n</section>\n</div>\n</body>' in pack
    assert pack.count("plotly.js v") == 1


def test_print_keeps_rows_whole_and_headings_with_what_follows():
    """Printed (the weekly update or the pack), a table row is never split and a heading never ends a page."""
    print_rules = page("t", "").split("@media print {", 1)[1]
    assert "tr { break-inside: avoid; }" in print_rules and "h1, h2, h3 { break-after: avoid; }" in print_rules
