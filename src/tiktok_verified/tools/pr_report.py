"""Pull-request report: what a change does to the model, compared with a base revision.

    make pr-report BASE=main      # reproduce, then write reports/pr_report.md + reports/pr_plots/

The Markdown report holds the changed params (`dvc params diff`), every metric with its old and
new value and delta (`dvc metrics diff --all`), the held-out confusion matrix before and after,
and the plots diff (`dvc plots diff`): static PNG/SVG images rendered with vl-convert from the
same Vega-Lite specs DVC fills, plus DVC's own interactive page on the offline template.
It says which data produced the numbers on each side (metrics/data.json `source`).

When BASE's committed metrics come from other data than the workspace's (the course file on
one side, the synthetic stand-in on the other, e.g. in CI without a DVC remote), BASE is
re-run on the workspace's data in a temporary git worktree first, so the deltas measure the
change and not the data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tiktok_verified.files import write_with
from tiktok_verified.tools.pr_diffs import (
    CONFUSION_JSON,
    DATA_JSON,
    INPUTS,
    OUTPUTS,
    ReportError,
    changed_files,
    config_list,
    default_remote_in,
    json_at,
    metrics_changes,
    params_changes,
    pipeline_status,
    plots_page,
    rebaseline,
    remotes_in,
    render_plots,
    run,
    short_rev,
)
from tiktok_verified.tools.pr_sections import (
    Context,
    all_metrics_section,
    confusion_section,
    data_section,
    header_section,
    headline_section,
    params_section,
    plots_section,
)

#: GitHub refuses comments longer than 65,536 characters.
COMMENT_LIMIT = 65_000


def build_report(
    ctx: Context,
    params: list[tuple[str, Any, Any]],
    metrics: dict[str, dict[str, dict]],
    old_cm: dict | None,
    new_cm: dict | None,
    plots: str,
) -> str:
    def assemble(compact: bool) -> str:
        sections = [
            header_section(ctx),
            data_section(ctx),
            params_section(params),
            headline_section(metrics),
            confusion_section(old_cm, new_cm),
            plots,
            all_metrics_section(metrics, compact=compact),
        ]
        return "\n\n".join(sections) + "\n"

    text = assemble(compact=False)
    return text if len(text) <= COMMENT_LIMIT else assemble(compact=True)


# ---------------------------------------------------------------- the command


def make_report(
    base: str,
    cwd: Path,
    out: Path,
    plots_dir: Path,
    data_origin: str | None = None,
    rebaseline_mode: str = "auto",
) -> str:
    cwd = cwd.resolve()
    dvc_config = config_list(cwd)
    base_short = short_rev(base, cwd)
    head_short = short_rev("HEAD", cwd)
    new_data = json_at(None, DATA_JSON, cwd)
    committed_base_data = json_at(base, DATA_JSON, cwd)
    new_source = (new_data or {}).get("source")
    differs = committed_base_data is not None and (committed_base_data.get("source") != new_source)
    rebaselined = rebaseline_mode == "always" or (rebaseline_mode == "auto" and differs)
    base_rev = rebaseline(base, new_source or "synthetic", cwd) if rebaselined else base
    ctx = Context(
        base=base,
        base_rev=base_rev,
        base_short=base_short,
        head_short=head_short,
        dirty=bool(run(["git", "status", "--porcelain", "--", *INPUTS], cwd).stdout),
        stale_outputs=bool(run(["git", "status", "--porcelain", "--", *OUTPUTS], cwd).stdout),
        base_data=json_at(base_rev, DATA_JSON, cwd),
        committed_base_data=committed_base_data,
        new_data=new_data,
        rebaselined=rebaselined,
        data_origin=data_origin,
        remotes=remotes_in(dvc_config),
        default_remote=default_remote_in(dvc_config),
        status=pipeline_status(cwd),
        files=changed_files(base, cwd),
    )
    report_dir = out.parent.resolve()
    plots_dir = plots_dir.resolve()
    if plots_dir.exists():
        shutil.rmtree(plots_dir)
    page, note = plots_page(base_rev, plots_dir, cwd)
    rendered = render_plots(base_rev, plots_dir / "static", cwd)
    text = build_report(
        ctx,
        params_changes(base_rev, cwd),
        metrics_changes(base_rev, cwd),
        json_at(base_rev, CONFUSION_JSON, cwd),
        json_at(None, CONFUSION_JSON, cwd),
        plots_section(rendered, page, note, report_dir),
    )
    write_with(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown report of a change against BASE.")
    parser.add_argument("--base", required=True, help="git revision to compare with, e.g. main")
    parser.add_argument("--out", type=Path, default=Path("reports/pr_report.md"))
    parser.add_argument("--plots-dir", type=Path, default=Path("reports/pr_plots"))
    parser.add_argument(
        "--data-origin",
        default=os.environ.get("DATA_ORIGIN") or None,
        help="how the data got here, e.g. 'pulled from the DVC remote storage' "
        "(default: $DATA_ORIGIN, else inferred)",
    )
    parser.add_argument(
        "--rebaseline",
        choices=("auto", "always", "never"),
        default="auto",
        help="re-run BASE on this workspace's data: when the data sources differ (auto)",
    )
    parser.add_argument("--repo", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        make_report(
            args.base, args.repo, args.out, args.plots_dir, args.data_origin, args.rebaseline
        )
    except ReportError as exc:
        print(f"pr_report: error: {exc}", file=sys.stderr)
        return 1
    print(f"pr_report: wrote {args.out} (plots in {args.plots_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
