"""Pull-request report, the collecting half: git and dvc run in the repository, the params and
metrics diffs against BASE, BASE re-run on the workspace's data (`rebaseline`), and the plots
diff rendered to static images and DVC's offline page. `tools.pr_report` formats them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tiktok_verified.tools import offline_plots

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
    "metrics/predictor.json",
    "metrics/split.json",
    "metrics/features.json",
    DATA_JSON,
    "metrics/assumptions.json",
)


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
    """{file: {metric: {"old", "new"[, "diff"]}}} for every metric of every metrics file, as
    `dvc metrics diff --all --json` gives them (its `diff` is new - old, kept for two numbers;
    DVC also subtracts booleans, which is dropped), in the order of the workspace file (DVC's
    own order is arbitrary)."""
    diff = dvc_json(["metrics", "diff", base, "--all"], cwd)
    ordered = {}
    files = sorted(diff, key=lambda f: (FILE_ORDER.index(f) if f in FILE_ORDER else 99, f))
    for file in files:
        entries = diff[file]
        order = list(flatten(json_at(None, file, cwd) or {}))
        position = {k: i for i, k in enumerate(order)}
        keys = sorted(entries, key=lambda k: (position.get(k, len(order)), k))
        ordered[file] = {k: dvc_change(entries[k]) for k in keys}
    return ordered


def dvc_change(entry: dict) -> dict:
    change = {"old": entry.get("old"), "new": entry.get("new")}
    if "diff" in entry and not any(isinstance(v, bool) for v in change.values()):
        change["diff"] = entry["diff"]
    return change


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


def config_list(cwd: Path) -> str:
    """`dvc config --list`: one `key=value` a line (remotes and the default remote are read
    from it, not from `dvc remote list`, whose table wraps a long URL onto the next line, and
    `dvc remote default`, a second DVC process for one key of the same listing)."""
    return run(["dvc", "config", "--list"], cwd).stdout


def remotes_in(config: str) -> dict[str, str]:
    """{name: url} of the configured DVC remotes."""
    found = {}
    for line in config.splitlines():
        m = re.match(r"remote\.([^=]+?)\.url=(.*)$", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def default_remote_in(config: str) -> str | None:
    """The default remote's name (`core.remote`), if one is set."""
    m = re.search(r"^core\.remote=(\S+)$", config, re.M)
    return m.group(1) if m else None


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
            (tree / RAW_CSV).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cwd / RAW_CSV, tree / RAW_CSV)
        run(["dvc", "cache", "dir", "--local", str((cwd / ".dvc" / "cache").resolve())], tree)
        proc = run(["make", "--no-print-directory", "pipeline"], tree, check=False)
        if proc.returncode != 0:
            raise ReportError(f"re-running BASE failed:\n{proc.stdout[-2000:]}{proc.stderr}")
        # data/raw is a DVC output (ignored by git) since the raw stage; a BASE from before
        # it tracks the course file's pointer there.
        pointer = tree / f"{RAW_CSV}.dvc"
        extra = [str(pointer.relative_to(tree))] if pointer.exists() else []
        run(["git", "add", "-A", "metrics", "dvc.lock", "reports", *extra], tree)
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


def render_plots(base: str, out_dir: Path, cwd: Path) -> list[tuple[str, Path]]:
    """(plot id, PNG) for each plot `dvc plots diff BASE` draws, BASE and workspace
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
            # PNG only: the report shows PNGs (an SVG beside each, never shown, cost 0.14 s a
            # plot under load, a quarter of the rendering)
            png = out_dir / f"{stem}.png"
            png.write_bytes(vlc.vegalite_to_png(spec, vl_version=version, scale=1.5))
            rendered.append((plot_id, png))
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
