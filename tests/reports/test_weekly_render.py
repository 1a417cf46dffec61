"""The weekly update as text: Markdown and HTML of the hand-worked fixture, JSON and file names, the page's report.

The fixture and its expected numbers are test_weekly.py's (FIXTURE, EXPECTED); 2026-W11 in
America/Denver runs 2026-03-09T06:00Z to 2026-03-16T06:00Z.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import duckdb
import pytest

from metrics.reports.html import STYLE
from metrics.reports.weekly import weekly_update, weekly_updates
from metrics.reports.weekly_render import (
    FORMATS,
    file_name,
    render,
    to_html,
    to_markdown,
    weekly_markdown,
)
from tests.reports.test_weekly import EXPECTED, write_fixture


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    connection = duckdb.connect(str(write_fixture(tmp_path_factory.mktemp("weekly_render"))), read_only=True)
    yield connection
    connection.close()


def test_markdown_lists_cases_misses_escalations_active_and_the_change(con):
    """The Markdown names the week, the misses with reasons, the recorded escalation, the queue and the deltas."""
    text = to_markdown(weekly_update(con, "A1", "2026-W11"))
    assert text.startswith("# Weekly update: Acme (A1), 2026-W11\n")
    assert "Mon 2026-03-09 to Sun 2026-03-15 (America/Denver)" in text
    # opened 2 this week against 3 in W10; escalations 3 against 2
    assert "| Cases opened | 2 | 3 | −1 |" in text
    assert "| Escalations (policy + recorded) | 3 | 2 | +1 |" in text
    # attainment by verdict week: W11 met 3 (C102 initial, C102 #1, C105 #1) of 5 (missed C101
    # and C103 initials) = 60 %; W10 met 1 (C104) of 2 (missed C105 initial) = 50 %
    assert "| SLA attainment (met of met + missed) | 60 % | 50 % | +10 pts |" in text
    # W10 ended with C101's initial and C105's follow-up #1 running; W11 with none
    assert "| Still running at week end | 0 | 2 | −2 |" in text
    assert "| C101 | initial response | 1 | Mon 2026-03-09 03:30 MDT | Breached at 2026-03-09 09:30:00Z" in text
    assert "| C103 | Fri 2026-03-13 20:00 MDT | 1 | 1 |" in text  # recorded Sat 02:00Z = Fri 20:00 MDT
    assert "Login \\<b\\>fails\\</b\\> & then \\| pipes" in text  # a subject stays text and keeps the table whole
    active = text.split("## Active tickets at week end (3)")[1].split("##")[0]
    assert all(case in active for case in ("C102", "C103", "C111"))
    assert "C101" not in active


def test_html_is_self_contained_and_escaped(con):
    """The HTML carries its CSS inline, loads nothing and escapes case text."""
    page = to_html(weekly_update(con, "A1", "2026-W11"))
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    for external in ("<script", "<link", "src=", "http://", "https://", "@import", "url("):
        assert external not in page
    assert "Login &lt;b&gt;fails&lt;/b&gt; &amp; then | pipes" in page
    assert "<b>fails</b>" not in page


def test_utilization_to_date_is_shown(con):
    """The current term's package and entitlement lines appear (Gold: 3 service days, 4 sessions)."""
    update = weekly_update(con, "A1", "2026-W11")
    text = to_markdown(update)
    assert "Package Gold, term 2026-01-01 to 2026-12-31" in text
    assert "| Service days | 0 | 3 |" in text
    assert "| Private training sessions | 0 | 4 |" in text


def test_html_uses_the_shared_shell(con):
    """The page is html.page's: the shared stylesheet, the title as plain text, the sections as the body."""
    page = to_html(weekly_update(con, "A1", "2026-W11"))
    assert f"<style>{STYLE}</style>" in page
    assert "<title>Weekly update: Acme (A1), 2026-W11</title>" in page
    assert page.endswith("</table>\n</body>\n</html>\n")


