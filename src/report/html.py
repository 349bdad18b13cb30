"""One self-contained HTML page: inline style, figures embedded as base64 PNG, every value escaped.

Nothing on the page is fetched from anywhere: it opens from a file, offline, and can be
mailed or archived as it is. Every piece of text that comes from a run (config values,
paths, error messages) passes through ``html.escape``, so a value such as ``<script>``
shows as text and never runs.
"""

from __future__ import annotations

import base64
import math
import re
from html import escape

import pandas as pd

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1250px;
       color: #222; line-height: 1.45; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.8em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td.text, th.text { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; max-width: 60em; }
.note { color: #555; font-size: 0.9em; } .bad { color: #a40000; }
.scroll { max-height: 32em; overflow: auto; display: inline-block; max-width: 100%; }
th.key { background: #e3ebf6; }
nav.contents { font-size: 0.95em; margin: 1em 0; padding: 0.5em 0.8em; background: #f6f6f6; }
nav.contents a { margin-right: 1.2em; white-space: nowrap; }
"""


def cell(value) -> tuple[str, bool]:
    """A table cell's text (escaped) and whether it is text rather than a number."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), True
    if isinstance(value, float):
        if math.isinf(value):
            return ("inf" if value > 0 else "-inf"), False
        return (f"{value:.0f}" if 1e3 <= abs(value) < 1e7 else f"{value:.4g}"), False  # epochs: 12500, not 1.25e+04
    if isinstance(value, int):
        return str(value), False
    return escape(str(value)), True


def table(frame: pd.DataFrame, index: bool = True, max_rows: int | None = None, key_columns: int = 0) -> str:
    """``frame`` as an HTML table, numbers right-aligned to 4 significant digits, text escaped; the index and
    the first ``key_columns`` columns are marked as the ones that answer the question (class ``key``)."""
    shown = frame if max_rows is None else frame.head(max_rows)
    names = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    keys = (1 if index else 0) + key_columns if key_columns else 0
    head = "".join(f'<th class="text{" key" if k < keys else ""}">{escape(name)}</th>' for k, name in enumerate(names))
    lines = []
    for key, row in zip(shown.index, shown.itertuples(index=False, name=None)):
        cells = []
        for value in ((key,) if index else ()) + tuple(row):
            content, is_text = cell(value.item() if hasattr(value, "item") else value)
            cells.append(f'<td class="text">{content}</td>' if is_text else f"<td>{content}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(frame) > max_rows:
        more = f'<p class="note">First {max_rows} of {len(frame)} rows; all of them are in the CSV file.</p>'
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(lines)}</tbody></table></div>{more}'
    )


def figure(png: bytes, alt: str, caption: str, anchor: str | None = None) -> str:
    """An ``<img>`` with the PNG inside the page (a ``data:`` URL), and its caption."""
    data = base64.b64encode(png).decode("ascii")
    where = f' id="{escape(anchor)}"' if anchor else ""
    return (
        f'<figure{where}><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def paragraph(text: str, css: str | None = None) -> str:
    return f'<p class="{css}">{escape(text)}</p>' if css else f"<p>{escape(text)}</p>"


def bullet_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>" if items else ""


def anchor_of(heading: str) -> str:
    """``The article's run`` -> ``the-article-s-run``: the section's id, for links to it."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def section(heading: str, *parts: str) -> str:
    return f'<section id="{anchor_of(heading)}"><h2>{escape(heading)}</h2>{"".join(parts)}</section>'


def contents(headings: list[str]) -> str:
    """Links to the sections, in page order."""
    links = "".join(f'<a href="#{anchor_of(heading)}">{escape(heading)}</a>' for heading in headings)
    return f'<nav class="contents"><b>Contents:</b> {links}</nav>'


def page(title: str, sections: list[tuple[str, list[str]]]) -> str:
    """The page: the first section (the summary), the table of contents, then the other sections."""
    first, *rest = [section(heading, *parts) for heading, parts in sections]
    body = first + contents([heading for heading, _ in sections[1:]]) + "".join(rest)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )
