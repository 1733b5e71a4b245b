"""The statistics, checked against independent computations rather than against themselves."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from tiktok_verified.config import Features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import assumptions, crossval, inference


def test_logit_matches_the_published_spector_mazzeo_estimates():
    """Greene, Econometric Analysis, table 21.1 (Spector & Mazzeo 1980): a known data set."""
    data = sm.datasets.spector.load_pandas()
    result = inference.fit_logit(
        data.exog.to_numpy(), data.endog.to_numpy(), ["GPA", "TUCE", "PSI"]
    )
    published = {
        "const": (-13.0213, 4.9313),
        "GPA": (2.8261, 1.2629),
        "TUCE": (0.0952, 0.1416),
        "PSI": (2.3787, 1.0646),
    }
    for k, name in enumerate(["const", "GPA", "TUCE", "PSI"]):
        coef, se = published[name]
        assert result.params[k] == pytest.approx(coef, abs=1e-4)
        assert result.bse[k] == pytest.approx(se, abs=1e-4)


def small_frame(n: int = 600, seed: int = 0) -> tuple[pl.DataFrame, Features]:
    rng = np.random.default_rng(seed)
    duration = rng.integers(5, 61, n).astype(float)
    views = rng.integers(0, 10_000, n).astype(float)
    opinion = rng.random(n) < 0.5
    logit = -2.0 + 1.5 * opinion - 0.02 * (duration - 30) + 0.0001 * (views - 5_000)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pl.DataFrame(
        {
            "video_id": np.arange(n),
            Y: y,
            "video_duration_sec": duration,
            "video_view_count": views,
            "claim_status": np.where(opinion, "opinion", "claim"),
        }
    )
    cfg = Features(
        name="t",
        numeric=("video_duration_sec", "video_view_count"),
        categorical=("claim_status",),
        text=(),
        cap_iqr=(),
        iqr_factor=1.5,
    )
    return frame, cfg


def small_design(frame: pl.DataFrame) -> np.ndarray:
    """small_frame's design by hand: the opinion dummy, duration, views (raw units)."""
    return np.column_stack(
        [
            (frame["claim_status"] == "opinion").to_numpy().astype(float),
            frame["video_duration_sec"].to_numpy(),
            frame["video_view_count"].to_numpy(),
        ]
    )


def test_inference_matches_a_direct_statsmodels_fit():
    frame, cfg = small_frame()
    got = inference.coefficient_inference(frame, cfg)
    X = small_design(frame)
    direct = sm.Logit(frame[Y].to_numpy(), sm.add_constant(X)).fit(disp=0)
    ci = direct.conf_int(0.05)
    for k, name in enumerate(
        ["claim_status_opinion", "video_duration_sec", "video_view_count"], start=1
    ):
        c = got["coefficients"][name]
        assert c["coef"] == pytest.approx(direct.params[k], rel=1e-6)
        assert c["std_err"] == pytest.approx(direct.bse[k], rel=1e-6)
        assert c["p_value"] == pytest.approx(direct.pvalues[k], rel=1e-6)
        assert (c["ci_low"], c["ci_high"]) == pytest.approx((ci[k, 0], ci[k, 1]), rel=1e-6)
        # Wald interval by hand: b +/- 1.96 se.
        assert c["ci_high"] - c["coef"] == pytest.approx(1.959964 * c["std_err"], rel=1e-5)
        assert c["odds_ratio"] == pytest.approx(math.exp(direct.params[k]))
        sd = X[:, k - 1].std(ddof=1)
        assert c["odds_ratio_per_sd"] == pytest.approx(math.exp(direct.params[k] * sd))
    assert got["coefficients"]["claim_status_opinion"]["binary"] is True
    assert got["rows"] == 600 and got["events"] == int(frame[Y].sum())


def test_strongest_ranks_significant_effects_by_size():
    frame, cfg = small_frame(n=3_000)
    top = inference.strongest(inference.coefficient_inference(frame, cfg), n=2)
    assert top[0]["feature"] == "claim_status_opinion" and top[0]["per"] == "unit"
    assert top[0]["ci_low"] < top[0]["odds_ratio"] < top[0]["ci_high"]
    assert all(r["p_value"] < 0.05 for r in top)


