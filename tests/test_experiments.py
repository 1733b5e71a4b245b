"""Experiments and review, end to end in throwaway git repositories: the pull-request report
of a param change, BASE re-run on the workspace's data, a DVC remote round trip, and a queued
sweep; plus every config group option training in process."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import standin as synthetic
from tiktok_verified.data.features import build_features
from tiktok_verified.modeling import design as design_lib
from tiktok_verified.modeling.fit import coefficient_table, fit
from tiktok_verified.modeling.split import make_split
from tiktok_verified.tools import offline_plots
from tiktok_verified.tools.compose import compose_text
from tiktok_verified.tools.pr_diffs import flatten

from conftest import PipelineRepo, compose_params, shared_run, tool_env

# ------------------------------------------------------------------ every option trains


@pytest.fixture(scope="module")
def videos():
    return ingest.ingest_bytes(synthetic.csv_bytes(4_000, seed=5), "stand-in").frame


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=l2"],
        ["model=l1"],
        ["model=elasticnet"],
        ["model=unpenalized"],
        ["model=l1", "model.C=0.1"],
        ["model=elasticnet", "model.l1_ratio=0.2", "model.C=0.01"],
        ["resample=none"],
        ["resample=downsample"],
        ["resample=class_weight"],
        ["resample=exemplar"],
        ["features=all_counts"],
        ["features=no_text"],
    ],
)
def test_every_option_trains_and_converges(videos, overrides):
    params = compose_params(*overrides)
    features = build_features(videos, params.features).collect()
    split = make_split(features, params)
    pipeline, info = fit(split.train, params)
    assert info["converged"], overrides
    assert info["iterations"] < params.model.max_iter
    coefs = coefficient_table(pipeline)["coefficients"]
    assert all(abs(c["coef"]) < 50 for c in coefs.values())  # no separation blow-up
    proba = pipeline.predict_proba(design_lib.design(split.test, params.features))[:, 1]
    assert 0 < proba.min() <= proba.max() < 1


def test_l1_penalty_zeroes_coefficients_that_l2_keeps(videos):
    def coefficients(*overrides):
        params = compose_params(*overrides)
        split = make_split(build_features(videos, params.features).collect(), params)
        return coefficient_table(fit(split.train, params)[0])["coefficients"]

    lasso = coefficients("model=l1", "model.C=0.005")
    ridge = coefficients("model=l2", "model.C=0.005")
    assert any(c["coef"] == 0.0 for c in lasso.values())
    assert all(c["coef"] != 0.0 for c in ridge.values())


# ------------------------------------------------------------------ throwaway repositories


def small_standin_run(repo: PipelineRepo) -> None:
    # A smaller stand-in keeps these tests quick; the pipeline is the same.
    data = repo.path("conf/data/course.yaml")
    data.write_text(data.read_text().replace("synthetic_rows: 19382", "synthetic_rows: 4000"))
    repo.run("python", "-m", "tiktok_verified.tools.compose")
    repo.pipeline()
    repo.commit("baseline run")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> PipelineRepo:
    """A repository with the default pipeline run on the synthetic stand-in, committed on main,
    built once per session for every xdist worker (conftest.shared_run). Tests work in clones
    that share its DVC cache, so unchanged stages come from the cache."""
    return shared_run(tmp_path_factory, "baseline", small_standin_run)


def clone(baseline: PipelineRepo, tmp_path: Path) -> PipelineRepo:
    """A git clone sharing the baseline's DVC cache (outputs not checked out)."""
    dest = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(baseline.root), str(dest)], check=True)
    repo = PipelineRepo(dest, tool_env(tmp_path))
    repo.dvc("cache", "dir", "--local", str(baseline.path(".dvc/cache")))
    return repo


def committed_json(repo: PipelineRepo, rev: str, rel: str) -> dict:
    return json.loads(repo.run("git", "show", f"{rev}:{rel}").stdout)


def workspace_json(repo: PipelineRepo, rel: str) -> dict:
    return json.loads(repo.path(rel).read_text())


