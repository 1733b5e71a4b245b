"""The reports say exactly what the metrics files say, and look right in a browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tiktok_verified.files import md5_file
from tiktok_verified.reporting.documents import write_reports
from tiktok_verified.reporting.findings import label
from tiktok_verified.reporting.inputs import INPUT_FILES, Inputs

from conftest import REPO_ROOT

METRICS = REPO_ROOT / "metrics"
PARAMS = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def build(metrics: Path, out: Path) -> Inputs:
    return write_reports(metrics, out, PARAMS)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Inputs, Path]:
    out = tmp_path / "reports"
    return build(METRICS, out), out


def synthetic_metrics(tmp_path: Path) -> Path:
    metrics = tmp_path / "metrics"
    shutil.copytree(METRICS, metrics)
    data = json.loads((metrics / "data.json").read_text())
    data["source"] = "synthetic"
    data["path"] = "synthetic(rows=19382, seed=0)"
    (metrics / "data.json").write_text(json.dumps(data))
    return metrics


def test_numbers_are_the_metrics_files(built):
    inp, out = built
    md = (out / "executive_summary.md").read_text()
    html = (out / "executive_summary.html").read_text()
    t, m = inp.metrics["test"], inp.metrics
    rule, none = m["opinion_rule"]["test"], m["no_skill"]["test"]
    cm = inp.confusion
    results = md[md.index("## Results") :]
    first = results.split("\n\n")[1]
    # The first paragraph of results: what the model does against both baselines.
    for text in (first, html):
        assert f"flags {cm['true_positive'] + cm['false_positive']:,} as likely" in text
        assert f"on {rule['agrees_with_model']:,} of the {t['rows']:,}" in text
        assert f"ROC AUC {t['roc_auc']:.3f} vs {rule['roc_auc']:.3f}" in text
        assert f"right {100 * none['accuracy']:.1f}% of the time" in text
        assert (
            f"accuracy {100 * rule['accuracy']:.1f}% vs the model's {100 * t['accuracy']:.1f}%"
            in text
        )
    svg = (out / "figures" / "confusion_matrix.svg").read_text()
    for count in (
        cm["true_negative"],
        cm["false_positive"],
        cm["false_negative"],
        cm["true_positive"],
    ):
        assert f">{count:,}<" in svg
        assert f">{count:,}<" in html  # the figure is inlined
    r = m["calibration"]["recommended"]
    assert f"at least {r['threshold']:g}" in md
    assert f"{r['test']['flagged_per_10k']:,.0f} flagged" in md
    for check in inp.assumptions["checks"].values():
        assert f"| {check['name']} | {check['verdict']} |" in md
    assert inp.data["sha256"][:16] in md


def test_only_associations_that_survive_holm_are_claimed(built):
    """A predictor is called an association only if it survives Holm; every other predictor
    with an unadjusted p < 0.05 is shown with its Holm p; marginal and conditional are named."""
    inp, out = built
    md = (out / "executive_summary.md").read_text()
    found = inp.coefficients["associations"]
    coefs = inp.coefficients["inference"]["coefficients"]
    claimed = re.findall(r"^- \*\*(.+?)\*\*: OR", md, re.M)
    assert [c.lower() for c in claimed] == [label(n).lower() for n in found["survive_holm"]]
    for name, c in coefs.items():
        if name not in found["survive_holm"] and c["p_value"] < 0.05:
            assert f"{label(name)} unadjusted" in md, name
    joint = found["joint_test_besides_claim_status"]
    assert f"χ² = {joint['statistic']:.1f}, {joint['df']} df" in md
    assert "with the other predictors held fixed" in md and "alone" in md
    for banned in ("PASS", "finds 81% of verified authors", "as context, not as a decision",
                   "odds ratios from the fitted model"):  # fmt: skip
        assert banned not in md


def test_provenance_names_the_inputs_as_dvc_lock_does(built):
    """The summary names each metrics file's md5 (what dvc.lock records for the report
    stage's deps) and the params it was made with, never a git commit."""
    inp, out = built
    md = (out / "executive_summary.md").read_text()
    for name in INPUT_FILES.values():
        assert f"{name.removesuffix('.json')} {md5_file(METRICS / name)[:8]}" in md
    assert f"model {PARAMS['model']['name']}" in md
    assert f"resample {PARAMS['resample']['strategy']}" in md
    assert "commit" not in md
    lock = yaml.safe_load((REPO_ROOT / "dvc.lock").read_text())
    locked = {d["path"]: d["md5"] for d in lock["stages"]["report"]["deps"]}
    for name in INPUT_FILES.values():
        assert locked[f"metrics/{name}"] == md5_file(METRICS / name), name