def test_vif_equals_one_over_one_minus_r_squared():
    rng = np.random.default_rng(3)
    a = rng.normal(size=500)
    b = 0.9 * a + 0.3 * rng.normal(size=500)
    c = rng.normal(size=500)
    X = np.column_stack([a, b, c])
    got = assumptions.vifs(X, ["a", "b", "c"])
    for k, name in enumerate("abc"):
        others = np.column_stack([np.ones(500), np.delete(X, k, axis=1)])
        beta, *_ = np.linalg.lstsq(others, X[:, k], rcond=None)
        resid = X[:, k] - others @ beta
        r2 = 1 - resid.var() / X[:, k].var()
        assert got[name] == pytest.approx(1 / (1 - r2), rel=1e-9)
    assert got["b"] > 5 and got["c"] < 1.1


def test_box_tidwell_rejects_a_curved_logit_and_does_not_reject_a_straight_one():
    rng = np.random.default_rng(5)
    n = 4_000
    x = rng.uniform(1, 60, n)
    cfg = Features(
        name="t",
        numeric=("video_duration_sec",),
        categorical=(),
        text=(),
        cap_iqr=(),
        iqr_factor=1.5,
    )
    straight, curved = -1 + 0.05 * (x - 30), -3 + 0.004 * (x - 30) ** 2
    for logit, expected in ((straight, "not rejected"), (curved, "rejected")):
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
        frame = pl.DataFrame({"video_id": np.arange(n), Y: y, "video_duration_sec": x})
        check = assumptions.box_tidwell(frame, cfg)
        assert check["verdict"] == expected
        # The usual form: x*ln(x) on the predictor's own scale, beside x, in one Logit.
        direct = sm.Logit(y, sm.add_constant(np.column_stack([x, x * np.log(x)]))).fit(disp=0)
        got = check["figures"]["tests"]["video_duration_sec"]["p_value"]
        assert got == pytest.approx(direct.pvalues[2], rel=1e-6)


def test_sample_size_rule():
    frame, cfg = small_frame()
    check = assumptions.sample_size(frame, cfg)
    events = min(int(frame[Y].sum()), frame.height - int(frame[Y].sum()))
    assert check["figures"]["events_per_parameter"] == pytest.approx(events / 3)
    tiny = frame.head(60)
    assert assumptions.sample_size(tiny, cfg)["verdict"] == "not met"


def test_influence_reports_cooks_distance_of_a_planted_outlier():
    frame, cfg = small_frame()
    planted = frame.with_columns(
        pl.when(pl.col("video_id") == 0)
        .then(1e7)
        .otherwise(pl.col("video_view_count"))
        .alias("video_view_count")
    )
    clean = assumptions.influence(frame, cfg, caps={})["figures"]
    dirty = assumptions.influence(planted, cfg, caps={})["figures"]
    assert dirty["max_leverage"] > 0.5 > clean["max_leverage"]
    assert dirty["max_cooks_distance"] > clean["max_cooks_distance"]


def test_influence_before_capping_is_the_same_check_on_the_uncapped_rows():
    frame, cfg = small_frame()
    videos = frame.with_columns(
        pl.when(pl.col("video_id") == 0)
        .then(1e7)
        .otherwise(pl.col("video_view_count"))
        .alias("video_view_count")
    )
    upper = 12_000.0
    capped = videos.with_columns(pl.col("video_view_count").clip(upper_bound=upper))
    caps = {"video_view_count": {"upper": upper, "train_values_capped": 1, "test_values_capped": 0}}
    restored = assumptions.uncapped(capped, videos.reverse(), ["video_view_count"])
    assert restored.equals(videos)  # joined back by video id, whatever the row order
    f = assumptions.influence(capped, cfg, caps, restored)["figures"]
    assert f["before_capping"] == assumptions.influence_figures(videos, cfg)
    assert f["before_capping"]["max_leverage"] > 0.5 > f["max_leverage"]
    assert f["capping"]["video_view_count"]["train_share_capped"] == pytest.approx(1 / 600)


