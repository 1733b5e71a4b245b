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
from tiktok_verified.reporting.findings import label, provenance
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
        assert f"flags {cm['true_positive'] + cm['false_positive']:,} of {t['rows']:,}" in text
        assert f"on {rule['agrees_with_model']:,} of the {t['rows']:,}" in text
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
    g = m["predictive_gain"]["roc_auc"]
    assert f"ROC AUC {g['model']:.3f} against {g['claim_status_alone']:.3f}" in md
    assert f"difference {g['difference']:+.3f} (95% CI {g['ci_low']:+.3f}" in md
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


NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?")
#: Numbers that are units or conventions, not results.
CONVENTIONS = {"95%", "10,000", "1", "0", "5"}


def leaves(value, path: str = "") -> list[tuple[str, float]]:
    """Every number in a metrics document with its key path (e.g. metrics.test.roc_auc)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [(path, value)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in leaves(v, f"{path}[{i}]")]
    return []


def renderings(token: str, value: float) -> bool:
    """Whether `value` prints as `token` at the token's own precision (×100 for a %)."""
    text = token.replace(",", "")
    percent = text.endswith("%")
    text = text.rstrip("%")
    digits = len(text.split(".")[1]) if "." in text else 0
    shown = 100 * value if percent else value
    return f"{shown:.{digits}f}" in (text, text.lstrip("+")) or (f"{shown:+.{digits}f}" == text)


def number_keys(text: str, inp: Inputs) -> dict[str, list[str]]:
    """Each number in `text` (the provenance's hashes aside) with the keys it prints from;
    an empty list is a number typed by hand."""
    cm, specs = inp.confusion, inp.specifications["specifications"]
    derived = {
        "confusion.flagged": cm["true_positive"] + cm["false_positive"],
        "split.train_share": 1 - inp.split["test_size"],
        "specifications.log_counts.aic - configured.aic": specs["log_counts"]["aic"]
        - specs["configured"]["aic"],
        "features.predictors (count)": len(inp.features["predictors"]),
        "coefficients (count)": len(inp.coefficients["inference"]["coefficients"]),
    }
    sources = [(k, v) for k, v in derived.items()]
    for name in ("data", "features", "split", "metrics", "confusion", "coefficients",
                 "specifications", "assumptions", "cv"):  # fmt: skip
        sources += leaves(getattr(inp, name), name)
    sources += leaves(inp.params, "params")
    text = text.replace(provenance(inp), "")
    for check in inp.assumptions["checks"].values():  # the rules, as metrics state them
        text = text.replace(check["rule"], "")
    out = {}
    for token in NUMBER.findall(text.replace("−", "-")):
        if token in CONVENTIONS:
            continue
        out[token] = [k for k, v in sources if renderings(token, v)]
    return out


def test_every_number_is_tied_to_the_key_it_comes_from(built):
    """Each number in the summary and the PACE answers prints, at its own precision, from a
    key of the metrics files (or a named sum or difference of them); and the check fails on a
    number typed by hand."""
    inp, out = built
    for name in ("executive_summary.md", "pace_strategy.md"):
        keys = number_keys((out / name).read_text(), inp)
        assert keys, name
        typed = [token for token, where in keys.items() if not where]
        assert not typed, f"{name}: numbers from no metrics key: {typed}"
    # Some ties, by name.
    md = (out / "executive_summary.md").read_text()
    g = inp.metrics["predictive_gain"]["roc_auc"]
    keys = number_keys(md, inp)
    assert "metrics.predictive_gain.roc_auc.difference" in keys[f"{g['difference']:+.3f}"]
    assert (
        "data.incomplete_rows.verified_share"
        in keys[f"{100 * inp.data['incomplete_rows']['verified_share']:.1f}%"]
    )  # noqa: E501
    # A number typed by hand is caught.
    planted = md.replace("**Answer.**", "**Answer.** About 0.912 of them, or 97.3%,")
    typed = [t for t, where in number_keys(planted, inp).items() if not where]
    assert typed == ["0.912", "97.3%"]


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
    assert "calibrated threshold of" not in readme  # no audit target it misses
    coefficients = json.loads((METRICS / "coefficients.json").read_text())["inference"]
    opinion = coefficients["coefficients"]["claim_status_opinion"]
    assert f"fit on the {coefficients['rows']:,} training videos" in readme
    assert (
        f"{opinion['odds_ratio']:.2f} times the odds of a\n  verified author (95% CI "
        f"{opinion['odds_ratio_ci_low']:.2f} to {opinion['odds_ratio_ci_high']:.2f})"
    ) in readme
    gain = metrics["predictive_gain"]["roc_auc"]
    assert f"ROC AUC {gain['model']:.3f} against {gain['claim_status_alone']:.3f}" in readme
    assert f"difference of {gain['ci_low']:.3f} to {gain['ci_high']:+.3f}" in readme
    specs = json.loads((METRICS / "specifications.json").read_text())
    configured, logged = (specs["specifications"][k] for k in ("configured", "log_counts"))
    assert f"change AIC by {logged['aic'] - configured['aic']:+.1f}" in readme
    assert (
        f"from {configured['cv_roc_auc']:.3f} to {logged['cv_roc_auc']:.3f} "
        f"(± {logged['cv_roc_auc_std']:.3f})" in readme
    )
    assert f"(likelihood-ratio p = {specs['interactions_lr_test']['p_value']:.2f})" in readme
