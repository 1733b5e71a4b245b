"""Model fitting, safe persistence and held-out metrics, on the stand-in."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import schema
from tiktok_verified.data import standin as synthetic
from tiktok_verified.data.features import build_features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import design as design_lib
from tiktok_verified.modeling import evaluation, inference, model_file
from tiktok_verified.modeling import fit as fit_lib
from tiktok_verified.modeling import metrics as evaluate
from tiktok_verified.modeling import resampling as resample
from tiktok_verified.modeling.fit import coefficient_table, fit
from tiktok_verified.modeling.split import make_split


@pytest.fixture(scope="module")
def parts():
    from conftest import compose_params

    params = compose_params()
    videos = ingest.ingest_bytes(synthetic.csv_bytes(19_382, seed=2), "stand-in").frame
    features = build_features(videos, params.features).collect()
    result = make_split(features, params)
    return params, result.train, result.test, result.train_original


@pytest.fixture(scope="module")
def fitted(parts):
    params, train, *_ = parts
    return fit(train, params)


def test_fit_matches_a_plain_sklearn_fit_on_the_same_design(parts, fitted):
    """Copies are fitted as frequency weights: the same model as a plain fit on every row."""
    params, weighted, *_ = parts
    pipeline, info = fitted
    # The rows with their copies, as upsampling makes them.
    train = weighted[np.repeat(np.arange(weighted.height), weighted["weight"].cast(int))].drop(
        "weight"
    )
    assert info["converged"] and info["train_rows"] == train.height
    assert info["distinct_rows"] == weighted.height == train[schema.VIDEO_ID].n_unique()
    assert weighted.height < train.height
    assert info["resample"] == "upsample" and info["class_weight"] is None
    names = fit_lib.feature_names(pipeline)
    assert names[:3] == [
        "claim_status_opinion",
        "author_ban_status_under review",
        "author_ban_status_banned",
    ]
    assert names[3:] == list(params.features.numeric) + list(params.features.text)
    # The design by hand, on every (copied) row.
    numeric = train.select(names[3:]).to_numpy().astype(float)
    dummies = np.column_stack(
        [
            (train["claim_status"] == "opinion").to_numpy(),
            (train["author_ban_status"] == "under review").to_numpy(),
            (train["author_ban_status"] == "banned").to_numpy(),
        ]
    ).astype(float)
    raw_design = np.column_stack([dummies, numeric])
    np.testing.assert_array_equal(design_lib.design(train, params.features).to_numpy(), raw_design)
    mean, sd = raw_design.mean(axis=0), raw_design.std(axis=0)
    encoded = (raw_design - mean) / sd
    assert params.model.standardize
    # To the optimum, as configured (the course's `max_iter=800` with lbfgs at its default
    # tolerance stops ~2% short in the small coefficients).
    plain = LogisticRegression(solver="newton-cholesky", tol=1e-10).fit(
        encoded, train[Y].to_numpy()
    )
    np.testing.assert_allclose(pipeline.named_steps["classify"].coef_, plain.coef_, rtol=1e-6)
    # The reported coefficients are in raw units: per SD coefficient / SD.
    table = coefficient_table(pipeline)["coefficients"]
    assert table["claim_status_opinion"]["coef"] == pytest.approx(
        plain.coef_[0][0] / sd[0], rel=1e-6
    )
    views = 3 + list(params.features.numeric).index("video_view_count")
    assert table["video_view_count"]["coef"] == pytest.approx(
        plain.coef_[0][views] / sd[views], rel=1e-6
    )
    # Unpenalised, scaling changes nothing: raw-unit coefficients agree with statsmodels'
    # Newton fit on the raw design (which, unlike lbfgs on raw counts, converges).
    raw = inference.fit_logit(raw_design, train[Y].to_numpy(), names)
    unpenalised = dataclasses.replace(
        params, model=dataclasses.replace(params.model, penalized=False)
    )
    table = coefficient_table(fit(train, unpenalised)[0])["coefficients"]
    # The configured solver fits to the optimum (newton-cholesky, tol 1e-8) and the kept
    # numbers have 8 digits: both fits agree to ~1e-6 of a standard error. (The course's lbfgs
    # at its default tolerance stopped a tenth of a standard error short.)
    assert params.model.solver == "newton-cholesky" and params.model.tol == 1e-8
    for k, name in enumerate(names, start=0):
        gap = abs(table[name]["coef"] - raw.params[k + 1])
        assert gap < 1e-4 * raw.bse[k + 1], (name, gap / raw.bse[k + 1])


def test_saved_model_is_byte_stable_and_predicts_the_same(parts, fitted, tmp_path):
    params, _, test, _ = parts
    pipeline, _ = fitted
    a, b = tmp_path / "a.skops", tmp_path / "b.skops"
    model_file.save(pipeline, a)
    model_file.save(fit(parts[1], params)[0], b)
    assert a.read_bytes() == b.read_bytes()
    loaded = model_file.load(a)
    X = design_lib.design(test, params.features)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipeline.predict_proba(X))


def test_settled_numbers_keep_eight_significant_digits():
    values = np.array([[1.234567891234, -0.000123456789123, 0.0, 98765432.10987, 5e-300]])
    kept = fit_lib.settled(values)
    np.testing.assert_array_equal(kept, [[1.2345679, -0.00012345679, 0.0, 98765432.0, 5e-300]])
    assert kept.shape == values.shape and kept.dtype == np.float64
    np.testing.assert_array_equal(fit_lib.settled(kept), kept)  # settling twice changes nothing


def test_the_saved_model_does_not_depend_on_the_order_of_the_sums(parts, tmp_path, monkeypatch):
    """What another BLAS kernel does to a fit (it sums in another order) is what reordering
    the training rows does: the raw fits differ in their last bits, the saved models do not.
    (Across real kernels: `python -m benchmarks.kernels`, a one-off check, since tests must
    not change OPENBLAS_CORETYPE.)"""
    params, train, *_ = parts
    reordered = train.sample(fraction=1.0, shuffle=True, seed=1)
    monkeypatch.setattr(fit_lib, "settle", lambda pipeline: pipeline)
    raw = [fit(rows, params)[0] for rows in (train, reordered)]
    monkeypatch.undo()
    numbers = [
        np.concatenate([p.named_steps["classify"].coef_.ravel(), p.named_steps["scale"].var_])
        for p in raw
    ]
    assert not np.array_equal(*numbers)  # the noise is there ...
    np.testing.assert_allclose(*numbers, rtol=1e-11)  # ... in the last bits only
    files = []
    for k, rows in enumerate((train, reordered)):
        model_file.save(fit(rows, params)[0], tmp_path / f"{k}.skops")
        files.append((tmp_path / f"{k}.skops").read_bytes())
    assert files[0] == files[1]  # ... and gone from what is saved
    unsettled = tmp_path / "raw.skops"
    model_file.save(raw[1], unsettled)
    assert unsettled.read_bytes() != files[1]


def test_loading_garbage_fails_clearly(tmp_path):
    bad = tmp_path / "model.skops"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(model_file.ModelFileError, match="not a readable skops model file"):
        model_file.load(bad)
    with pytest.raises(model_file.ModelFileError, match="not found"):
        model_file.load(tmp_path / "missing.skops")


def test_metrics_agree_with_the_confusion_matrix(parts, fitted):
    params, _, test, train = parts
    metrics, cm, predictions, curves = evaluation.evaluate(fitted[0], train, test, params)
    (tn, fp), (fn, tp) = cm["matrix"]
    t = metrics["test"]
    assert tn + fp + fn + tp == t["rows"] == test.height
    assert t["accuracy"] == pytest.approx((tn + tp) / t["rows"])
    assert t["precision"] == pytest.approx(tp / (tp + fp))
    assert t["recall"] == pytest.approx(tp / (tp + fn))
    assert t["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert predictions.columns == ["actual", "predicted"]
    assert (
        predictions.filter(
            (pl.col("actual") == "not verified") & (pl.col("predicted") == "verified")
        ).height
        == fp
    )
    assert metrics["resample"] == "upsample"
    assert t["balanced_accuracy"] == pytest.approx((tp / (tp + fn) + tn / (tn + fp)) / 2)
    roc = curves["roc"]
    assert roc["fpr"].is_sorted() and roc["tpr"].is_sorted()
    assert roc["threshold"].max() <= 1.0  # sklearn's +inf clamped
    assert (roc["fpr"][0], roc["tpr"][-1]) == (0.0, 1.0)
    # The trapezoid under the thinned ROC curve is close to sklearn's AUC.
    auc = float(np.trapezoid(roc["tpr"].to_numpy(), roc["fpr"].to_numpy()))
    assert auc == pytest.approx(t["roc_auc"], abs=0.01)
    row = curves["thresholds"].filter(pl.col("threshold") == 0.5).row(0, named=True)
    assert (row["precision"], row["recall"]) == pytest.approx((t["precision"], t["recall"]))


def test_threshold_moves_precision_and_recall(parts, fitted):
    params, _, test, _ = parts
    y = design_lib.outcome(test)
    proba = evaluate.predict_proba(fitted[0], test, params)
    low, high = (proba >= 0.3).astype(int), (proba >= 0.7).astype(int)
    lo, hi = evaluate.classification_metrics(y, low), evaluate.classification_metrics(y, high)
    assert lo["recall"] >= hi["recall"]
    assert low.sum() >= high.sum()


def test_no_skill_reference_and_the_configured_threshold(parts, fitted):
    params, _, test, train = parts  # evaluate gets the training part as split
    odd = dataclasses.replace(params, evaluate=dataclasses.replace(params.evaluate, threshold=0.37))
    metrics, _, _, curves = evaluation.evaluate(fitted[0], train, test, odd)
    base = metrics["no_skill"]["test"]
    y = design_lib.outcome(test)
    q = design_lib.outcome(train).mean()  # the constant probability: training share verified
    assert base["accuracy"] == pytest.approx(1 - y.mean())  # everyone "not verified"
    assert (base["recall"], base["balanced_accuracy"], base["roc_auc"]) == (0.0, 0.5, 0.5)
    assert base["average_precision"] == pytest.approx(y.mean())
    assert base["log_loss"] == pytest.approx(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    assert base["brier"] == pytest.approx(np.mean((y - q) ** 2))
    table = curves["thresholds"]
    assert table["threshold"].is_sorted() and 0.37 in table["threshold"].to_list()
    row = table.filter(pl.col("threshold") == 0.37).row(0, named=True)
    t = metrics["test"]
    assert (row["precision"], row["recall"]) == pytest.approx((t["precision"], t["recall"]))


def test_prior_correction_moves_probabilities_to_the_real_base_rate(parts, fitted):
    # By hand: a balanced-fit probability of 0.8, real share 10%: odds 4 * (1/9) / 1.
    q = evaluate.prior_corrected(np.array([0.5, 0.8]), fitted=0.5, true=0.1)
    np.testing.assert_allclose(q, [0.1, (4 / 9) / (1 + 4 / 9)], rtol=1e-12)
    np.testing.assert_allclose(evaluate.prior_corrected(np.array([0.3]), 0.2, 0.2), [0.3])
    params, _, test, train = parts
    metrics, *_ = evaluation.evaluate(fitted[0], train, test, params)
    t = metrics["test"]
    y = design_lib.outcome(test)
    p = evaluate.predict_proba(fitted[0], test, params)
    share = design_lib.outcome(train).mean()
    corrected = evaluate.prior_corrected(p, 0.5, share)
    assert t["brier_prior_corrected"] == pytest.approx(np.mean((y - corrected) ** 2))
    # The upsampled model's raw probabilities are far too high for a 6% class; corrected,
    # it beats the no-skill reference that its raw log loss and Brier lose to.
    base = metrics["no_skill"]["test"]
    assert t["log_loss"] > base["log_loss"] > t["log_loss_prior_corrected"]
    assert t["brier"] > base["brier"] > t["brier_prior_corrected"]


@pytest.mark.parametrize("strategy", ["upsample", "downsample", "none", "class_weight"])
def test_weighted_resampling_equals_the_collapsed_copies(strategy):
    """split writes the resampled rows as distinct rows with a weight: the same draws, rows,
    order and weights as making the copies and collapsing them, and so the same model."""
    from conftest import compose_params

    params = compose_params(f"resample={strategy}")
    videos = ingest.ingest_bytes(synthetic.csv_bytes(3_000, seed=4), "stand-in").frame
    part = build_features(videos, params.features).collect()
    weighted = resample.weighted(part, strategy, seed=7)
    copies = resample.apply(part, strategy, seed=7)
    assert weighted.equals(resample.collapse_copies(copies))
    assert weighted[resample.WEIGHT].sum() == copies.height
    assert weighted[schema.VIDEO_ID].is_unique().all()
    if strategy == "upsample":
        assert weighted[resample.WEIGHT].max() > 1
        assert weighted.drop(resample.WEIGHT).equals(part)  # every row once, in order
    # The weighted fit against scikit-learn fitting the copies themselves, no weights anywhere
    # (ours keeps 8 significant digits, `fit_lib.settle`; the plain fit keeps all).
    ours, _ = fit(weighted, params)
    class_weight = "balanced" if strategy == "class_weight" else None
    plain = fit_lib.build_pipeline(params.features, params.model, 0, class_weight)
    plain.fit(design_lib.design(copies, params.features), design_lib.outcome(copies))
    np.testing.assert_allclose(
        ours.named_steps["classify"].coef_, plain.named_steps["classify"].coef_, rtol=1e-7
    )
    for attr in ("mean_", "scale_"):
        np.testing.assert_array_equal(
            getattr(ours.named_steps["scale"], attr),
            fit_lib.settled(getattr(plain.named_steps["scale"], attr)),
        )


def test_model_stage_gives_the_same_outputs_from_weights_and_from_copies(parts, tmp_path):
    """The model stage reads split's weighted rows; a part written with its copies (as an
    older train.parquet was) is collapsed to the same rows and gives the same outputs, and
    the inference's comparison on the fitting rows is the same from either."""
    from tiktok_verified.stages import model as model_stage

    from conftest import REPO_ROOT

    params, weighted, test, original = parts
    copies = weighted[np.repeat(np.arange(weighted.height), weighted["weight"].cast(int))]
    original.write_parquet(tmp_path / "original.parquet")
    test.write_parquet(tmp_path / "test.parquet")
    outputs = {}
    files = ("model.skops", "predictor.json", "cv.json", "metrics.json", "confusion.json")
    for name, frame in (("weights", weighted), ("copies", copies.drop("weight"))):
        frame.write_parquet(tmp_path / f"{name}.parquet")
        out = tmp_path / name
        code = model_stage.main(
            [
                *("--train", str(tmp_path / f"{name}.parquet")),
                *("--train-original", str(tmp_path / "original.parquet")),
                *("--test", str(tmp_path / "test.parquet")),
                *("--model", str(out / "model.skops")),
                *("--predictor", str(out / "predictor.json")),
                *("--cv", str(out / "cv.json")),
                *("--metrics", str(out / "metrics.json")),
                *("--confusion", str(out / "confusion.json")),
                *("--plots-dir", str(out / "plots")),
                *("--params", str(REPO_ROOT / "params.yaml")),
            ]
        )
        assert code == 0
        outputs[name] = [(out / f).read_bytes() for f in files]
    assert outputs["weights"] == outputs["copies"]
    report = json.loads(outputs["weights"][1])
    assert report["predictor"]["train_rows"] == copies.height
    stats = inference.coefficient_inference(original, params.features)
    by_weights = inference.with_resampled_rows_comparison(stats, weighted, params.features)
    by_copies = inference.with_resampled_rows_comparison(
        stats, copies.drop("weight"), params.features
    )
    assert by_weights["resampled_rows_comparison"]["rows"] == copies.height
    assert by_weights == by_copies


def test_threshold_precision_and_recall_are_scikit_learns():
    """calibration.at_threshold counts flags itself for one entry per video: the same figures
    as scikit-learn's, bit for bit, including thresholds that flag nothing or everything."""
    from tiktok_verified.modeling import calibration
    from tiktok_verified.modeling.metrics import classification_metrics

    rng = np.random.default_rng(7)
    y = (rng.random(5_000) < 0.07).astype(np.int64)
    q = np.round(rng.random(5_000) * 0.3 + 0.05 * y, 3)
    for t in (*calibration.CALIBRATED_GRID, 0.0, 0.99):
        flagged = q >= t
        ours = calibration.at_threshold(y, q, t)
        theirs = classification_metrics(y, flagged.astype(np.int64))
        assert ours["precision"] == theirs["precision"], t
        assert ours["recall"] == theirs["recall"], t
    none = np.zeros(10, dtype=np.int64)
    row = calibration.at_threshold(none, np.zeros(10), 0.5)
    assert (row["precision"], row["recall"]) == (0.0, 0.0)
