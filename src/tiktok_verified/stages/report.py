"""Stage report: the executive summary (Markdown and one-page HTML, with its SVG figures) and
the PACE strategy answers (reports/), from the metrics files and the params they were made with."""

from __future__ import annotations

import dataclasses

from tiktok_verified.reporting.documents import write_reports
from tiktok_verified.stages import exit_with
from tiktok_verified.stages.runner import stage_main

PATHS = {"metrics-dir": "folder of the metrics files", "out-dir": "folder for the reports"}


def body(args, params) -> str:
    inp = write_reports(args.metrics_dir, args.out_dir, dataclasses.asdict(params))
    kind = "SYNTHETIC" if inp.synthetic else "course-file"
    return f"wrote {kind} executive summary and PACE answers to {args.out_dir}/"


main = stage_main("report", "Write the executive summary and PACE answers.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
