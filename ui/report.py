"""Self-contained HTML documents: an edited weekly update, and the governance pack for a meeting.

Pure functions (text and figures in, one HTML string out) so they are tested without a
browser. Everything is inline: the CSS, and plotly.js once per document, because these
files are mailed and opened offline. Nothing in them is live markup unless this module
wrote it: Markdown is rendered with raw HTML off, every other text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from markdown_it import MarkdownIt

from metrics.reports.weekly import HTML_STYLE
from metrics.safe_text import h

# Raw HTML in the text stays text (`<img onerror=...>` -> `&lt;img ...`); markdown-it's link
# validation keeps `javascript:`, `vbscript:`, `file:` and most `data:` URLs from becoming links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown_page(text: str, title: str) -> str:
    """An advisor's (possibly edited) Markdown as a standalone HTML page in the weekly update's style.

    The generated text escapes its data values; whatever the advisor types, raw HTML is not
    rendered, so the file holds no markup that neither the update nor the advisor's Markdown made.
    """
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n"
        + _MARKDOWN.render(text)
        + "</body>\n</html>\n"
    )


def governance_pack(
    title: str,
    subtitle: str,
    headline: Sequence[tuple[str, str]],
    figures: Sequence[go.Figure],
    tables: Sequence[tuple[str, pd.DataFrame]],
) -> str:
    """The governance review as one HTML file: headline numbers, charts (plotly.js inlined once), tables.

    Every text is escaped: the tables' cells and headers by pandas (`escape=True`), the figures'
    labels by their builders (`ui.figures`, whose JSON plotly writes with `<`, `>` and `/` escaped).
    """
    parts = [f"<h1>{h(title)}</h1>", f'<p class="meta">{h(subtitle)}</p>', '<div class="tiles">']
    parts += [
        f'<div class="tile"><div class="label">{h(label)}</div><div class="value">{h(value)}</div></div>'
        for label, value in headline
    ]
    parts.append("</div>")
    for i, fig in enumerate(figures):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    for name, frame in tables:
        parts.append(f"<h2>{h(name)}</h2>")
        parts.append(
            frame.to_html(index=False, na_rep="–", border=0, escape=True) if not frame.empty else "<p>None.</p>"
        )
    style = HTML_STYLE + (
        ".tiles{display:flex;gap:1rem;flex-wrap:wrap}.tile{border:1px solid #ccc;border-radius:6px;"
        "padding:.6rem 1rem;min-width:10rem}.tile .label{font-size:.9rem;color:#555}.tile .value{font-size:2rem}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{h(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )
