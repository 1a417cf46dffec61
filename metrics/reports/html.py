"""The one HTML shell of every standalone document: the stylesheet and the page around a body.

The weekly update's HTML, the app's download of an edited update (`markdown_page`) and the
governance pack are all `page(...)`: one self-contained file (inline CSS, nothing fetched),
mailed and opened offline. Nothing in a page is live markup unless its writer made it: the
title is escaped here, Markdown is rendered with raw HTML off.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from metrics.safe_text import h

STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1f2328;
       background: #ffffff; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.15rem; margin-top: 1.75rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
p.meta { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.note { color: #57606a; font-size: 0.9rem; }
@media print { body { margin: 0; max-width: none; } tr { break-inside: avoid; } h1, h2, h3 { break-after: avoid; } }
"""

# Raw HTML in the text stays text (`<img onerror=...>` -> `&lt;img ...`); markdown-it's link
# validation keeps `javascript:`, `vbscript:`, `file:` and most `data:` URLs from becoming links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def page(title: str, body: str, extra_style: str = "") -> str:
    """A complete standalone HTML document: `title` (plain text, escaped here) and `body` (markup, as given).

    The stylesheet is `STYLE` followed by `extra_style`; the body ends with a newline before
    `</body>` (one is added unless it has one).
    """
    if body and not body.endswith("\n"):
        body += "\n"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{h(title)}</title>\n<style>{STYLE}{extra_style}</style>\n</head>\n<body>\n"
        + body
        + "</body>\n</html>\n"
    )


def markdown_body(text: str) -> str:
    """Markdown as HTML with raw HTML kept as text and unsafe links dropped (the body of `markdown_page`)."""
    return str(_MARKDOWN.render(text))


def markdown_page(text: str, title: str) -> str:
    """An advisor's (possibly edited) Markdown as a standalone HTML page in the weekly update's style.

    The generated text escapes its data values; whatever the advisor types, raw HTML is not
    rendered, so the file holds no markup that neither the update nor the advisor's Markdown made.
    """
    return page(title, markdown_body(text))