def test_vif_elimination_drops_the_most_inflated_column_until_none_exceeds_the_limit():
    rng = np.random.default_rng(8)
    n = 2_000
    a = rng.normal(size=n)
    b = a + 0.2 * rng.normal(size=n)  # |r| ~ 0.98 with a
    c = a + b + 0.5 * rng.normal(size=n)
    d = rng.normal(size=n)
    dummy = (a + rng.normal(size=n) > 0).astype(float)
    X = np.column_stack([dummy, a, b, c, d])
    names = ["dummy", "a", "b", "c", "d"]
    steps, final = assumptions.vif_elimination(X, names, 5.0, keep=("dummy",))

    def vif_by_regression(M, k):
        others = np.column_stack([np.ones(n), np.delete(M, k, axis=1)])
        beta, *_ = np.linalg.lstsq(others, M[:, k], rcond=None)
        return M[:, k].var() / (M[:, k] - others @ beta).var()

    # By hand: drop the largest VIF among a, b, c, d; recompute; repeat.
    cols, expected = list(names), []
    M = X
    while True:
        v = {cols[k]: vif_by_regression(M, k) for k in range(len(cols)) if cols[k] != "dummy"}
        worst = max(v, key=v.get)
        if v[worst] <= 5.0:
            break
        expected.append((worst, v[worst]))
        M = np.delete(M, cols.index(worst), axis=1)
        cols.remove(worst)
    assert [(s["dropped"], s["vif"]) for s in steps] == [
        (name, pytest.approx(v, rel=1e-9)) for name, v in expected
    ]
    assert len(steps) >= 1 and "d" not in [s["dropped"] for s in steps]
    assert set(final) == set(cols) and max(v for k, v in final.items() if k != "dummy") <= 5.0


def test_collinearity_rule_decides_which_counts_enter(params):
    rng = np.random.default_rng(9)
    n = 1_500
    views = rng.lognormal(8, 1, n)
    frame = pl.DataFrame(
        {
            "video_id": np.arange(n),
            Y: (rng.random(n) < 0.2).astype(np.int8),
            "video_duration_sec": rng.integers(5, 61, n).astype(float),
            "video_view_count": views,
            "video_like_count": views * rng.normal(0.3, 0.01, n),  # r ~ 0.99 with views
            "video_share_count": rng.lognormal(4, 1, n),
            "video_download_count": rng.lognormal(2, 1, n),
            "video_comment_count": rng.lognormal(2, 1, n),
        }
    )
    without = Features(
        name="t",
        numeric=("video_duration_sec", "video_view_count", "video_share_count"),
        categorical=(),
        text=(),
        cap_iqr=(),
        iqr_factor=1.5,
    )
    check = assumptions.multicollinearity(frame, frame, without)
    f = check["figures"]
    assert f["dropped"] == ["video_like_count", "video_download_count", "video_comment_count"]
    assert [s["dropped"] for s in f["elimination"]] in (
        ["video_like_count"],
        ["video_view_count"],
    )
    assert f["vif_with_every_count"]["video_like_count"] > 10
    assert check["verdict"] == "met" and f["max_vif"] < 2
    both = dataclasses.replace(
        without, numeric=("video_duration_sec", "video_view_count", "video_like_count")
    )
    check = assumptions.multicollinearity(frame, frame, both)
    assert check["verdict"] == "not met" and check["figures"]["max_vif"] > 10
    assert check["figures"]["configuration_follows_rule"] is False


def test_upsampled_rows_would_shrink_standard_errors_as_copies_do():
    """Every row twice: same estimates, information doubled, so SE / sqrt(2) exactly."""
    frame, cfg = small_frame()
    honest = inference.coefficient_inference(frame, cfg)
    doubled = inference.coefficient_inference(pl.concat([frame, frame]), cfg)
    for name, c in honest["coefficients"].items():
        assert doubled["coefficients"][name]["coef"] == pytest.approx(c["coef"], rel=1e-8)
    cmp = inference.resampled_rows_comparison(honest, doubled)
    assert cmp["std_err_shrink_factor"]["min"] == pytest.approx(math.sqrt(2), rel=1e-8)
    assert cmp["std_err_shrink_factor"]["max"] == pytest.approx(math.sqrt(2), rel=1e-8)
    assert cmp["rows"] == 1_200
    assert cmp["significant_only_on_resampled_rows"] == [
        name
        for name, c in honest["coefficients"].items()
        if c["p_value"] >= 0.05 > doubled["coefficients"][name]["p_value"]
    ]


