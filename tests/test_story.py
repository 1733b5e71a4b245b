"""The computations behind what the summary says, against outside references: the multiplicity
correction (a hand-made Holm), the joint likelihood-ratio test (statsmodels' own LR test against
the null model), marginal fits (direct statsmodels fits), the baselines, calibration
(scikit-learn's calibration_curve) and the specification comparison (statsmodels' AIC)."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from sklearn.calibration import calibration_curve

from tiktok_verified.config import Features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import associations, calibration, evaluation, inference
from tiktok_verified.modeling import specification as spec
from tiktok_verified.modeling.design import design

CFG = Features(
    name="t",
    numeric=("video_view_count", "video_share_count"),
    categorical=("claim_status",),
    text=(),
    cap_iqr=(),
    iqr_factor=1.5,
)


def frame(n: int = 3_000, seed: int = 1) -> pl.DataFrame:
    """Opinion videos are likelier verified and draw fewer views; shares track views closely.
    Views lower the odds, shares (views held fixed) raise them: alone, shares go with lower
    odds through views, a reversal by suppression."""
    rng = np.random.default_rng(seed)
    opinion = rng.random(n) < 0.5
    z_views = -1.5 * opinion + rng.normal(0, 1, n)
    z_shares = z_views + rng.normal(0, 0.5, n)
    logit = -2.5 + 1.0 * opinion - 1.2 * z_views + 0.7 * z_shares
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pl.DataFrame(
        {
            "video_id": np.arange(n),
            Y: y,
            "video_view_count": np.round(1000 * (z_views + 8)),
            "video_share_count": np.round(1000 * (z_shares + 8)),
            "claim_status": np.where(opinion, "opinion", "claim"),
        }
    )


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment, by hand."""
    order = np.argsort(p)
    k = len(p)
    out, running = np.empty(k), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p[i]))
        out[i] = running
    return list(out)


@pytest.fixture(scope="module")
def fitted():
    rows = frame()
    stats = inference.coefficient_inference(rows, CFG)
    return rows, stats, associations.describe(stats, rows, CFG)


def test_adjusted_p_values_are_holm_and_bonferroni(fitted):
    _, stats, found = fitted
    names = list(stats["coefficients"])
    raw = [stats["coefficients"][n]["p_value"] for n in names]
    for name, h in zip(names, holm(raw), strict=True):
        assert found["adjusted_p"][name]["holm"] == pytest.approx(h, rel=1e-12)
        p = stats["coefficients"][name]["p_value"]
        assert found["adjusted_p"][name]["bonferroni"] == pytest.approx(min(1, 3 * p))
    assert found["survive_holm"] == [n for n in names if found["adjusted_p"][n]["holm"] < 0.05]


def test_joint_test_is_statsmodels_likelihood_ratio_test(fitted):
    rows, stats, found = fitted
    X = design(rows, CFG).to_numpy()
    y = rows[Y].to_numpy().astype(float)
    full = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    # Keeping nothing, the joint test is the LR test against the null model.
    against_null = associations.joint_test(rows, CFG, stats["log_likelihood"], keep=())
    assert against_null["statistic"] == pytest.approx(full.llr, rel=1e-8)
    assert against_null["p_value"] == pytest.approx(full.llr_pvalue, rel=1e-6, abs=1e-300)
    # Keeping claim status: the restricted model as its own fit.
    joint = found["joint_test_besides_claim_status"]
    restricted = sm.Logit(y, sm.add_constant(X[:, :1])).fit(disp=0)
    assert joint["df"] == 2 and joint["kept"] == ["claim_status_opinion"]
    assert joint["statistic"] == pytest.approx(2 * (full.llf - restricted.llf), rel=1e-8)


def test_marginal_is_the_predictor_alone_and_flags_the_reversal(fitted):
    rows, stats, found = fitted
    y = rows[Y].to_numpy().astype(float)
    for name, m in found["marginal"].items():
        x = design(rows, CFG)[name].to_numpy()
        alone = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
        c = stats["coefficients"][name]
        scale = 1.0 if c["binary"] else c["sd"]
        assert m["odds_ratio"] == pytest.approx(np.exp(alone.params[1] * scale), rel=1e-6)
        assert m["p_value"] == pytest.approx(alone.pvalues[1], rel=1e-6, abs=1e-300)
    shares = found["marginal"]["video_share_count"]
    assert stats["coefficients"]["video_share_count"]["odds_ratio"] > 1 > shares["odds_ratio"]
    assert shares["reversed"] and not found["marginal"]["claim_status_opinion"]["reversed"]


