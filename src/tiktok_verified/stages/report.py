"""Stage report: what readers open, from the metrics files and the params they were made with:
the executive summary (Markdown and one-page HTML, with its SVG figures), the PACE strategy
answers, and the walkthrough notebook executed into a read-only copy with its outputs and a
standalone HTML page (reports/). The source notebook (notebooks/) stays the one people edit.

One stage, not two: an experiment pays one interpreter, one dvc.lock round trip and one
staging step for all of them (about 0.5 s an experiment; benchmarks/FINDINGS.md). The notebook
reads params.yaml and metrics/ from the repository root, as it does when opened by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tiktok_verified.files import write_with
from tiktok_verified.reporting.documents import write_reports
from tiktok_verified.reporting.notebook import execute, to_html, to_ipynb
from tiktok_verified.stages import exit_with
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "metrics-dir": "folder of the metrics files",
    "out-dir": "folder for the reports",
    "notebook": "the walkthrough notebook people edit",
    "walkthrough": "its executed copy (ipynb)",
    "walkthrough-html": "its executed copy as a standalone page (HTML)",
}
TITLE = "Verified status: the analysis, step by step"


def body(args, params) -> str:
    inp = write_reports(args.metrics_dir, args.out_dir, dataclasses.asdict(params))
    notebook = execute(args.notebook, Path.cwd())
    write_with(args.walkthrough, lambda tmp: tmp.write_text(to_ipynb(notebook), "utf-8"))
    html = to_html(notebook, TITLE)
    write_with(args.walkthrough_html, lambda tmp: tmp.write_text(html, "utf-8"))
    kind = "SYNTHETIC" if inp.synthetic else "course-file"
    cells = sum(c.cell_type == "code" for c in notebook.cells)
    return (
        f"wrote {kind} executive summary and PACE answers to {args.out_dir}/, and executed "
        f"{cells} code cells of {args.notebook} into {args.walkthrough} and "
        f"{args.walkthrough_html}"
    )


main = stage_main("report", "Write the summary and PACE answers; run the walkthrough.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
