"""Each conclusion's wording is chosen by a computed check: data are planted on which the check
flips, computed by the pipeline's own functions, and the sentence must flip with it.

The planted rows go through the same computations as the pipeline (inference, associations,
the specification comparison with its sensitivity table, the paired bootstrap, the calibration
test, the disclosure of dropped rows); the results replace the committed metrics' blocks in
`Inputs`, and the sentences are built from them as the reports build theirs."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest
import yaml

from tiktok_verified.config import Features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import associations, gain, inference
from tiktok_verified.modeling import specification as spec
from tiktok_verified.reporting import findings
from tiktok_verified.reporting.inputs import load_inputs
from tiktok_verified.reporting.render import to_markdown
from tiktok_verified.reporting.summary import executive_summary, recommendations

from conftest import REPO_ROOT

CFG = Features(
    name="planted",
    numeric=("video_view_count", "video_share_count"),
    categorical=("claim_status",),
    text=(),
    cap_iqr=(),
    iqr_factor=1.5,
)


@pytest.fixture(scope="module")
def committed():
    return load_inputs(
        REPO_ROOT / "metrics", yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    )


def planted_rows(n: int, seed: int, logit) -> pl.DataFrame:
    """Opinion videos draw fewer views; shares are lognormal (a long tail), tracking views;
    the outcome's log-odds are `logit(opinion, z_views, log_shares)`."""
    rng = np.random.default_rng(seed)
    opinion = rng.random(n) < 0.5
    z_views = -1.0 * opinion + rng.normal(0, 1, n)
    log_shares = 5 + 0.5 * z_views + rng.normal(0, 2.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit(opinion, z_views, log_shares)))).astype(np.int8)
    return pl.DataFrame(
        {
            "video_id": np.arange(n),
            Y: y,
            "video_view_count": np.round(1000 * (z_views + 8)),
            "video_share_count": np.round(np.exp(log_shares)),
            "claim_status": np.where(opinion, "opinion", "claim"),
        }
    )


def with_rows(inp, rows: pl.DataFrame, cfg: Features = CFG):
    """`inp` with its inference, associations and specification comparison computed on
    `rows` (the statistics stage's computations)."""
    stats = inference.coefficient_inference(rows, cfg)
    found = associations.describe(stats, rows, cfg)
    return dataclasses.replace(
        inp,
        coefficients={"inference": stats, "associations": found},
        specifications=spec.compare(rows, rows, cfg, seed=0),
    )


# --- "nothing detectable" against a predictor that survives Holm under log counts ------------


def test_nothing_detectable_disappears_when_log_shares_survive_holm(committed):
    null = planted_rows(4_000, 1, lambda o, v, s: -2.5 + 1.5 * o)
    logged = planted_rows(4_000, 1, lambda o, v, s: -2.5 + 1.5 * o + 0.15 * (s - 5))
    quiet, loud = with_rows(committed, null), with_rows(committed, logged)

    check = findings.beyond_claim_status_check(quiet)
    assert set(check) == {"configured", "uncapped", "log_counts"} and not any(check.values())
    sentence = findings.beyond_claim_status_sentence(quiet)
    assert "nothing detectable beyond claim status in every specification" in sentence

    check = findings.beyond_claim_status_check(loud)
    assert check["log_counts"]
    row = loud.specifications["sensitivity"]["log_counts"]
    assert "log_video_share_count" in row["survive_holm"]
    sentence = findings.beyond_claim_status_sentence(loud)
    assert "in every specification" not in sentence
    assert "log shares survives Holm" in sentence
    bullets = " ".join(findings.associations(loud))
    assert "nothing detectable beyond claim status in every specification" not in bullets
    # The sensitivity table shows it, row by row.
    header, rows = findings.sensitivity_table(loud)
    assert [r[0] for r in rows] == ["as configured", "uncapped", "log counts"]
    assert rows[0][2] == rows[1][2] == "none" and rows[2][2].startswith("log shares")
    assert "The specifications disagree" in sentence


# --- confounding by claim status against suppression among counts --------------------------


def test_reversal_is_confounding_or_suppression_as_the_claim_only_fit_says(committed):
    # Shares stand in for claim status: alone they go with lower odds (opinion videos have
    # fewer), with claim status held fixed they raise them: confounding.
    rng = np.random.default_rng(2)
    n = 4_000
    opinion = rng.random(n) < 0.5
    z_shares = -2.0 * opinion + rng.normal(0, 1, n)
    z_views = rng.normal(0, 1, n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-3.5 + 3.0 * opinion + 0.3 * z_shares)))
    confounded = pl.DataFrame(
        {
            "video_id": np.arange(n),
            Y: y.astype(np.int8),
            "video_view_count": np.round(1000 * (z_views + 8)),
            "video_share_count": np.round(1000 * (z_shares + 8)),
            "claim_status": np.where(opinion, "opinion", "claim"),
        }
    )
    # Shares track views, views lower the odds, shares (views fixed) raise them: the reversal
    # needs views in the model, claim status alone does not turn it: suppression.
    z_views = -0.5 * opinion + rng.normal(0, 1, n)
    z_shares = z_views + rng.normal(0, 0.5, n)
    y = rng.random(n) < 1 / (1 + np.exp(-(-2.5 + 0.5 * opinion - 1.2 * z_views + 0.7 * z_shares)))
    suppressed = confounded.with_columns(
        pl.Series(Y, y.astype(np.int8)),
        pl.Series("video_view_count", np.round(1000 * (z_views + 8))),
        pl.Series("video_share_count", np.round(1000 * (z_shares + 8))),
    )
    a, b = with_rows(committed, confounded), with_rows(committed, suppressed)
    name = "video_share_count"
    assert a.coefficients["associations"]["marginal"][name]["reversed"]
    assert b.coefficients["associations"]["marginal"][name]["reversed"]
    assert findings.reversal_check(a, name) == "confounding"
    assert findings.reversal_check(b, name) == "suppression"
    assert "confounding by claim status" in findings.reversal_sentence(a, name)
    assert "suppression" not in findings.reversal_sentence(a, name)
    assert "suppression among the correlated counts" in findings.reversal_sentence(b, name)
    assert "confounding" not in findings.reversal_sentence(b, name)
    # "Not a finding" is said only where it survives Holm in no specification.
    for inp in (a, b):
        where = findings.survives_in(inp, name)
        text = findings.reversal_sentence(inp, name)
        assert ("survives Holm in no specification" in text) == (not where)


# --- predictive gain, the answer and the first recommendation -------------------------------


def planted_gain(committed, informative: bool, calibrated: bool = True):
    rng = np.random.default_rng(5)
    n = 5_000
    opinion = (rng.random(n) < 0.5).astype(np.int64)
    x = rng.normal(0, 1, n)
    logit = -3 + 1.5 * opinion + (1.5 * x if informative else 0)
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(np.int64)
    train = test = _scored(y, p, opinion)
    q = p if calibrated else np.clip(2.5 * p, 0, 0.99)
    metrics = dict(committed.metrics)
    metrics["predictive_gain"] = gain.versus_claim_status(train, test, q, seed=0)
    metrics["calibration"] = {
        **committed.metrics["calibration"],
        "test_of_fit": gain.calibration_test(y, q),
    }
    return dataclasses.replace(committed, metrics=metrics)


def _scored(y, p, opinion):
    from tiktok_verified.modeling.evaluation import Scored

    return Scored(y, p, None, opinion)


def test_gain_wording_follows_the_paired_interval(committed):
    none = planted_gain(committed, informative=False)
    some = planted_gain(committed, informative=True)
    assert findings.predictive_gain_check(none) == "none"
    assert findings.predictive_gain_check(some) == "above"
    assert "do not improve on claim status alone" in findings.answer(none)
    assert "improve on claim status alone" in findings.answer(some)
    assert "do not improve" not in findings.answer(some)
    assert "no detectable gain" in findings.gain_sentence(none)
    assert "no detectable gain" not in findings.gain_sentence(some)
    # The first recommendation ("do not use this model") stands only without a gain.
    assert recommendations(none)[0].startswith("**Do not use this model")
    assert not any("Do not use this model" in r for r in recommendations(some))


