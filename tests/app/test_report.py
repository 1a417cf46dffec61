"""The app's downloads as self-contained HTML: nothing fetched from outside, content carried through.

The edited weekly update (`markdown_page`) and the governance pack with the dashboard's own
figures; the shell they share is tested in tests/reports/test_html.py.
"""

from __future__ import annotations

import re

import pandas as pd

from metrics.reports.governance_pack import governance_pack
from metrics.reports.html import markdown_page
from ui import figures

EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']https?://""")
SCRIPT = re.compile(r"<script.*?</script>", re.S)


def fetches_outside(page: str) -> bool:
    """Whether the markup (scripts' own text aside) loads anything from another host."""
    return bool(EXTERNAL.search(SCRIPT.sub("", page))) or bool(re.search(r"<script[^>]+src=", page))


def test_edited_markdown_becomes_a_standalone_page():
    """The advisor's edits (a heading, a table) are rendered; the page needs no external asset."""
    page = markdown_page("# Week 11\n\n| case | why |\n|---|---|\n| C1 | late |\n\nEdited by hand.", "Update")
    assert "<h1>Week 11</h1>" in page
    assert "<td>C1</td>" in page and "<p>Edited by hand.</p>" in page
    assert "<style>" in page
    assert not fetches_outside(page)


def test_governance_pack_inlines_plotly_once_and_lists_tables():
    """Two charts share one inlined plotly.js; tables and headline numbers are in the file."""
    trend = pd.DataFrame({"period": ["2026-09"], "kind": ["initial"], "attainment": [0.9], "met": [9], "breached": [1]})
    escalations = pd.DataFrame({"period": ["2026-09"], "policy": [1], "recorded": [2], "total": [3]})
    pack = governance_pack(
        "Governance review", "Q3", [("SLA attainment", "90.0 %")],
        [figures.build_attainment_trend_figure(trend), figures.build_escalation_trend_figure(escalations)],
        [("Development tickets", pd.DataFrame({"case_id": ["C9"]})), ("Suspended accounts", pd.DataFrame())],
    )
    assert pack.count("Plotly.newPlot") == 2
    assert pack.count("plotly.js v") == 1  # the library's banner: inlined exactly once
    assert '<td class="word">C9</td>' in pack and "None." in pack and "90.0 %" in pack
    assert not fetches_outside(pack)
