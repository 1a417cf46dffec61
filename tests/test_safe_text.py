"""Data values made safe: Markdown that renders as the literal value, HTML and plotly text, spreadsheet cells.

Expected escapes are worked by hand from the rules in metrics/safe_text.py: CommonMark's
backslash escapes before markup punctuation, `-` only at the start, `&` only before an
entity's name; OWASP's apostrophe before `=`, `+`, `-`, `@`, tab and carriage return.
"""

from __future__ import annotations

import csv
import html
import io
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from metrics.safe_text import file_part, h, md, md_code, plot_text, spreadsheet_cell, spreadsheet_csv, terminal

SAFE = MarkdownIt("commonmark", {"html": False})
RAW_HTML_ON = MarkdownIt("commonmark")  # html on: md() alone must keep tags out
TABLES = MarkdownIt("commonmark", {"html": False}).enable("table")

# Text made mostly of what Markdown, HTML and spreadsheets treat specially, so that the
# properties below meet brackets, entities, backslashes and line starts often.
MARKUP = st.text(alphabet=st.sampled_from(list("\\`*_{}[]()#+-.!|<>~=\"':$^%@&;/ \t\n\r\x00aZ19hps")), max_size=40)
TEXT = st.one_of(MARKUP, st.text(max_size=40))


def collapsed(text: str) -> str:
    """What a value reads as on one line: whitespace runs one space, NUL U+FFFD (CommonMark's rule)."""
    return " ".join(text.replace("\0", "\ufffd").split())


def markdown_it_text(text: str) -> str:
    """A paragraph as markdown-it writes it: & < > " escaped."""
    return html.escape(text, quote=False).replace('"', "&quot;")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<img src=x onerror=alert(4)>", r"\<img src\=x onerror\=alert\(4\)\>"),
        ("[click](https://evil.example)", r"\[click\]\(https\://evil.example\)"),
        ("![x](https://evil.example/t.png)", r"\!\[x\]\(https\://evil.example/t.png\)"),
        (":red[alarm]", r"\:red\[alarm\]"),
        ("=1+2", r"\=1\+2"),
        ("- item", r"\- item"),  # a list item at a line's start
        ("ACC-0002", "ACC-0002"),  # a dash inside a word stays as it is
        ("1. first", r"1\. first"),  # an ordered list item at a line's start
        ("12) twelfth", r"12\) twelfth"),
        ("Acme Inc. (v2.1)", r"Acme Inc. \(v2.1\)"),  # a dot elsewhere is plain text
        ("AT&T &amp; co", r"AT&T \&amp; co"),  # only an entity's `&` needs its backslash
        ("a_b *c* `d` $x$ ~e~ |f|", r"a\_b \*c\* \`d\` \$x\$ \~e\~ \|f\|"),
        ("one\n# two\r\n\tthree  ", r"one \# two three"),
        ("back\\slash", r"back\\slash"),
        (None, ""),
        (42, "42"),
    ],
)
def test_md_escapes_by_hand(value, expected):
    """Each markup character of a value gets CommonMark's backslash; lines are flattened."""
    assert md(value) == expected


@pytest.mark.parametrize(
    ("value", "paragraph"),
    [
        ("[click](https://evil.example)", "[click](https://evil.example)"),
        ("![x](https://evil.example/t.png)", "![x](https://evil.example/t.png)"),
        ("<img src=x onerror=alert(4)>", "&lt;img src=x onerror=alert(4)&gt;"),
        ("<https://evil.example>", "&lt;https://evil.example&gt;"),
        ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),
        ("# title", "# title"),
        ("---", "---"),
    ],
)
def test_md_renders_as_the_literal_value(value, paragraph):
    """Links, images, autolinks, raw HTML, entities, headings and rules come out as one text paragraph."""
    for renderer in (SAFE, RAW_HTML_ON):
        assert renderer.render(md(value)) == f"<p>{paragraph}</p>\n"


@given(TEXT)
def test_md_round_trips_through_markdown_it(text):
    """For any text, the rendered md() is one paragraph of exactly that text (collapsed), with no link or image."""
    expected = collapsed(text)
    for renderer in (SAFE, RAW_HTML_ON):
        out = renderer.render(md(text))
        assert "<a" not in out and "<img" not in out
        assert out == (f"<p>{markdown_it_text(expected)}</p>\n" if expected else "")