def test_calibrated_is_said_only_when_the_test_and_claim_status_alone_allow(committed):
    good = planted_gain(committed, informative=True)
    bad = planted_gain(committed, informative=True, calibrated=False)
    flat = planted_gain(committed, informative=False)
    assert findings.calibration_check(good) == ("calibrated", "below")
    assert findings.calibration_check(bad)[0] == "miscalibrated"
    assert findings.calibration_check(flat)[1] == "none"
    assert "consistent with calibration" in findings.calibration_sentence(good)
    assert "more accurate than claim status alone" in findings.calibration_sentence(good)
    assert "not calibrated" in findings.calibration_sentence(bad)
    assert "consistent with calibration" not in findings.calibration_sentence(bad)
    assert "no more accurate than claim status alone" in findings.calibration_sentence(flat)


def test_the_paired_bootstrap_auc_is_scikit_learns():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = (rng.random(800) < 0.1).astype(float)
    p = np.round(rng.random(800) + 0.3 * y, 2)  # ties
    counts = gain._resample(rng, np.ones(800), 800, 5)
    for row, auc in zip(counts, gain._auc_rows(y, p, counts), strict=True):
        assert auc == pytest.approx(roc_auc_score(y, p, sample_weight=row), rel=1e-12)
    # Cells standing for w videos resample as the videos they stand for.
    cells = gain.paired_bootstrap(y, {"ranking": p, "calibrated": p / 2}, 1 - p, 0, np.full(800, 3))
    assert cells["roc_auc"]["ci_low"] < cells["roc_auc"]["difference"] < cells["roc_auc"]["ci_high"]


def test_the_bootstrap_draws_each_video_alike_whatever_entry_stands_for_it():
    """An entry standing for 3 videos is drawn 3 times as often as one standing for 1, and
    every replicate holds all the videos."""
    counts = gain._resample(np.random.default_rng(0), np.array([1.0, 3.0, 0.0, 4.0]), 8, 20_000)
    assert set(counts.sum(axis=1)) == {8.0}
    assert counts[:, 2].max() == 0
    share = counts.mean(axis=0) / 8
    assert share == pytest.approx([1 / 8, 3 / 8, 0, 4 / 8], abs=0.005)


def test_the_bootstrap_is_the_same_from_rows_and_from_cells():
    """The local engine hands over one row per video, Spark cells with counts, rows in any
    order: the same videos give the same interval, to the last digit."""
    rng = np.random.default_rng(1)
    y = (rng.random(900) < 0.1).astype(float)
    opinion = rng.random(900) < 0.5
    p = np.where(opinion, 0.7, 0.3) + 0.1 * y  # few distinct scores, as the course file's
    scores = {"ranking": p, "calibrated": p / 5}
    reference = np.where(opinion, 0.1, 0.02)
    rows = gain.paired_bootstrap(y, scores, reference, 0)
    keys = np.column_stack([y, p, reference])
    cells, inverse = np.unique(keys, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel()).astype(float)
    order = rng.permutation(len(cells))  # cells in another order
    c = cells[order]
    grouped = gain.paired_bootstrap(
        c[:, 0], {"ranking": c[:, 1], "calibrated": c[:, 1] / 5}, c[:, 2], 0, counts[order]
    )
    assert grouped == rows


# --- the claim-status direction and the table the answer opens with --------------------------


def test_answer_direction_follows_the_claim_status_check(committed):
    more = planted_rows(4_000, 3, lambda o, v, s: -2.5 + 1.5 * o)
    less = planted_rows(4_000, 3, lambda o, v, s: -1.5 - 1.5 * o)
    flat = planted_rows(4_000, 3, lambda o, v, s: -2.5 + 0 * o)
    texts = {}
    for name, rows in (("more", more), ("less", less), ("flat", flat)):
        inp = with_rows(committed, rows)
        texts[name] = findings.answer(inp), findings.claim_status_check(inp)
    assert texts["more"][1] == "higher" and "are more likely" in texts["more"][0]
    assert texts["less"][1] == "lower" and "are less likely" in texts["less"][0]
    assert texts["flat"][1] == "none"
    assert texts["flat"][0].startswith("No video characteristic goes detectably")