def table_rows(markdown: str) -> dict[str, list[str]]:
    """`| \\`key\\` | a | b | c |` rows of a Markdown section, by key."""
    rows = {}
    for line in markdown.splitlines():
        m = re.match(r"\| `([^`]+)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split(" | ")]
    return rows


def section(markdown: str, start: str, end: str) -> str:
    return markdown[markdown.index(start) : markdown.index(end, markdown.index(start))]


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


@pytest.mark.e2e
def test_pr_report_shows_the_param_change_and_signed_deltas(baseline, tmp_path):
    repo = clone(baseline, tmp_path)
    repo.run("git", "checkout", "-q", "-b", "stronger-penalty")
    conf = repo.path("conf/model/l2.yaml")
    conf.write_text(conf.read_text().replace("\nC: 1.0\n", "\nC: 0.0001\n"))
    repo.run("python", "-m", "tiktok_verified.tools.compose")  # what `make params` runs
    proc = repo.run("make", "--no-print-directory", "pr-compare", "BASE=main")
    assert "pr_report: wrote reports/pr_report.md" in proc.stdout
    report = repo.path("reports/pr_report.md").read_text()

    assert "| `model.C` | 1 | 0.0001 |" in report
    assert "Pipeline reproduced" in report and "not reproduced" not in report
    assert "**SYNTHETIC stand-in**" in report and "No DVC remote is configured" in report

    # Every metrics.json value: BASE as committed on main, the PR's as in the workspace, and
    # the delta with the sign of new - old.
    old = flatten(committed_json(repo, "main", "metrics/metrics.json"))
    new = flatten(workspace_json(repo, "metrics/metrics.json"))
    rows = table_rows(section(report, "<code>metrics/metrics.json</code>", "</details>"))
    assert set(rows) == set(old) == set(new)
    moved = 0
    for key, (shown_old, shown_new, shown_delta) in rows.items():
        if isinstance(new[key], bool) or not isinstance(new[key], int | float):
            assert (shown_old, shown_new) == (
                json.dumps(old[key]).strip('"'),
                json.dumps(new[key]).strip('"'),
            )
            continue
        assert number(shown_old) == pytest.approx(old[key], rel=1e-5), key
        assert number(shown_new) == pytest.approx(new[key], rel=1e-5), key
        diff = new[key] - old[key]
        if diff == 0:
            assert shown_delta == "0", key
        else:
            moved += 1
            assert shown_delta[0] == ("+" if diff > 0 else "-"), (key, shown_delta)
            assert number(shown_delta) == pytest.approx(diff, rel=1e-3, abs=1e-6), key
    assert moved >= 4
    # C = 0.0001 shrinks every coefficient towards 0: predictions crowd at the base rate of the
    # balanced training part, so the held-out log loss rises and the headline says "worse".
    assert new["test.log_loss"] > old["test.log_loss"]
    assert re.search(r"\| log_loss \| [\d.]+ \| [\d.]+ \| \+[\d.]+ \| worse \|", report)

    # Confusion matrix before (main) and after (workspace).
    cm_text = section(report, "## Confusion matrix", "## Plots")
    for label, cm in (
        ("**Before**", committed_json(repo, "main", "metrics/confusion_matrix.json")),
        ("**After**", workspace_json(repo, "metrics/confusion_matrix.json")),
    ):
        part = cm_text[cm_text.index(label) :]
        (tn, fp), (fn, tp) = cm["matrix"]
        assert f"| **not verified** | {tn:,} | {fp:,} |" in part
        assert f"| **verified** | {fn:,} | {tp:,} |" in part

    # The plots diff: one image per plot dvc.yaml declares, and the offline interactive page.
    declared = [next(iter(p)) for p in yaml.safe_load(repo.path("dvc.yaml").read_text())["plots"]]
    for name in declared:
        png = repo.path(f"reports/pr_plots/static/{name}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"![{name}](pr_plots/static/{name}.png)" in report
    page = repo.path("reports/pr_plots/index.html").read_text(encoding="utf-8")
    offline_plots.verify(page, is_template=False)
    assert "self-contained (vega " in report

    # params.yaml is still exactly what conf/ composes to; the report files stay out of git.
    assert repo.path("params.yaml").read_text() == compose_text(repo.path("conf"))
    status = repo.run("git", "status", "--porcelain").stdout
    assert "pr_report" not in status and "pr_plots" not in status

    # BASE re-run on the workspace's data (what CI does when BASE's metrics came from other
    # data): same data here, so exactly the same comparison.
    repo.commit("C = 0.0001")
    repo.run(
        "python", "-m", "tiktok_verified.tools.pr_report", "--base", "main",
        "--rebaseline", "always", "--out", "reports/rebased.md", "--plots-dir",
        "reports/rebased_plots",
    )  # fmt: skip
    rebased = repo.path("reports/rebased.md").read_text()
    assert "re-run here on this PR's data" in rebased
    headline = "## Held-out metrics"
    assert section(rebased, headline, "## Confusion") == section(report, headline, "## Confusion")
    assert repo.run("git", "worktree", "list").stdout.count("\n") == 1  # temporary one removed


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.e2e
def test_dvc_remote_round_trip_of_data_and_model(baseline, tmp_path):
    repo = clone(baseline, tmp_path)  # dvc.lock names the baseline's outputs, in its cache
    # A raw file to track (the course file's place), beside the stage outputs and the model.
    raw = "data/raw/tiktok_dataset.csv"
    synthetic.write_csv(repo.path(raw), 500, seed=9)
    repo.dvc("repro", "raw")  # the raw stage caches data/raw/
    tracked = [
        "data/interim/videos.parquet",
        "data/processed/features.parquet",
        "data/processed/train.parquet",
        "data/processed/test.parquet",
        "models/model.skops",
    ]
    before = {rel: sha256(baseline.path(rel)) for rel in tracked} | {raw: sha256(repo.path(raw))}

    remote = tmp_path / "dvc-remote"
    repo.dvc("remote", "add", "-d", "storage", str(remote))
    pushed = repo.dvc("push")
    assert re.search(r"\d+ files? pushed", pushed.stdout), pushed.stdout
    assert sum(1 for p in remote.rglob("*") if p.is_file()) >= len(before)

    # A fresh machine: empty cache, no outputs, no raw file.
    repo.dvc("cache", "dir", "--local", str(tmp_path / "fresh-cache"))
    repo.path(raw).unlink()
    assert not repo.path("models").exists()
    repo.dvc("pull")
    assert {rel: sha256(repo.path(rel)) for rel in before} == before