def test_frequency_weights_give_the_fit_on_the_expanded_rows():
    """Train fits copies as weights: GLM freq_weights on the distinct rows must equal the
    Logit on the rows with their copies, estimates, standard errors and likelihoods alike."""
    frame, cfg = small_frame()
    copies = np.random.default_rng(3).integers(1, 4, frame.height)
    expanded = frame[np.repeat(np.arange(frame.height), copies)]
    direct = inference.coefficient_inference(expanded, cfg)
    weighted = inference.coefficient_inference(frame, cfg, weights=copies.astype(float))
    for name, c in direct["coefficients"].items():
        w = weighted["coefficients"][name]
        assert w["coef"] == pytest.approx(c["coef"], rel=1e-7), name
        assert w["std_err"] == pytest.approx(c["std_err"], rel=1e-7), name
        assert w["p_value"] == pytest.approx(c["p_value"], rel=1e-6, abs=1e-300), name
    for key in ("rows", "events"):
        assert (
            weighted[key]
            == direct[key]
            == (expanded.height if key == "rows" else int(expanded[Y].sum()))
        )
    for key in ("log_likelihood", "pseudo_r2_mcfadden", "aic"):
        assert weighted[key] == pytest.approx(direct[key], rel=1e-9), key


def test_sd_and_binary_flags_come_from_the_columns():
    """The per-SD odds ratios use each column's sample SD; only 0/1 columns are flagged
    binary."""
    frame, cfg = small_frame()
    got = inference.coefficient_inference(frame, cfg)["coefficients"]
    X = small_design(frame)
    names = ["claim_status_opinion", "video_duration_sec", "video_view_count"]
    assert set(got) == set(names)
    for j, name in enumerate(names):
        assert got[name]["sd"] == pytest.approx(X[:, j].std(ddof=1), rel=1e-12)
        assert got[name]["binary"] is (name == "claim_status_opinion")


def test_cross_validation_folds_are_stratified_and_disjoint():
    y = np.array([1] * 60 + [0] * 940)
    folds = crossval.fold_indices(y, 5, seed=0)
    seen = np.concatenate([val for _, val in folds])
    assert sorted(seen.tolist()) == list(range(1_000))  # each row validated exactly once
    for fit_idx, val_idx in folds:
        assert set(fit_idx).isdisjoint(val_idx)
        assert len(fit_idx) + len(val_idx) == 1_000
        assert y[val_idx].sum() == 12  # 60 positives / 5 folds