def test_strongest_claims_only_what_survives_holm(fitted):
    _, stats, found = fitted
    top = inference.strongest(stats, found["adjusted_p"])
    assert {r["feature"] for r in top} <= set(found["survive_holm"])
    assert all(r["p_holm"] < 0.05 for r in top)


@pytest.mark.parametrize("weighted", [False, True], ids=["rows", "cells"])
def test_precision_and_recall_at_a_threshold_are_scikit_learns(weighted):
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.1).astype(np.int64)
    q = np.round(rng.random(500) * 0.3, 2)
    w = rng.integers(1, 5, 500) if weighted else None
    for t in (*calibration.CALIBRATED_GRID, 0.99):  # 0.99: nothing flagged
        row = calibration.at_threshold(y, q, t, w)
        p, r, _, _ = precision_recall_fscore_support(
            y, (q >= t).astype(np.int64), labels=[1], zero_division=0, sample_weight=w
        )
        assert (row["precision"], row["recall"]) == pytest.approx((p[0], r[0]), rel=1e-15)


def test_calibration_curve_threshold_table_and_recommendation():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 0.3, 5_000)
    y = (rng.random(5_000) < p).astype(int)
    table = calibration.curve(y, p)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(table["observed"], observed)
    np.testing.assert_allclose(table["predicted"], predicted)
    row = calibration.at_threshold(y, p, 0.1)
    flagged = p >= 0.1
    assert row["flagged_per_10k"] == pytest.approx(10_000 * flagged.mean())
    assert row["hits_per_10k"] == pytest.approx(10_000 * np.mean(flagged & (y == 1)))
    assert row["misses_per_10k"] == pytest.approx(10_000 * np.mean(~flagged & (y == 1)))
    assert row["hits_per_10k"] + row["misses_per_10k"] == pytest.approx(10_000 * y.mean())
    rec = calibration.recommend(y, p, y, p)
    recall_at = {
        t: calibration.at_threshold(y, p, t)["recall"] for t in calibration.CALIBRATED_GRID
    }
    assert rec["threshold"] == max(t for t, r in recall_at.items() if r >= 0.8)
    assert rec["test"]["recall"] >= 0.8


def test_opinion_rule_scores_and_agreement():
    test = pl.DataFrame({"claim_status": ["opinion", "claim", "opinion", "claim"]})
    y = np.array([1, 0, 0, 1])
    scored = evaluation.Scored(y, y / 2, None, evaluation.opinion_flags(test))
    rule = evaluation.opinion_rule(scored, pred=np.array([1, 0, 1, 1]))
    assert rule["agrees_with_model"] == 3
    assert (rule["precision"], rule["recall"], rule["accuracy"]) == (0.5, 0.5, 0.5)
    # The same videos as cells with counts (the Spark engine's form): the same figures.
    cells = evaluation.Scored(np.array([1, 0, 0, 1]), y / 2, np.array([2, 2, 2, 2]), scored.opinion)
    assert evaluation.opinion_rule(cells, np.array([1, 0, 1, 1]))["agrees_with_model"] == 6
    no_claim = evaluation.Scored(
        y, y / 2, None, evaluation.opinion_flags(test.drop("claim_status"))
    )
    assert evaluation.opinion_rule(no_claim, y) is None


def test_specifications_compared_by_aic_cv_and_the_interactions_lr_test():
    rows = frame(2_000, seed=4)
    out = spec.compare(rows, rows, CFG, seed=0)
    specs = out["specifications"]
    assert set(specs) == {"configured", "uncapped", "log_counts", "log_counts_x_claim"}
    logged = dataclasses.replace(CFG, log_counts=True)
    X = design(rows, logged)
    assert X.columns == ["claim_status_opinion", "log_video_view_count", "log_video_share_count"]
    y = rows[Y].to_numpy().astype(float)
    direct = sm.Logit(y, sm.add_constant(X.to_numpy())).fit(disp=0)
    assert specs["log_counts"]["aic"] == pytest.approx(direct.aic, rel=1e-8)
    assert out["interactions_lr_test"]["df"] == 2
    assert specs["log_counts_x_claim"]["parameters"] == specs["log_counts"]["parameters"] + 2
    for s in specs.values():
        assert 0.5 < s["cv_roc_auc"] <= 1 and 0 < s["cv_brier"] < 0.25
