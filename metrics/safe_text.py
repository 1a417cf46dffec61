"""Data values made safe for the places they are shown: Markdown, HTML, plotly text and spreadsheets.

Every account name, advisor, package, subject or id comes from a file someone else
wrote, so it is treated as hostile wherever it is rendered: escaped in Markdown (no
links, images, directives or raw HTML can be smuggled in), escaped in HTML and in
plotly's text (plotly.js turns `<a href>`, `<b>`, `<br>` into SVG), and neutralised in
CSV files meant for spreadsheets (OWASP's advice on CSV injection: a cell that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``).
Machine exports (``export obligations``) keep values verbatim.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

# CommonMark's backslash-escapable ASCII punctuation that starts markup anywhere in a line
# (links, images, emphasis, code, raw HTML, tables, Streamlit's `:red[...]` directives and `$`
# maths): escaping it keeps a value literal. `-` and `.` only start markup at the beginning of
# a line (a list item, a rule, `1. item`), `&` only before an entity's name, so `ACC-0002` and
# `Acme Inc.` stay as they are.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~=\"':$^%@])")
_MD_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]*;)")  # `&amp;` -> `\&amp;`
_MD_LINE_START = re.compile(r"^(-|\d{1,9}\.)")  # `- a` -> `\- a`, `1. a` -> `1\. a` (`1)` meets _MD_SPECIAL)
# OWASP's triggers, their full-width forms (some spreadsheets read `＝1+2` as a formula), tab and CR.
_FORMULA_START = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CONTROL_START = ("\t", "\r")


def _plain(value: Any) -> str:
    """A value as one line of text: whitespace runs (newlines included) become one space, NUL U+FFFD."""
    text = "" if value is None else str(value)
    return " ".join(text.replace("\0", "\ufffd").split())  # CommonMark replaces NUL the same way


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal(value: Any) -> str:
    """A value as one line for a terminal: control characters (ESC sequences included) become U+FFFD."""
    return _CONTROL.sub("\ufffd", _plain(value))


def md(value: Any) -> str:
    r"""A data value as literal Markdown text, on one line: `[x](u)` -> `\[x\]\(u\)`.

    A newline could start a heading, a list or a table row, so whitespace runs become one
    space; `- a` and `1. a` at the start of a line stay text (`\- a`, `1\. a`), and `a-b` and
    `Inc.` keep their dash and dot.
    """
    text = _MD_SPECIAL.sub(r"\\\1", _plain(value))
    text = _MD_ENTITY.sub(r"\\&", text)
    return _MD_LINE_START.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)


def md_code(value: Any) -> str:
    """A data value inside an inline code span (ids): backticks cannot close it early."""
    text = _plain(value)
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def h(value: Any) -> str:
    """A data value as HTML text (quotes included, so it is safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def plot_text(value: Any) -> str:
    """A data value as plotly text (tick labels, hover, legend): `<a href=...>` stays text.

    plotly.js renders a few HTML tags in its text and decodes only `&amp;`, `&lt;`, `&gt;` and
    numeric entities, so quotes are left as they are (`&quot;` would show literally).
    """
    return html.escape("" if value is None else str(value), quote=False)


def file_part(value: Any) -> str:
    """A data value as part of a download's file name: `Ann O'Neil/../x` -> `Ann_O_Neil_.._x`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", _plain(value)) or "_"


def spreadsheet_cell(value: Any) -> Any:
    """One cell neutralised for spreadsheets: formula-like text gets a leading apostrophe.

    `=1+2`, `-2+3`, `@SUM(A1)`, a leading tab, and the same after leading spaces or
    newlines (which some spreadsheets trim on import) -> `'=1+2`, ...; numbers stay numbers.
    """
    if isinstance(value, str) and (value.startswith(_CONTROL_START) or value.lstrip().startswith(_FORMULA_START)):
        return "'" + value
    return value


def spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes for spreadsheets, every text cell (and header) neutralised.

    Lines end in CRLF (RFC 4180), so a cell holding a carriage return or a newline is quoted
    and stays one cell.
    """
    safe = frame.copy()
    safe.columns = [spreadsheet_cell(str(c)) for c in safe.columns]
    for i in range(safe.shape[1]):  # by position: two headers may read alike
        column = safe.iloc[:, i]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            safe.isetitem(i, column.map(spreadsheet_cell))
    text: str = safe.to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8")