def test_cross_validate_resamples_inside_folds_only(params):
    from tiktok_verified.data import reader as ingest
    from tiktok_verified.data import standin as synthetic
    from tiktok_verified.data.features import build_features
    from tiktok_verified.modeling.split import make_split

    videos = ingest.ingest_bytes(synthetic.csv_bytes(19_382, seed=4), "s").frame
    result = make_split(build_features(videos, params.features).collect(), params)
    report = crossval.cross_validate(result.train_original, params)
    assert report["folds"] == 5 and len(report["per_fold"]) == 5
    n = result.train_original.height
    assert sum(f["validation_rows"] for f in report["per_fold"]) == n
    positives = int(result.train_original[Y].sum())
    for f in report["per_fold"]:
        assert f["validation_verified"] in (positives // 5, positives // 5 + 1)
        # Upsampling made the fitting rows balanced: twice the fold's negatives.
        fold_negatives = (n - f["validation_rows"]) - (positives - f["validation_verified"])
        assert f["fit_rows"] == 2 * fold_negatives
    aucs = [f["roc_auc"] for f in report["per_fold"]]
    assert report["mean"]["roc_auc"] == pytest.approx(np.mean(aucs))
    assert report["std"]["roc_auc"] == pytest.approx(np.std(aucs, ddof=1))


def test_assumption_report_on_the_course_file(real_csv, params):
    from tiktok_verified.data import reader as ingest
    from tiktok_verified.data.features import build_features
    from tiktok_verified.modeling.split import make_split

    videos = ingest.ingest_bytes(real_csv.read_bytes(), str(real_csv)).frame
    features = build_features(videos, params.features).collect()
    result = make_split(features, params)
    report = assumptions.check_all(
        features, result.train_original, videos, params.features, result.report
    )
    checks = report["checks"]
    assert set(checks) == {
        "binary_outcome",
        "independent_observations",
        "no_severe_multicollinearity",
        "linearity_of_the_logit",
        "no_extreme_outliers_or_overly_influential_points",
        "sample_size",
    }
    assert "not met" not in report["summary"] and report["resample"] == "upsample"
    # No video repeats, but videos by one author cannot be told apart: not checkable.
    assert checks["independent_observations"]["verdict"] == "cannot be checked"
    assert "author id" in checks["independent_observations"]["rule"]
    assert checks["linearity_of_the_logit"]["verdict"] in ("not rejected", "rejected")
    mc = checks["no_severe_multicollinearity"]["figures"]
    assert mc["like_vs_view_r"] > 0.7 and mc["dropped"] == ["video_like_count"]
    # The VIF rule, not a judgement call, drops likes: its VIF among all counts is the only
    # one above 5, and equals 1 / (1 - R^2) of likes regressed on the other predictors.
    assert mc["dropped_by_rule"] == ["video_like_count"] and mc["configuration_follows_rule"]
    X, names, _ = assumptions.candidate_design(result.train_original, videos, params.features)
    k = names.index("video_like_count")
    others = np.column_stack([np.ones(len(X)), np.delete(X, k, axis=1)])
    beta, *_ = np.linalg.lstsq(others, X[:, k], rcond=None)
    r2 = 1 - (X[:, k] - others @ beta).var() / X[:, k].var()
    assert mc["vif_with_every_count"]["video_like_count"] == pytest.approx(1 / (1 - r2), rel=1e-6)
    assert [s["dropped"] for s in mc["elimination"]] == ["video_like_count"]
    assert mc["max_vif"] < 5 < mc["elimination"][0]["vif"]
    infl = checks["no_extreme_outliers_or_overly_influential_points"]["figures"]
    assert infl["before_capping"]["max_cooks_distance"] > infl["max_cooks_distance"]
    # Under the exemplar protocol the independence check fails, and names why.
    leaky = dataclasses.replace(
        params, resample=dataclasses.replace(params.resample, strategy="exemplar")
    )
    leaked = make_split(features, leaky)
    check = assumptions.independence(
        features, leaked.train_original, leaked.report["test_rows_whose_video_is_in_train"]
    )
    assert check["verdict"] == "not met"
    assert check["figures"]["test_rows_whose_video_is_in_train"] > 0
    assert check["figures"]["duplicated_video_ids_in_inference_rows"] == 0
    assert any(
        {p["a"], p["b"]} == {"video_view_count", "video_like_count"}
        for p in mc["pairs_above_threshold_among_all_counts"]
    )
    verified = result.report["class_counts"]["test"]["verified"]
    assert checks["sample_size"]["figures"]["events"] == 1_200 - verified  # the training part's
    assert abs(verified - 300) < 3 * (1_200 * 0.25 * 0.75) ** 0.5  # held out at 25% by the hash
    assert all(c["verdict"] in assumptions.VERDICTS and c["rule"] for c in checks.values())


def test_one_design_for_both_fits_gives_the_two_calls_numbers():
    """The statistics stage's memory-lean path (one design matrix for the honest fit and the
    weighted comparison, when the fitting rows are the same videos in the same order with a
    weight each) gives exactly the numbers of the two separate calls; fitting rows in another
    order take the separate path and agree too."""
    frame, cfg = small_frame()
    copies = np.random.default_rng(3).integers(1, 4, frame.height).astype(float)
    weighted = frame.with_columns(pl.Series("weight", copies))
    separate = inference.with_resampled_rows_comparison(
        inference.coefficient_inference(frame, cfg), weighted, cfg
    )
    assert inference.inference_with_comparison(frame, weighted, cfg) == separate
    shuffled = weighted[np.random.default_rng(4).permutation(frame.height)]
    other = inference.inference_with_comparison(frame, shuffled, cfg)
    assert other["coefficients"] == separate["coefficients"]
    cmp, ref = other["resampled_rows_comparison"], separate["resampled_rows_comparison"]
    assert cmp["rows"] == ref["rows"] and cmp["events"] == ref["events"]
    for end in ("min", "max"):
        assert cmp["std_err_shrink_factor"][end] == pytest.approx(
            ref["std_err_shrink_factor"][end], rel=1e-9
        )
    # No copies at all: no comparison, as before.
    ones = frame.with_columns(pl.lit(1.0).alias("weight"))
    assert inference.inference_with_comparison(frame, ones, cfg) == (
        inference.coefficient_inference(frame, cfg)
    )