@given(TEXT, TEXT)
def test_md_keeps_a_table_row_whole(left, right):
    """Two md() values in a GitHub table row stay two cells holding exactly those texts."""
    out = TABLES.render(f"| {md(left)} | {md(right)} |\n|---|---|\n")
    cells = re.findall(r"<th>(.*?)</th>", out, re.S)
    assert [html.unescape(c) for c in cells] == [collapsed(left), collapsed(right)]
    assert "<a" not in out and "<img" not in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [("C-1", "` C-1 `"), ("a`b", "`` a`b ``"), ("[x](https://evil.example)", "` [x](https://evil.example) `")],
)
def test_md_code_fences_outlast_the_value(value, expected):
    """The code span's fence is longer than any backtick run inside, so the id stays one code span."""
    assert md_code(value) == expected
    assert SAFE.render(md_code(value)) == f"<p><code>{html.escape(value, quote=False)}</code></p>\n"


def test_h_escapes_text_and_attributes():
    """Tags, ampersands and both quotes are escaped (safe between tags and inside attribute values)."""
    assert h("<a href=\"https://evil.example\" title='t'>&</a>") == (
        "&lt;a href=&quot;https://evil.example&quot; title=&#x27;t&#x27;&gt;&amp;&lt;/a&gt;"
    )
    assert h(None) == ""


def test_plot_text_escapes_tags_but_not_quotes():
    """plotly.js decodes &lt; &gt; &amp; but not &quot;: quotes stay literal, tags become text."""
    assert plot_text('<a href="https://evil.example">O\'Neil & co</a>') == (
        '&lt;a href="https://evil.example"&gt;O\'Neil &amp; co&lt;/a&gt;'
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("+1", "'+1"),
        ("\tx", "'\tx"),
        ("\r=1", "'\r=1"),
        ("  =1+2", "'  =1+2"),  # spreadsheets that trim on import would see the formula
        ("\uff1d1+2", "'\uff1d1+2"),  # full-width equals sign
        ("Acme = good", "Acme = good"),
        ("", ""),
        (-2, -2),  # a number is a number, not a formula
        (None, None),
    ],
)
def test_spreadsheet_cell(value, expected):
    """Formula-like text gets one leading apostrophe; other text and non-text values are unchanged."""
    assert spreadsheet_cell(value) == expected


def test_spreadsheet_csv_by_hand():
    """Text cells and headers are neutralised, numbers and empty cells are not, categories too."""
    frame = pd.DataFrame(
        {
            "subject": ["=1+2", "fine", None],
            "hours": [-2.5, 1.0, 3.0],
            "-x": ["@SUM(1+1)*cmd|' /C calc'!A0", "+1", "\tx"],
            "level": pd.Categorical(["-2+3", "ok", "-2+3"]),
        }
    )
    expected = (
        "subject,hours,'-x,level\r\n"
        "'=1+2,-2.5,'@SUM(1+1)*cmd|' /C calc'!A0,'-2+3\r\n"
        "fine,1.0,'+1,ok\r\n"
        ",3.0,'\tx,'-2+3\r\n"
    )
    assert spreadsheet_csv(frame).decode("utf-8") == expected


def test_spreadsheet_csv_with_repeated_headers():
    """Two columns of one name are each neutralised (cells are reached by position)."""
    frame = pd.DataFrame([["=a", "=b"]], columns=["name", "name"])
    assert spreadsheet_csv(frame).decode("utf-8") == "name,name\r\n'=a,'=b\r\n"


def test_spreadsheet_csv_quotes_line_breaks_inside_a_cell():
    """A carriage return or newline inside a cell is quoted, so the row stays one row."""
    frame = pd.DataFrame({"subject": ["a\rb", "c\nd"]})
    assert spreadsheet_csv(frame).decode("utf-8") == 'subject\r\n"a\rb"\r\n"c\nd"\r\n'


@given(st.lists(TEXT, min_size=1, max_size=5))
def test_spreadsheet_csv_cells_read_back_safe(values):
    """Read back, every cell is the value or the value behind one apostrophe, and none starts a formula."""
    frame = pd.DataFrame({"value": values})
    rows = list(csv.reader(io.StringIO(spreadsheet_csv(frame).decode("utf-8"), newline="")))
    assert rows[0] == ["value"]
    for value, (cell,) in zip(values, rows[1:], strict=True):
        assert cell in (value, "'" + value)
        assert not cell.lstrip().startswith(("=", "+", "-", "@")) and not cell.startswith(("\t", "\r"))


def test_file_part():
    """Only letters, digits, dot, dash and underscore survive in a file name."""
    assert file_part("Ann O'Neil/../x") == "Ann_O_Neil_.._x"
    assert file_part(":red[alarm]") == "_red_alarm_"
    assert file_part("") == "_"


def test_terminal_text_cannot_drive_the_terminal():
    """An ESC sequence (colour, cursor moves, a window title) or a C1 control prints as U+FFFD, on one line."""
    assert terminal("got '\x1b[31mred\x1b[0m'") == "got '\ufffd[31mred\ufffd[0m'"
    assert terminal("a\nb\x9bc\x07") == "a b\ufffdc\ufffd"
    assert terminal("ACC-0002 Müller") == "ACC-0002 Müller"