def test_no_number_is_typed_by_hand(built):
    """Every number of 3+ digits in the summary comes from the inputs (or is a sum of
    confusion-matrix cells: flagged = TP + FP, verified = TP + FN)."""
    inp, out = built
    md = (out / "executive_summary.md").read_text()
    cm = inp.confusion
    tp = cm["true_positive"]
    derived = [tp + cm["false_positive"], tp + cm["false_negative"]]
    # Per-10,000 figures (10,000 is the unit) are shown rounded to whole videos.
    derived += [
        10_000,
        *(round(v) for v in inp.metrics["calibration"]["recommended"]["test"].values()),
    ]
    sources = json.dumps(
        [
            derived,
            inp.data,
            inp.metrics,
            inp.confusion,
            inp.coefficients,
            inp.assumptions,
            inp.cv,
            inp.split,
            inp.features,
            inp.specifications,
        ]
    )
    for number in set(re.findall(r"(?<![\d.])\d{3,}(?![\d.])", md.replace(",", ""))):
        hashes = [inp.data["sha256"], *inp.md5.values()]
        assert number in sources.replace(",", "") or any(number in h for h in hashes), number


def test_synthetic_banner_exactly_when_synthetic(built, tmp_path):
    _, out = built
    for name in ("executive_summary.md", "executive_summary.html", "pace_strategy.md"):
        assert "SYNTHETIC" not in (out / name).read_text()
    synth_out = tmp_path / "synth"
    inp = build(synthetic_metrics(tmp_path), synth_out)
    assert inp.synthetic
    md = (synth_out / "executive_summary.md").read_text()
    assert md.startswith("> **SYNTHETIC DATA")
    html = (synth_out / "executive_summary.html").read_text()
    assert html.index("class='banner'") < html.index("<h1>")
    assert (synth_out / "pace_strategy.md").read_text().startswith("> **SYNTHETIC DATA")


def test_html_is_self_contained(built):
    _, out = built
    html = (out / "executive_summary.html").read_text()
    assert "<script" not in html and "<link" not in html and " src=" not in html
    assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", html)


def test_pace_answers_cover_every_stage_with_figures(built):
    inp, out = built
    pace = (out / "pace_strategy.md").read_text()
    for heading in ("## Plan", "## Analyze", "## Construct", "## Execute"):
        assert heading in pace
    assert f"{inp.data['rows_in']:,} rows" in pace
    assert f"{inp.confusion['false_positive']:,} false positives" in pace


def test_committed_reports_match_the_committed_metrics(tmp_path):
    """reports/ were regenerated, byte for byte, from the metrics and params committed."""
    inp = build(METRICS, tmp_path)
    for name in ("executive_summary.md", "executive_summary.html", "pace_strategy.md"):
        assert (REPO_ROOT / "reports" / name).read_bytes() == (tmp_path / name).read_bytes()
    assert inp.metrics["test"]["rows"] > 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (.ci/run installs it)"
)
def test_html_prints_to_one_page_and_renders(built, tmp_path):
    _, out = built
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = (out / "executive_summary.html").resolve().as_uri()
    pdf, png = tmp_path / "page.pdf", tmp_path / "page.png"
    subprocess.run(
        [*flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pages = re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())
    assert len(pages) == 1
    subprocess.run(
        [*flags, "--hide-scrollbars", "--window-size=794,1123", f"--screenshot={png}", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert png.stat().st_size > 50_000  # text and figures, not a blank page


def test_readme_results_match_the_metrics():
    readme = (REPO_ROOT / "README.md").read_text()
    metrics = json.loads((METRICS / "metrics.json").read_text())
    test, rule = metrics["test"], metrics["opinion_rule"]["test"]
    none = metrics["no_skill"]["test"]
    cm = json.loads((METRICS / "confusion_matrix.json").read_text())["matrix"]
    names = {"accuracy": "accuracy", "precision": "precision, verified",
             "recall": "recall, verified", "balanced_accuracy": "balanced accuracy",
             "roc_auc": "ROC AUC"}  # fmt: skip
    for key, name in names.items():
        row = f"| {name} | {test[key]:.3f} | {rule[key]:.3f} | {none[key]:.3f} |"
        assert row in readme, row
    assert f"| **not verified** | {cm[0][0]:,} | {cm[0][1]:,} |" in readme
    assert f"| **verified** | {cm[1][0]:,} | {cm[1][1]:,} |" in readme
    assert f"held-out ({test['rows']:,} videos)" in readme
    assert f"on {rule['agrees_with_model']:,} of the {test['rows']:,} held-out videos" in readme
    joint = json.loads((METRICS / "coefficients.json").read_text())["associations"][
        "joint_test_besides_claim_status"
    ]
    assert f"χ² = {joint['statistic']:.1f}, {joint['df']} df, p = {joint['p_value']:.2f}" in readme
    rec = metrics["calibration"]["recommended"]
    assert f"threshold of {rec['threshold']:g} flags" in readme
    assert f"{rec['test']['flagged_per_10k']:,.0f} of every 10,000" in readme