def test_render_writes_each_format(con):
    """json is the section-7 object (two-space indent, a final newline); md and html are to_markdown and to_html."""
    update = weekly_update(con, "A2", "2026-W11")
    assert json.loads(render(update, "json")) == EXPECTED[("A2", "2026-W11")]
    assert render(update, "json").endswith("}\n")
    assert render(update, "md") == to_markdown(update)
    assert render(update, "html") == to_html(update)
    assert [file_name(update, fmt) for fmt in FORMATS] == ["2026-W11-A2.json", "2026-W11-A2.md", "2026-W11-A2.html"]
    with pytest.raises(ValueError, match="format must be one of json, md, html"):
        render(update, "pdf")


def test_weekly_markdown_is_the_pages_report(con):
    """(account_id, file stem, Markdown) per account in the order asked, the Markdown to_markdown's."""
    got = weekly_markdown(con, ("A3", "A1"), "2026-W11")
    updates = weekly_updates(con, ["A3", "A1"], "2026-W11")
    assert got == [(u.account_id, f"2026-W11-{u.account_id}", to_markdown(u)) for u in updates]
    assert weekly_markdown.__module__.startswith("metrics.reports.")  # what ui.state.report accepts


def test_file_name_keeps_an_account_id_inside_the_folder():
    """Characters a path would read (/, spaces) become '_': the name stays one file in the folder."""
    update = SimpleNamespace(account_id="../x y/z", week="2026-W11")
    assert file_name(update, "md") == "2026-W11-.._x_y_z.md"  # type: ignore[arg-type]


def test_summary_says_what_is_still_running_and_which_misses_are_on_older_cases(con):
    """W10 ends with 2 targets running; in W11 one of the 2 misses (C101) is on a case opened before the week."""
    w10 = to_markdown(weekly_update(con, "A1", "2026-W10"))
    # W10 as of 03-09T06:00Z: C101's initial (due 09:30Z) and C105's follow-up #1 (due 23:00Z) run on
    assert "2 obligations are still running at week end; their verdict comes later." in w10
    # W10's one miss is C105's initial; C105 opened Sat 03-07, inside W10 (from 03-02T07:00Z)
    assert "0 of the 1 breach this week are on cases opened before the week." in w10
    w11 = to_markdown(weekly_update(con, "A1", "2026-W11"))
    # W11 (from 03-09T06:00Z): misses C101 (opened 03-09T05:30Z, still W10) and C103 (opened 03-13)
    assert "1 of the 2 breaches this week is on cases opened before the week." in w11
    assert "still running at week end; their verdict" not in w11  # nothing runs at W11's end
    # C102 was closed Thursday and reopened Friday, but opened in W11 itself: opened, not reopened
    assert "| Cases reopened | 0 | 0 | 0 |" in w11
    assert "2 opened, 2 closed (and still closed at the week's end), 0 reopened" in w11
    html = to_html(weekly_update(con, "A1", "2026-W11"))
    assert "1 of the 2 breaches this week is on cases opened before the week." in html


def test_the_json_keeps_exactly_the_section_7_keys(con):
    """reopened and the misses on older cases are text only: the JSON object is section 7's keys."""
    from metrics.reports.weekly import JSON_KEYS

    assert tuple(json.loads(render(weekly_update(con, "A1", "2026-W11"), "json"))) == JSON_KEYS


def test_misses_say_which_severity_they_are_listed_under(con):
    """Under the default at_breach the misses name the severity in force at the deadline; under final the last."""
    import dataclasses

    from metrics.storage.store import stored_config

    update = weekly_update(con, "A1", "2026-W11")
    assert update.breach_severity == "at_breach"
    assert "Severity: the one in force when the deadline passed." in to_markdown(update)
    final = weekly_update(con, "A1", "2026-W11", dataclasses.replace(stored_config(con), breach_severity="final"))
    assert "Severity: the last one before the target ended (or at the week's end)." in to_markdown(final)
