"""Data values made safe for the places they are shown: Markdown, HTML and spreadsheets.

Every account name, advisor, package, subject or id comes from a file someone else
wrote, so it is treated as hostile wherever it is rendered: escaped in Markdown (no
links, images or raw HTML can be smuggled in), escaped in HTML, and neutralised in CSV
files meant for spreadsheets (OWASP's advice on CSV injection: a cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'``).
Machine exports (``export obligations``) keep values verbatim.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

# CommonMark's backslash-escapable ASCII punctuation: escaping all of it keeps a value literal.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=\"'&:$^%@])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md(value: Any) -> str:
    """A data value as literal Markdown text: punctuation escaped, line breaks flattened."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # a newline could start a heading, list or table row
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: Any) -> str:
    """A data value inside an inline code span (ids): backticks cannot close it early."""
    text = " ".join(("" if value is None else str(value)).split())
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def h(value: Any) -> str:
    """A data value as HTML text (quotes included, so it is safe in attributes too)."""
    return html.escape("" if value is None else str(value), quote=True)


def spreadsheet_cell(value: Any) -> Any:
    """One cell neutralised for spreadsheets: formula-like text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def spreadsheet_csv(frame: pd.DataFrame) -> bytes:
    """A frame as CSV bytes for spreadsheets, every text cell (and header) neutralised."""
    safe = frame.copy()
    safe.columns = [spreadsheet_cell(str(c)) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_cell)
    return safe.to_csv(index=False).encode("utf-8")
