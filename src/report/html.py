"""One self-contained HTML page: inline style, figures embedded as base64 PNG, every value escaped.

Nothing on the page is fetched from anywhere: it opens from a file, offline, and can be
mailed or archived as it is. Every piece of text that comes from a run (config values,
paths, error messages) passes through ``html.escape``, so a value such as ``<script>``
shows as text and never runs.
"""

from __future__ import annotations

import base64
import math
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
"""


def cell(value) -> tuple[str, bool]:
    """A table cell's text (escaped) and whether it is text rather than a number."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), True
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else f"{value:.4g}", False
    if isinstance(value, int):
        return str(value), False
    return escape(str(value)), True


def table(frame: pd.DataFrame, index: bool = True, max_rows: int | None = None) -> str:
    """``frame`` as an HTML table, numbers right-aligned to 4 significant digits, text escaped."""
    shown = frame if max_rows is None else frame.head(max_rows)
    names = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    head = "".join(f'<th class="text">{escape(name)}</th>' for name in names)
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


def figure(png: bytes, alt: str, caption: str) -> str:
    """An ``<img>`` with the PNG inside the page (a ``data:`` URL), and its caption."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def paragraph(text: str, css: str | None = None) -> str:
    return f'<p class="{css}">{escape(text)}</p>' if css else f"<p>{escape(text)}</p>"


def bullet_list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def section(heading: str, *parts: str) -> str:
    return f"<section><h2>{escape(heading)}</h2>{''.join(parts)}</section>"


def page(title: str, *parts: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{''.join(parts)}</body></html>\n"
    )
