"""Rendering of a report's blocks: Markdown (the committed .md files), and a self-contained
one-page HTML (inline CSS and SVG, no scripts, no external resources) whose Markdown parts are
rendered by markdown-it-py.

A report is a list of blocks, tuples whose first item says what they are: ("banner", text),
("h1", text), ("h2", text), ("p", text), ("small", text), ("ul", [items]),
("table", header, rows), ("figure", file name, svg, caption), and ("cols", left blocks,
right blocks[, right width in px]) for two columns in the HTML (one after the other in Markdown).
"""

from __future__ import annotations

from functools import cache
from html import escape

Block = tuple


@cache
def _markdown():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table")


def _flatten(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        out += _flatten(block[1]) + _flatten(block[2]) if block[0] == "cols" else [block]
    return out


def to_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in _flatten(blocks):
        kind = block[0]
        if kind == "banner":
            out.append(f"> **{block[1]}**")
        elif kind == "h1":
            out.append(f"# {block[1]}")
        elif kind == "h2":
            out.append(f"## {block[1]}")
        elif kind == "p":
            out.append(block[1])
        elif kind == "small":
            out.append(f"*{block[1]}*")
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "table":
            header, rows = block[1], block[2]
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += [
                "| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows
            ]
            out.append("\n".join(lines))
        elif kind == "figure":
            out.append(f"![{block[3]}](figures/{block[1]})\n\n*{block[3]}*")
    return "\n\n".join(out) + "\n"


HTML_STYLE = """
@page { size: A4; margin: 8mm 10mm; }
body { font: 7.9pt/1.22 Helvetica, Arial, sans-serif; color: #1f2933; max-width: 190mm;
       margin: 0 auto; }
h1 { font-size: 13pt; margin: 0 0 1pt; } h2 { font-size: 10pt; margin: 4pt 0 1pt;
     color: #2166ac; border-bottom: 1px solid #d9e2ec; }
p, ul { margin: 1.5pt 0 2pt; } ul { padding-left: 12pt; } li { margin: 0.3pt 0; }
.small { font-size: 7pt; color: #52606d; margin: 0 0 3pt; }
.banner { background: #b8322a; color: #fff; font-weight: bold; padding: 5pt 8pt;
          font-size: 11pt; margin-bottom: 5pt; }
.cols { display: flex; gap: 8pt; align-items: flex-start; }
.cols > div { flex: 1; }
figure { margin: 1pt 0; text-align: center; } figcaption { font-size: 7pt; color: #52606d; }
table { border-collapse: collapse; width: 100%; font-size: 7.6pt; }
th, td { text-align: left; padding: 0.5pt 4pt; border-bottom: 1px solid #e4e7eb; }
td:nth-child(-n+2) { white-space: nowrap; }
"""


def _html_block(block: Block) -> str:
    kind = block[0]
    if kind == "figure":
        return f"<figure>{block[2]}<figcaption>{escape(block[3])}</figcaption></figure>"
    if kind in ("banner", "small"):
        inline = _markdown().renderInline(block[1])
        return f"<div class='{kind}'>{inline}</div>"
    if kind not in ("h1", "h2", "p", "ul", "table"):
        raise ValueError(f"unknown block {kind!r}")
    return _markdown().render(to_markdown([block])).strip()


def to_html(blocks: list[Block], title: str) -> str:
    """A self-contained page: inline CSS and SVG, no scripts, no external resources."""
    parts = []
    for block in blocks:
        if block[0] == "cols":
            left = "".join(_html_block(b) for b in block[1])
            right = "".join(_html_block(b) for b in block[2])
            side = block[3] if len(block) > 3 else 240
            parts.append(
                f"<div class='cols'><div>{left}</div>"
                f"<div style='flex: 0 0 {side}px'>{right}</div></div>"
            )
        else:
            parts.append(_html_block(block))
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{HTML_STYLE}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
