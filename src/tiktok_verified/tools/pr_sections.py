"""Pull-request report, the formatting half: each section of reports/pr_report.md (data,
params, headline metrics, confusion matrix before and after, every metric, plots) as Markdown."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiktok_verified.tools.pr_diffs import (
    CONFUSION_JSON,
    CV_JSON,
    METRICS_JSON,
    RAW_CSV,
)

HIGHER_IS_BETTER = {
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "average_precision",
}
LOWER_IS_BETTER = {"log_loss", "brier"}


# ---------------------------------------------------------------- formatting


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.6g}"
    if isinstance(value, list | dict):
        return "`" + json.dumps(value) + "`"
    return str(value).replace("|", "\\|")


def rounded(d: float | int | None) -> float | int | None:
    """A difference to the 6 significant digits the metrics carry (DVC's is unrounded)."""
    return d if d is None or isinstance(d, int) else float(f"{d:.6g}")


def fmt_delta(change: dict) -> str:
    """The Δ column from one entry of `dvc metrics diff --json` ({"old", "new", "diff"}):
    DVC's `diff` (new - old) where it gives one for two numbers, else what changed."""
    old, new = change.get("old"), change.get("new")
    d = rounded(change.get("diff"))
    if d is None:
        if old == new:
            return "="
        if old is None:
            return "new"
        if new is None:
            return "removed"
        return "changed"
    if d == 0:
        return "0"
    if isinstance(d, int):
        return f"{d:+,}"
    if abs(d) >= 1e-6:
        return f"{d:+,.6f}".rstrip("0").rstrip(".")
    return f"{d:+.3g}"


def verdict(metric: str, change: dict) -> str:
    """'better' / 'worse' for metrics with a known direction, else ''."""
    d = rounded(change.get("diff"))
    name = metric.rsplit(".", 1)[-1].removesuffix("_prior_corrected")
    if not d:
        return ""
    if name in HIGHER_IS_BETTER:
        return "better" if d > 0 else "worse"
    if name in LOWER_IS_BETTER:
        return "better" if d < 0 else "worse"
    return ""


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- sections


def describe_data(data: dict | None) -> str:
    if not data:
        return "unknown (no metrics/data.json)"
    kept, rows_in = data.get("rows_kept"), data.get("rows_in")
    if data.get("source") == "real":
        return (
            f"the course file `{data.get('path')}` (sha256 `{str(data.get('sha256'))[:12]}…`, "
            f"{fmt(kept)} of {fmt(rows_in)} rows kept)"
        )
    return (
        f"the **SYNTHETIC stand-in** (`{data.get('path')}`, {fmt(kept)} rows kept): "
        "not the course data"
    )


@dataclass
class Context:
    base: str  # as given, e.g. main
    base_rev: str  # the revision compared against (BASE, or its re-run)
    base_short: str
    head_short: str
    dirty: bool  # uncommitted changes to the inputs
    stale_outputs: bool  # the reproduced metrics/dvc.lock differ from those committed at HEAD
    base_data: dict | None
    committed_base_data: dict | None
    new_data: dict | None
    rebaselined: bool
    data_origin: str | None
    remotes: dict[str, str]
    default_remote: str | None
    status: dict
    files: list[str]


def data_section(ctx: Context) -> str:
    lines = ["## Data", ""]
    lines.append(f"- **This PR**: {describe_data(ctx.new_data)}.")
    lines.append(f"- **BASE** (`{ctx.base}`): {describe_data(ctx.base_data)}.")
    if ctx.rebaselined:
        lines.append(
            f"- BASE's committed metrics came from {describe_data(ctx.committed_base_data)}; "
            f"for a like-for-like comparison BASE was re-run here on this PR's data "
            f"(commit `{ctx.base_rev[:8]}`, not on any branch)."
        )
    origin = ctx.data_origin
    if origin is None:
        if ctx.new_data and ctx.new_data.get("source") == "real":
            origin = f"the course file was present at `{RAW_CSV}` in this checkout"
        else:
            origin = f"`{RAW_CSV}` was absent, so the pipeline ran on the synthetic stand-in"
    lines.append(f"- **Where the data came from**: {origin}.")
    if ctx.remotes:
        names = ", ".join(f"`{n}` ({u})" for n, u in ctx.remotes.items())
        lines.append(f"- DVC remote(s) configured: {names}; default: `{ctx.default_remote}`.")
    else:
        lines.append("- No DVC remote is configured (`dvc remote list` is empty).")
    if ctx.new_data and ctx.new_data.get("source") != "real":
        lines += [
            "",
            "> **SYNTHETIC DATA.** Every number below comes from the seeded stand-in, not from "
            "the course file. The deltas show what the change does to the pipeline, not what "
            "it does on the real data.",
        ]
    if ctx.base_data and ctx.new_data and ctx.base_data.get("source") != ctx.new_data.get("source"):
        lines += [
            "",
            "> **WARNING: BASE and this PR ran on different data**; the deltas mix the change "
            "with the change of data.",
        ]
    return "\n".join(lines)


def params_section(changes: list[tuple[str, Any, Any]]) -> str:
    lines = ["## Parameters changed (`dvc params diff`)", ""]
    if not changes:
        lines.append("No parameter changed.")
    else:
        lines.append(
            table(["param", "BASE", "this PR"], [[f"`{k}`", fmt(o), fmt(n)] for k, o, n in changes])
        )
    return "\n".join(lines)


def headline_section(metrics: dict[str, dict[str, dict]]) -> str:
    """Held-out metrics with their direction, and the cross-validation spread as a yardstick."""
    held_out = {
        k.removeprefix("test."): v
        for k, v in metrics.get(METRICS_JSON, {}).items()
        if k.startswith("test.") and k != "test.rows"
    }
    cv = metrics.get(CV_JSON, {})
    rows = []
    for name, change in held_out.items():
        old, new = change["old"], change["new"]
        spread = cv.get(f"std.{name}", {}).get("new")
        rows.append(
            [
                name,
                fmt(old),
                fmt(new),
                fmt_delta(change),
                verdict(name, change),
                "—" if spread is None else f"± {spread:.2g}",
            ]
        )
    if not rows:
        return "## Held-out metrics\n\nNo `metrics/metrics.json` `test.*` values found."
    return "\n".join(
        [
            "## Held-out metrics (test part, `metrics/metrics.json`)",
            "",
            table(
                ["metric", "BASE", "this PR", "Δ", "verdict", "CV spread (1 sd across folds)"], rows
            ),
            "",
            "A delta smaller than the cross-validation spread is within fold-to-fold noise.",
        ]
    )


def confusion_section(old: dict | None, new: dict | None) -> str:
    lines = ["## Confusion matrix (held-out; rows actual, columns predicted)", ""]
    if not new:
        lines.append(f"No `{CONFUSION_JSON}` in the workspace.")
        return "\n".join(lines)
    labels = new["labels"]

    def matrix_table(cm: dict | None) -> str:
        if not cm:
            return "(absent)"
        rows = [
            [f"**{a}**", *(fmt(v) for v in row)]
            for a, row in zip(labels, cm["matrix"], strict=True)
        ]
        return table(["actual \\ predicted", *labels], rows)

    changes = []
    for i, actual in enumerate(labels):
        row = [f"**{actual}**"]
        for j in range(len(labels)):
            # DVC's metrics diff leaves lists out: the matrix's cells are subtracted here.
            o = old["matrix"][i][j] if old else None
            n = new["matrix"][i][j]
            row.append(fmt_delta({"old": o, "new": n, "diff": None if o is None else n - o}))
        changes.append(row)
    corner = "actual \\ predicted"
    lines += [
        f"**Before** (BASE):\n\n{matrix_table(old)}",
        "",
        f"**After** (this PR):\n\n{matrix_table(new)}",
        "",
        f"**Change** (after − before):\n\n{table([corner, *labels], changes)}",
    ]
    return "\n".join(lines)


def all_metrics_section(metrics: dict[str, dict[str, dict]], compact: bool = False) -> str:
    """Every metric of every file: changed values in a table (all values for metrics.json),
    unchanged ones listed with their value (or only counted when `compact`)."""
    lines = ["## Every metric (`dvc metrics diff --all`)", ""]
    for file, entries in metrics.items():
        show_all = file == METRICS_JSON
        changed = {k: v for k, v in entries.items() if v["old"] != v["new"]}
        unchanged = {k: v for k, v in entries.items() if v["old"] == v["new"]}
        rows = [
            [f"`{k}`", fmt(v["old"]), fmt(v["new"]), fmt_delta(v)]
            for k, v in (entries if show_all else changed).items()
        ]
        summary = f"<code>{file}</code>: {len(entries)} values, {len(changed)} changed"
        body = [table(["metric", "BASE", "this PR", "Δ"], rows)] if rows else []
        if unchanged and not show_all:
            if compact:
                body.append(f"{len(unchanged)} values unchanged (omitted for length).")
            else:
                listed = " · ".join(f"`{k}` {fmt(v['new'])}" for k, v in unchanged.items())
                body.append(f"Unchanged (Δ 0): {listed}")
        open_attr = " open" if file == METRICS_JSON else ""
        lines += [
            f"<details{open_attr}><summary>{summary}</summary>",
            "",
            "\n\n".join(body) if body else "(nothing)",
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines)


def plots_section(
    rendered: list[tuple[str, Path]], page: Path | None, page_note: str, report_dir: Path
) -> str:
    lines = ["## Plots: BASE vs this PR (`dvc plots diff`)", ""]
    if page is not None:
        lines.append(
            f"Interactive page: [{os.path.relpath(page, report_dir)}]"
            f"({os.path.relpath(page, report_dir)}), {page_note}. The images below are "
            "rendered from the same Vega-Lite specs with vl-convert."
        )
    if not rendered:
        lines.append("\nNo plots are declared in dvc.yaml.")
    for plot_id, png in rendered:
        rel = os.path.relpath(png, report_dir)
        lines += ["", f"### {plot_id}", "", f"![{plot_id}]({rel})"]
    return "\n".join(lines)


def header_section(ctx: Context) -> str:
    head = f"{ctx.head_short} + uncommitted changes" if ctx.dirty else ctx.head_short
    lines = [f"# Pull-request report: `{ctx.base}` ({ctx.base_short}) → this PR ({head})", ""]
    if ctx.status:
        stale = ", ".join(sorted(ctx.status))
        lines.append(
            f"> **WARNING: the workspace is not reproduced** (`dvc status dvc.yaml` lists "
            f"{stale}); run `make pr-report`, which runs the pipeline first."
        )
    else:
        lines.append("Pipeline reproduced: `dvc status dvc.yaml` reports every stage up to date.")
    real = (ctx.new_data or {}).get("source") == "real"
    if ctx.stale_outputs and real and not ctx.dirty:
        lines += [
            "",
            "> **Note:** this run's `metrics/` or `dvc.lock` differ from those committed at "
            f"{ctx.head_short}: the results committed on the branch are stale (run "
            "`make pipeline` and commit them).",
        ]
    if ctx.files:
        lines.append("")
        lines.append("Pipeline files changed: " + ", ".join(f"`{f}`" for f in ctx.files) + ".")
    return "\n".join(lines)
