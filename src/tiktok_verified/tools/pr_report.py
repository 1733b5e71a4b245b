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
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiktok_verified import offline_plots
from tiktok_verified.io import write_with

DATA_JSON = "metrics/data.json"
CONFUSION_JSON = "metrics/confusion_matrix.json"
METRICS_JSON = "metrics/metrics.json"
CV_JSON = "metrics/cv.json"
RAW_CSV = "data/raw/tiktok_dataset.csv"
#: What a change is made of (vs what the pipeline produces from it).
INPUTS = ("src", "conf", "dvc.yaml", "params.yaml", "Makefile", "pyproject.toml", "uv.lock")
OUTPUTS = ("metrics", "dvc.lock")

#: Files shown first, in this order; any other metrics file follows alphabetically.
FILE_ORDER = (
    METRICS_JSON,
    CONFUSION_JSON,
    CV_JSON,
    "metrics/coefficients.json",
    "metrics/split.json",
    "metrics/features.json",
    DATA_JSON,
    "metrics/assumptions.json",
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

#: GitHub refuses comments longer than 65,536 characters.
COMMENT_LIMIT = 65_000


class ReportError(RuntimeError):
    """A git or dvc command failed, or BASE is not a revision of this repository."""


# ---------------------------------------------------------------- running git and dvc


def tool_env() -> dict[str, str]:
    """The environment for dvc/git/make: this interpreter's bin first, DVC analytics off."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=tool_env(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise ReportError(f"`{' '.join(args)}` exited {proc.returncode}:\n{proc.stderr.strip()}")
    return proc


def dvc_json(args: list[str], cwd: Path) -> Any:
    out = run(["dvc", *args, "--json"], cwd).stdout.strip()
    return json.loads(out) if out else {}


def file_at(rev: str, path: str, cwd: Path) -> str | None:
    """A committed file's text at `rev`, or None where it does not exist there."""
    proc = run(["git", "show", f"{rev}:{path}"], cwd, check=False)
    return proc.stdout if proc.returncode == 0 else None


def json_at(rev: str | None, path: str, cwd: Path) -> dict | None:
    """A JSON file at `rev`, or in the workspace when rev is None."""
    if rev is None:
        file = cwd / path
        text = file.read_text(encoding="utf-8") if file.exists() else None
    else:
        text = file_at(rev, path, cwd)
    return json.loads(text) if text else None


def short_rev(rev: str, cwd: Path) -> str:
    proc = run(["git", "rev-parse", "--short=8", f"{rev}^{{commit}}"], cwd, check=False)
    if proc.returncode != 0:
        raise ReportError(f"BASE {rev!r} is not a commit of this repository")
    return proc.stdout.strip()


# ---------------------------------------------------------------- collecting the diffs


def params_changes(base: str, cwd: Path) -> list[tuple[str, Any, Any]]:
    """(param, old, new) for every param that differs between BASE and the workspace."""
    diff = dvc_json(["params", "diff", base], cwd)
    rows = []
    for file, params in diff.items():
        prefix = "" if file == "params.yaml" else f"{file}:"
        for name, change in params.items():
            rows.append((prefix + name, change.get("old"), change.get("new")))
    return rows


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys, as `dvc metrics` does (lists are left out, as there)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, inner in value.items():
            out |= flatten(inner, f"{prefix}{key}.")
    elif not isinstance(value, list):
        out[prefix[:-1]] = value
    return out


def metrics_changes(base: str, cwd: Path) -> dict[str, dict[str, dict]]:
    """{file: {metric: {"old", "new"}}} for every metric of every metrics file, in the order
    of the workspace file (DVC's own order is arbitrary)."""
    diff = dvc_json(["metrics", "diff", base, "--all"], cwd)
    ordered = {}
    files = sorted(diff, key=lambda f: (FILE_ORDER.index(f) if f in FILE_ORDER else 99, f))
    for file in files:
        entries = diff[file]
        order = list(flatten(json_at(None, file, cwd) or {}))
        position = {k: i for i, k in enumerate(order)}
        keys = sorted(entries, key=lambda k: (position.get(k, len(order)), k))
        ordered[file] = {
            k: {"old": entries[k].get("old"), "new": entries[k].get("new")} for k in keys
        }
    return ordered


def changed_files(base: str, cwd: Path) -> list[str]:
    """Pipeline-relevant files that differ between BASE and the workspace."""
    out = run(
        ["git", "diff", "--name-only", base, "--", "src", "conf", "dvc.yaml", "params.yaml"],
        cwd,
    ).stdout
    return [line for line in out.splitlines() if line]


def pipeline_status(cwd: Path) -> dict:
    """`dvc status dvc.yaml`: empty when every stage's outputs match dvc.lock and its inputs.
    (Not the raw file's pointer, whose data is absent wherever the stand-in is used.)"""
    return dvc_json(["status", "dvc.yaml"], cwd)


def remotes(cwd: Path) -> dict[str, str]:
    """{name: url} of the configured DVC remotes."""
    out = run(["dvc", "remote", "list"], cwd).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            found[parts[0]] = parts[1]
    return found


def default_remote(cwd: Path) -> str | None:
    proc = run(["dvc", "remote", "default"], cwd, check=False)
    name = proc.stdout.strip()
    return name if proc.returncode == 0 and name and " " not in name else None


# ---------------------------------------------------------------- BASE on the same data


def rebaseline(base: str, source: str, cwd: Path) -> str:
    """Re-run the pipeline at BASE on the workspace's data source; returns the commit (in this
    repository's object store, not on any branch) that holds BASE's code with those metrics.

    A temporary git worktree of BASE shares this repository's DVC cache, so stages that this
    repository already ran with the same inputs are restored rather than recomputed."""
    tmp = Path(tempfile.mkdtemp(prefix="pr-report-base-"))
    tree = tmp / "base"
    run(["git", "worktree", "add", "--detach", str(tree), base], cwd)
    try:
        if source == "real":
            shutil.copyfile(cwd / RAW_CSV, tree / RAW_CSV)
        run(["dvc", "cache", "dir", "--local", str((cwd / ".dvc" / "cache").resolve())], tree)
        proc = run(["make", "--no-print-directory", "pipeline"], tree, check=False)
        if proc.returncode != 0:
            raise ReportError(f"re-running BASE failed:\n{proc.stdout[-2000:]}{proc.stderr}")
        run(["git", "add", "-A", "metrics", "dvc.lock", "reports", "data/raw"], tree)
        run(
            [
                "git",
                "-c",
                "user.name=pr-report",
                "-c",
                "user.email=pr-report@localhost",
                "commit",
                "-q",
                "--allow-empty",
                "--no-verify",
                "-m",
                f"pr-report: {base} re-run on the {source} data",
            ],
            tree,
        )
        commit = run(["git", "rev-parse", "HEAD"], tree).stdout.strip()
        # Keep it reachable (for `dvc plots diff` and later look-ups) without a branch.
        run(["git", "update-ref", "refs/pr-report/base", commit], cwd)
        return commit
    finally:
        run(["git", "worktree", "remove", "--force", str(tree)], cwd, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- plots


def _plot_file_stem(plot_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", plot_id).strip("_") or "plot"


def _vegalite_version(spec: dict) -> str:
    """The newest Vega-Lite that vl-convert ships within the spec's major version."""
    import vl_convert as vlc

    match = re.search(r"/v(\d+)", spec.get("$schema", ""))
    major = match.group(1) if match else "5"
    versions = [v for v in vlc.get_vegalite_versions() if v.split(".")[0] == major]
    return max(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


def static_spec(spec: dict, revisions: list[str] | None = None) -> dict:
    """A spec for a still image: toggles that a reader cannot click (DVC's confusion template
    hides the cell counts behind a `showValues` checkbox) are switched on, and the data is put
    in `revisions` order (DVC always puts the workspace first; BASE reads better on the left)."""
    spec = json.loads(json.dumps(spec))
    values = spec.get("data", {}).get("values")
    if revisions and isinstance(values, list):
        rank = {rev: i for i, rev in enumerate(revisions)}
        values.sort(key=lambda row: rank.get(row.get("rev"), len(rank)))
    for param in spec.get("params", []):
        if param.get("name") == "showValues":
            param["value"] = True
            param.pop("bind", None)
    return spec


def render_plots(base: str, out_dir: Path, cwd: Path) -> list[tuple[str, Path, Path]]:
    """(plot id, PNG, SVG) for each plot `dvc plots diff BASE` draws, BASE and workspace
    overlaid (or side by side for confusion matrices)."""
    import vl_convert as vlc

    data = dvc_json(["plots", "diff", base], cwd).get("data", {})
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered = []
    for plot_id, entries in data.items():
        for k, entry in enumerate(entries):
            if entry.get("type") != "vega":
                continue
            spec = static_spec(entry["content"], [base, "workspace"])
            version = _vegalite_version(spec)
            stem = _plot_file_stem(plot_id) + (f"-{k}" if k else "")
            png, svg = out_dir / f"{stem}.png", out_dir / f"{stem}.svg"
            png.write_bytes(vlc.vegalite_to_png(spec, vl_version=version, scale=1.5))
            svg.write_text(vlc.vegalite_to_svg(spec, vl_version=version), encoding="utf-8")
            rendered.append((plot_id, png, svg))
    return rendered


def plots_page(base: str, out_dir: Path, cwd: Path) -> tuple[Path, str]:
    """DVC's interactive plots diff page, and whether it is self-contained."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run(["dvc", "plots", "diff", base, "-o", str(out_dir)], cwd)
    page = out_dir / "index.html"
    try:
        offline_plots.verify(page.read_text(encoding="utf-8"), is_template=False)
        libs = offline_plots.inlined_libraries(page.read_text(encoding="utf-8"))
        note = "self-contained (" + ", ".join(f"{n} {v}" for n, v in libs.items()) + " inlined)"
    except offline_plots.TemplateError as exc:
        note = f"NOT self-contained, needs the network to render ({exc})"
    return page, note


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


def delta(old: Any, new: Any) -> float | int | None:
    """new - old for two numbers, rounded to the 6 significant digits the metrics carry."""
    if not (is_number(old) and is_number(new)):
        return None
    d = new - old
    if isinstance(d, int):
        return d
    return float(f"{d:.6g}")


def fmt_delta(old: Any, new: Any) -> str:
    d = delta(old, new)
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


def verdict(metric: str, old: Any, new: Any) -> str:
    """'better' / 'worse' for metrics with a known direction, else ''."""
    d = delta(old, new)
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
                fmt_delta(old, new),
                verdict(name, old, new),
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
            o = old["matrix"][i][j] if old else None
            n = new["matrix"][i][j]
            row.append(fmt_delta(o, n))
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
            [f"`{k}`", fmt(v["old"]), fmt(v["new"]), fmt_delta(v["old"], v["new"])]
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
    rendered: list[tuple[str, Path, Path]], page: Path | None, page_note: str, report_dir: Path
) -> str:
    lines = ["## Plots: BASE vs this PR (`dvc plots diff`)", ""]
    if page is not None:
        lines.append(
            f"Interactive page: [{os.path.relpath(page, report_dir)}]"
            f"({os.path.relpath(page, report_dir)}), {page_note}. The images below are "
            "rendered from the same Vega-Lite specs with vl-convert (SVG beside each PNG)."
        )
    if not rendered:
        lines.append("\nNo plots are declared in dvc.yaml.")
    for plot_id, png, _svg in rendered:
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
        remotes=remotes(cwd),
        default_remote=default_remote(cwd),
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
