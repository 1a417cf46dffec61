"""The governance pack: a period review for a meeting as one self-contained HTML file.

A pure function (texts, plotly figures and DataFrames in, one HTML string out), so it is
tested without a browser; the Governance page gathers what it shows and offers the file.
plotly.js is inlined once per document, because the file is mailed and opened offline.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from metrics.reports.html import page
from metrics.safe_text import h

# Headline numbers as tiles, on top of the shared stylesheet.
TILE_STYLE = (
    ".tiles{display:flex;gap:1rem;flex-wrap:wrap}.tile{border:1px solid #ccc;border-radius:6px;"
    "padding:.6rem 1rem;min-width:10rem}.tile .label{font-size:.9rem;color:#555}.tile .value{font-size:2rem}"
    ".tile .caption{font-size:.8rem;color:#555}"
)

# A headline tile: (label, value) or (label, value, captions), captions one line each under the value
# ("provisional: 135 still running", "policy 120 · recorded 80").
Tile = tuple[str, str] | tuple[str, str, Sequence[str]]


def governance_pack(
    title: str,
    subtitle: str,
    headline: Sequence[Tile],
    figures: Sequence[go.Figure],
    tables: Sequence[tuple[str, pd.DataFrame]],
) -> str:
    """The governance review as one HTML file: headline tiles, charts (plotly.js inlined once), tables.

    The headline is what the Governance page's tiles show (attainment per kind with its
    provisional count and the lowest cell, the share of cases escalated with "policy N ·
    recorded M", ...): each tile a label, a value and optional caption lines.

    Every text is escaped: the tables' cells and headers by pandas (`escape=True`), the figures'
    labels by their builders (`ui.figures`, whose JSON plotly writes with `<`, `>` and `/` escaped).
    """
    parts = [f"<h1>{h(title)}</h1>", f'<p class="meta">{h(subtitle)}</p>', '<div class="tiles">']
    for tile in headline:
        label, value = tile[0], tile[1]
        captions = tile[2] if len(tile) > 2 else ()
        lines = "".join(f'<div class="caption">{h(c)}</div>' for c in captions)
        parts.append(
            f'<div class="tile"><div class="label">{h(label)}</div><div class="value">{h(value)}</div>{lines}</div>'
        )
    parts.append("</div>")
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    for name, frame in tables:
        parts.append(f"<h2>{h(name)}</h2>")
        parts.append(
            frame.to_html(index=False, na_rep="–", border=0, escape=True) if not frame.empty else "<p>None.</p>"
        )
    return page(title, "\n".join(parts), TILE_STYLE)
