"""End to end: the real pipeline under `dvc repro` in a temporary git repository."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import polars as pl
import pytest
import yaml

from conftest import REPO_ROOT

REPORT_FILES = (
    "reports/executive_summary.md",
    "reports/executive_summary.html",
    "reports/pace_strategy.md",
    "reports/walkthrough.ipynb",
    "reports/walkthrough.html",
)
METRIC_FILES = (
    "metrics/data.json",
    "metrics/features.json",
    "metrics/split.json",
    "metrics/coefficients.json",
    "metrics/predictor.json",
    "metrics/specifications.json",
    "metrics/metrics.json",
    "metrics/confusion_matrix.json",
    "metrics/assumptions.json",
    "metrics/cv.json",
    "metrics/plots/predictions.csv",
    "metrics/plots/roc.csv",
    "metrics/plots/precision_recall.csv",
    "metrics/plots/thresholds.csv",
    "metrics/plots/coefficients.csv",
)


def committed(rel: str) -> bytes:
    """A file as committed at HEAD of the repository under test (not as in its work tree)."""
    return subprocess.run(
        ["git", "show", f"HEAD:{rel}"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout


def load(repo, rel):
    return json.loads(repo.path(rel).read_text())


def assert_sound_outputs(repo, rows_in: int):
    data = load(repo, "metrics/data.json")
    assert data["rows_in"] == rows_in
    kept = data["rows_kept"]
    assert kept == rows_in - sum(data["rows_dropped"].values())
    assert sum(data["class_counts"].values()) == kept

    split = load(repo, "metrics/split.json")
    metrics = load(repo, "metrics/metrics.json")
    cm = load(repo, "metrics/confusion_matrix.json")
    test_rows = metrics["test"]["rows"]
    assert split["rows"]["test"] == test_rows
    # The hash split holds each video out with probability 0.25: within 4 SDs of a quarter,
    # and each class's realised share is recorded.
    assert abs(test_rows - 0.25 * kept) < 4 * (kept * 0.25 * 0.75) ** 0.5
    for label, n in data["class_counts"].items():
        held = split["class_counts"]["test"][label]
        assert split["test_share"][label] == pytest.approx(held / n, abs=1e-6)
    assert sum(map(sum, cm["matrix"])) == test_rows
    (tn, fp), (fn, tp) = cm["matrix"]
    assert cm["labels"] == ["not verified", "verified"]
    assert metrics["test"]["accuracy"] == pytest.approx((tn + tp) / test_rows, abs=1e-6)
    assert metrics["test"]["recall"] == pytest.approx(tp / (tp + fn), abs=1e-6)
    assert metrics["test"]["precision"] == pytest.approx(tp / (tp + fp), abs=1e-6)
    # Each class held out at a quarter in expectation: the test part keeps the verified share
    # of the whole table within sampling error.
    share = data["class_counts"]["verified"] / kept
    assert abs((tp + fn) / test_rows - share) < 4 * (share * (1 - share) / test_rows) ** 0.5

    train = pl.read_parquet(repo.path("data/processed/train.parquet"))
    test = pl.read_parquet(repo.path("data/processed/test.parquet"))
    assert test.height == test_rows
    assert set(train["video_id"]).isdisjoint(set(test["video_id"]))
    assert split["test_rows_whose_video_is_in_train"] == 0
    # Upsampling touched the training part only: classes balanced there, not in test.
    # (train.parquet holds each training video once, its copies as a weight.)
    assert train["video_id"].is_unique().all()
    assert (train["y"] * train["weight"]).sum() == ((1 - train["y"]) * train["weight"]).sum()
    assert train["weight"].sum() == split["rows"]["train"]
    assert test["y"].n_unique() == 2 and test["video_id"].is_unique().all()

    predictions = pl.read_csv(repo.path("metrics/plots/predictions.csv"))
    assert predictions.height == test_rows
    assert (
        predictions.filter(
            (pl.col("actual") == "verified") & (pl.col("predicted") == "verified")
        ).height
        == tp
    )
    return data, metrics, cm


@pytest.mark.e2e
def test_real_file_pipeline(real_run, real_csv):
    repo = real_run
    data, metrics, cm = assert_sound_outputs(repo, rows_in=19_382)
    assert data["source"] == "real"
    assert data["rows_kept"] == 19_084
    assert data["rows_dropped"] == {"incomplete": 298, "duplicate_video_id": 0}
    assert data["class_counts"] == {"not verified": 17_884, "verified": 1_200}
    assert data["sha256"] == hashlib.sha256(real_csv.read_bytes()).hexdigest()
    assert metrics["test"]["rows"] == 4_804  # the hash split of the course file's 19,084
    assert 0.5 < metrics["test"]["accuracy"] < 0.75
    assert 0.7 < metrics["test"]["recall"] < 0.95
    assert 0.07 < metrics["test"]["precision"] < 0.2

    # A second `dvc repro` right after finds nothing to do.
    again = repo.pipeline()
    assert "Data and pipelines are up to date." in again.stdout
    assert "Running stage" not in again.stdout

    # The committed metrics, reports, rendered notebook and dvc.lock are exactly what the
    # committed code produces on the real file: the work tree of the run is clean.
    for rel in (*METRIC_FILES, *REPORT_FILES):
        assert repo.path(rel).read_bytes() == committed(rel), rel
    assert repo.path("dvc.lock").read_bytes() == committed("dvc.lock")
    assert repo.run("git", "status", "--porcelain", "--untracked-files=no").stdout == ""

    # Nothing of the data or model lands in git.
    status = repo.run("git", "status", "--porcelain", "--ignored").stdout
    for line in status.splitlines():
        if line.startswith(("??", " M", "M ", "A ")):
            assert not line.endswith((".parquet", ".skops", ".csv")), line


@pytest.mark.e2e
@pytest.mark.browser
def test_reports_and_notebook_from_the_real_run(real_run, tmp_path):
    """The pipeline renders the walkthrough: the executed copy holds every output, says what
    the summary says, and the standalone HTML shows every table and figure in a browser."""
    repo = real_run
    metrics = load(repo, "metrics/metrics.json")
    summary = repo.path("reports/executive_summary.md").read_text()
    assert "SYNTHETIC" not in summary
    assert repo.path("reports/executive_summary.html").stat().st_size > 5_000
    assert "## Execute" in repo.path("reports/pace_strategy.md").read_text()

    notebook = json.loads(repo.path("reports/walkthrough.ipynb").read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] for c in code)  # every code cell ran and shows something
    assert all(c["execution_count"] == k for k, c in enumerate(code, start=1))
    assert not any("execution" in c.get("metadata", {}) for c in code)  # no timestamps
    texts = "".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
        for c in code
        for o in c["outputs"]
    )
    first_results = summary[summary.index("## Results") :].split("\n\n")[1]
    assert first_results in texts  # the notebook says what the summary says
    assert f"{metrics['test']['rows']:,} held-out videos" in texts
    html = repo.path("reports/walkthrough.html").read_text()
    assert "<script" not in html and not re.findall(r"https?://(?!www\.w3\.org)", html)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("headless Chromium not installed (.ci/run installs it)")
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         repo.path("reports/walkthrough.html").as_uri()],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    # Tables are Markdown (whole sentences, no dtype rows), rendered as HTML tables.
    tables = sum(
        1
        for c in code
        for o in c["outputs"]
        if "|---" in "".join(o.get("data", {}).get("text/markdown", ""))
        or "text/html" in o.get("data", {})
    )
    figures = sum(1 for c in code for o in c["outputs"] if "image/svg+xml" in o.get("data", {}))
    assert dom.count("<table") >= tables >= 8
    assert dom.count("data:image/svg+xml;base64,") == figures == 2


@pytest.mark.e2e
def test_synthetic_stand_in_pipeline(standin_copy):
    """The stand-in end to end (the session's shared run, conftest.shared_run). That a clean run
    gives the same bytes again is test_real_file_pipeline's check (every output as committed)
    and test_synthetic.py::test_seeded's (the same stand-in from the same seed); a second whole
    run here cost a third of this file's time."""
    repo = standin_copy
    assert "SYNTHETIC" in repo.path("reports/executive_summary.md").read_text()
    data, metrics, _ = assert_sound_outputs(repo, rows_in=19_382)
    assert data["source"] == "synthetic"
    assert data["path"].startswith("synthetic(")
    # Every report and the rendered notebook carry the banner.
    for rel in REPORT_FILES:
        assert "SYNTHETIC DATA" in repo.path(rel).read_text(), rel
    # The stand-in resembles the course file: ~6% verified, ~1.5% incomplete rows.
    assert 0.04 < data["class_counts"]["verified"] / data["rows_kept"] < 0.09
    assert 200 < data["rows_dropped"]["incomplete"] < 400
    assert 0.4 < metrics["test"]["accuracy"] < 0.9
    assert metrics["test"]["recall"] > 0.5
    again = repo.pipeline()
    assert "Running stage" not in again.stdout

    # A dvc.lock that already matches the stand-in (committed from a synthetic run) must still
    # produce every output when they are missing, as in a fresh clone.
    repo.commit("synthetic run")
    for rel in ("data/interim", "data/processed", "models"):
        shutil.rmtree(repo.path(rel))
    repo.pipeline()
    assert repo.path("models/model.skops").exists()
    assert load(repo, "metrics/metrics.json") == metrics


def test_stages_are_listed_in_topological_order():
    """`make pipeline` without the course file runs the stages in dvc.yaml's order."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    produced: set[str] = set()
    for name, stage in stages.items():
        for dep in stage.get("deps", []):
            later = [
                other
                for other, s in stages.items()
                if other != name and any(_out_path(o) == dep for o in _outs(s))
            ]
            for other in later:
                assert _out_path_set(stages[other]) <= produced, (name, other)
        produced |= _out_path_set(stage)


def _outs(stage: dict) -> list:
    return [*stage.get("outs", []), *stage.get("metrics", []), *stage.get("plots", [])]


def _out_path(out) -> str:
    return out if isinstance(out, str) else next(iter(out))


def _out_path_set(stage: dict) -> set[str]:
    return {_out_path(o) for o in _outs(stage)}
