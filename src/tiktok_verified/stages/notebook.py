"""Stage notebook: the walkthrough notebook executed after the report, into a read-only copy
with its outputs (reports/walkthrough.ipynb) and a standalone HTML page
(reports/walkthrough.html). The source notebook (notebooks/) stays the one people edit."""

from __future__ import annotations

from pathlib import Path

from tiktok_verified.files import write_with
from tiktok_verified.reporting.notebook import execute, to_html, to_ipynb
from tiktok_verified.stages import exit_with
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "source": "the notebook people edit",
    "out": "the executed copy (ipynb)",
    "html": "the executed copy as a standalone page (HTML)",
}
TITLE = "Verified status: the analysis, step by step"


def body(args, params) -> str:
    notebook = execute(args.source, Path.cwd())
    write_with(args.out, lambda tmp: tmp.write_text(to_ipynb(notebook), encoding="utf-8"))
    write_with(args.html, lambda tmp: tmp.write_text(to_html(notebook, TITLE), encoding="utf-8"))
    cells = sum(c.cell_type == "code" for c in notebook.cells)
    return f"executed {cells} code cells of {args.source} into {args.out} and {args.html}"


main = stage_main("notebook", "Execute and render the walkthrough.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