# --- the audit threshold: no recommendation states a target it misses ------------------------


def test_threshold_sentence_says_whether_the_target_is_met(committed):
    metrics = json.loads(json.dumps(committed.metrics))
    rec = metrics["calibration"]["recommended"]
    for meets, rule_as_good in ((True, False), (False, True)):
        rec["meets_target_held_out"], rec["opinion_rule_as_good"] = meets, rule_as_good
        text = findings.threshold_sentence(dataclasses.replace(committed, metrics=metrics))
        assert ("meets the target" in text) == meets
        assert ("misses the target" in text) == (not meets)
        assert ('"flag every opinion video" does at least as well' in text) == rule_as_good
    summary = to_markdown(executive_summary(committed))
    assert "calibrated probability is at least" not in summary
    assert "Audit the claims classifier's errors by the recorded verified status" in summary


# --- the dropped rows ----------------------------------------------------------------------


def test_dropped_rows_sentence_follows_fishers_test(committed):
    from tiktok_verified.data.disclosure import disclosure

    kept = {"claim": {"not verified": 9_000, "verified": 200},
            "opinion": {"not verified": 8_800, "verified": 1_000}}  # fmt: skip
    for dropped, verdict in (
        ({"not verified": 258, "verified": 40}, "under-represent"),
        ({"not verified": 280, "verified": 18}, "no detectable difference"),
        ({"not verified": 298, "verified": 0}, "over-represent"),
    ):
        data = {**committed.data, **disclosure(dropped, kept)}
        data["rows_dropped"] = {"incomplete": 298, "duplicate_video_id": 0}
        text = findings.dropped_rows_sentence(dataclasses.replace(committed, data=data))
        assert verdict in text, (dropped, text)


def test_a_large_held_out_part_is_bootstrapped_m_out_of_n():
    """Above MAX_VIDEOS held-out videos the replicates draw MAX_VIDEOS videos from a seeded
    sample, their distances scaled by sqrt(m / n): the interval is close to the full
    bootstrap's, its point figures are the whole part's, rows and cells agree, and at or below
    the cap nothing changes."""
    rng = np.random.default_rng(5)
    n = 12_000
    y = (rng.random(n) < 0.1).astype(float)
    opinion = rng.random(n) < 0.5
    p = np.round(rng.random(n) * 0.5 + 0.2 * y + 0.1 * opinion, 3)
    scores = {"ranking": p, "calibrated": p / 4}
    reference = np.where(opinion, 0.12, 0.08)
    saved = gain.MAX_VIDEOS
    try:
        gain.MAX_VIDEOS = n  # at the cap: the full bootstrap
        full = gain.paired_bootstrap(y, scores, reference, 0)
        gain.MAX_VIDEOS = 3_000
        sampled = gain.paired_bootstrap(y, scores, reference, 0)
        keys = np.column_stack([y, p, reference])
        cells, inverse = np.unique(keys, axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel()).astype(float)
        grouped = gain.paired_bootstrap(
            cells[:, 0], {"ranking": cells[:, 1], "calibrated": cells[:, 1] / 4}, cells[:, 2], 0,
            counts,
        )  # fmt: skip
    finally:
        gain.MAX_VIDEOS = saved
    assert grouped == sampled
    assert "m-out-of-n" in sampled["method"] and "m-out-of-n" not in full["method"]
    for key in ("roc_auc", "brier"):
        a, b = full[key], sampled[key]
        assert a["difference"] == b["difference"] and a["model"] == b["model"]
        width = a["ci_high"] - a["ci_low"]
        assert b["ci_high"] - b["ci_low"] == pytest.approx(width, rel=0.25), key
        assert b["ci_low"] == pytest.approx(a["ci_low"], abs=0.25 * width), key
        assert b["ci_high"] == pytest.approx(a["ci_high"], abs=0.25 * width), key
