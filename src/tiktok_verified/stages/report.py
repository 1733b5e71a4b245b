"""Stage report: the executive summary (Markdown and one-page HTML, with its SVG figures) and
the PACE strategy answers (reports/), from the metrics files and the params they were made with."""

from __future__ import annotations

import dataclasses
import sys

from tiktok_verified.files import write_with
from tiktok_verified.reporting import figures
from tiktok_verified.reporting.pace import pace_strategy
from tiktok_verified.reporting.render import to_html, to_markdown
from tiktok_verified.reporting.summary import executive_summary, forest_rows, load_inputs
from tiktok_verified.stages.runner import run_stage

PATHS = {"metrics-dir": "folder of the metrics files", "out-dir": "folder for the reports"}
TITLE = "Verified status: executive summary"


def body(args, params) -> str:
    inp = load_inputs(args.metrics_dir, dataclasses.asdict(params))
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
        write_with(args.out_dir / name, lambda tmp, t=text: tmp.write_text(t, encoding="utf-8"))
    kind = "SYNTHETIC" if inp.synthetic else "course-file"
    return f"wrote {kind} executive summary and PACE answers to {args.out_dir}/"


def main(argv: list[str] | None = None) -> int:
    return run_stage("report", "Write the executive summary and PACE answers.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
