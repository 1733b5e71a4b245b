"""Static SVG figures for the reports: no plotting library, no network, deterministic bytes."""

from __future__ import annotations

import math
from html import escape

FONT = "font-family='Helvetica, Arial, sans-serif'"
INK = "#1f2933"
BLUE = (33, 102, 172)


def _shade(fraction: float) -> str:
    """White to blue by fraction of the largest cell."""
    r, g, b = (round(255 - (255 - c) * fraction) for c in BLUE)
    return f"rgb({r},{g},{b})"


def confusion_svg(matrix: list[list[int]], labels: list[str], width: int = 300) -> str:
    """A 2x2 confusion matrix, rows = actual, columns = predicted, counts and row shares."""
    cell = (width - 110) // 2
    top, left = 44, 104
    height = top + 2 * cell + 10
    peak = max(max(row) for row in matrix) or 1
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='Confusion matrix' {FONT}>",
        f"<text x='{left + cell}' y='14' text-anchor='middle' font-size='12' fill='{INK}'>"
        "Predicted</text>",
    ]
    for j, label in enumerate(labels):
        parts.append(
            f"<text x='{left + j * cell + cell // 2}' y='{top - 8}' text-anchor='middle' "
            f"font-size='11' fill='{INK}'>{escape(label)}</text>"
        )
    for i, label in enumerate(labels):
        y = top + i * cell
        parts.append(
            f"<text x='{left - 6}' y='{y + cell // 2 + 4}' text-anchor='end' font-size='11' "
            f"fill='{INK}'>{escape(label)}</text>"
        )
        row_total = sum(matrix[i]) or 1
        for j, count in enumerate(matrix[i]):
            fraction = count / peak
            text_colour = "#ffffff" if fraction > 0.55 else INK
            x = left + j * cell
            parts.append(
                f"<rect x='{x}' y='{y}' width='{cell}' height='{cell}' "
                f"fill='{_shade(fraction)}' stroke='#ffffff' stroke-width='2'/>"
                f"<text x='{x + cell // 2}' y='{y + cell // 2}' text-anchor='middle' "
                f"font-size='17' font-weight='bold' fill='{text_colour}'>{count:,}</text>"
                f"<text x='{x + cell // 2}' y='{y + cell // 2 + 17}' text-anchor='middle' "
                f"font-size='10' fill='{text_colour}'>{count / row_total:.0%} of row</text>"
            )
    parts.append(
        f"<text x='12' y='{top + cell}' font-size='12' fill='{INK}' "
        f"transform='rotate(-90 12 {top + cell})' text-anchor='middle'>Actual</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def forest_svg(
    rows: list[dict], width: int = 420, row_height: int = 20, title: str = "Odds ratio (95% CI)"
) -> str:
    """Odds ratios with intervals on a log axis; rows need label, odds_ratio, ci_low, ci_high.
    A row may add `marginal_*` (the same three for the predictor alone: a hollow marker just
    below) and `survives` (False: drawn in grey, as not surviving the multiplicity correction)."""
    row_h, top, label_w, right = row_height, 24, 190, 14
    height = top + row_h * len(rows) + 26
    keys = ("ci_low", "ci_high", "odds_ratio")
    values = [v for r in rows for k in keys for v in (r[k], r.get(f"marginal_{k}", r[k]))]
    lo = min(min(values), 1.0) / 1.15
    hi = max(max(values), 1.0) * 1.15
    span = math.log(hi) - math.log(lo)
    plot_w = width - label_w - right

    def x_of(v: float) -> float:
        return label_w + (math.log(v) - math.log(lo)) / span * plot_w

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}' {FONT}>",
        f"<text x='{label_w + plot_w / 2:.1f}' y='14' text-anchor='middle' font-size='12' "
        f"fill='{INK}'>{escape(title)}</text>",
        f"<line x1='{x_of(1.0):.1f}' y1='{top - 4}' x2='{x_of(1.0):.1f}' "
        f"y2='{top + row_h * len(rows)}' stroke='#9aa5b1' stroke-dasharray='3,3'/>",
    ]
    for k, r in enumerate(rows):
        y = top + k * row_h + row_h / 2
        colour = "#b8322a" if r["odds_ratio"] < 1 else "#2166ac"
        if not r.get("survives", True):
            colour = "#9aa5b1"
        if "marginal_odds_ratio" in r:
            m = y + row_h * 0.3
            parts.append(
                f"<line x1='{x_of(r['marginal_ci_low']):.1f}' y1='{m:.1f}' "
                f"x2='{x_of(r['marginal_ci_high']):.1f}' y2='{m:.1f}' stroke='#52606d' "
                f"stroke-width='1'/><circle cx='{x_of(r['marginal_odds_ratio']):.1f}' "
                f"cy='{m:.1f}' r='2.5' fill='#fff' stroke='#52606d'/>"
            )
        parts.append(
            f"<text x='{label_w - 6}' y='{y + 4:.1f}' text-anchor='end' font-size='11' "
            f"fill='{INK}'>{escape(r['label'])}</text>"
            f"<line x1='{x_of(r['ci_low']):.1f}' y1='{y:.1f}' x2='{x_of(r['ci_high']):.1f}' "
            f"y2='{y:.1f}' stroke='{colour}' stroke-width='2'/>"
            f"<circle cx='{x_of(r['odds_ratio']):.1f}' cy='{y:.1f}' r='4' fill='{colour}'/>"
        )
    axis_y = top + row_h * len(rows) + 14
    for tick in _log_ticks(lo, hi):
        parts.append(
            f"<text x='{x_of(tick):.1f}' y='{axis_y}' text-anchor='middle' font-size='10' "
            f"fill='#52606d'>{tick:g}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _log_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    for exponent in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for mantissa in (1, 2, 5):
            value = mantissa * 10.0**exponent
            if lo <= value <= hi:
                ticks.append(value)
    return ticks if len(ticks) <= 9 else ticks[::2]
