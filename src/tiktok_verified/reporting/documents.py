"""The report files, written from the metrics files: the executive summary (Markdown, one-page
HTML, SVG figures) and the PACE answers."""

from __future__ import annotations

from pathlib import Path

from tiktok_verified.files import write_with
from tiktok_verified.reporting import figures
from tiktok_verified.reporting.findings import forest_rows
from tiktok_verified.reporting.inputs import Inputs, load_inputs
from tiktok_verified.reporting.pace import pace_strategy
from tiktok_verified.reporting.render import to_html, to_markdown
from tiktok_verified.reporting.summary import executive_summary

TITLE = "Verified status: executive summary"


def write_reports(metrics_dir: Path, out_dir: Path, params: dict) -> Inputs:
    """Write every report file under `out_dir`; `params` as params.yaml holds them."""
    inp = load_inputs(metrics_dir, params)
    cm = inp.confusion
    summary = executive_summary(inp)
    texts = {
        "figures/confusion_matrix.svg": figures.confusion_svg(
            cm["matrix"], cm["labels"], width=270
        ),
        "figures/odds_ratios.svg": figures.forest_svg(forest_rows(inp), width=400, row_height=13),
        "executive_summary.md": to_markdown(summary),
        "executive_summary.html": to_html(summary, TITLE),
        "pace_strategy.md": to_markdown(pace_strategy(inp)),
    }
    for name, text in texts.items():
        write_with(out_dir / name, lambda tmp, t=text: tmp.write_text(t, encoding="utf-8"))
    return inp
