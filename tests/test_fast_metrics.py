"""The count-based metrics, the numpy split and the one-inverse VIF against the scikit-learn /
statsmodels computations they replace: same values (to 1e-12), degenerate cases included."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from sklearn import metrics as skm
from sklearn.model_selection import train_test_split
from statsmodels.stats.outliers_influence import variance_inflation_factor

from tiktok_verified import assumptions, evaluate
from tiktok_verified.features import Y
from tiktok_verified.split import class_quotas, split_rows, stratified_sample

TOL = 1e-12


def sklearn_classification(y, pred) -> dict:
    """What evaluate.classification_metrics computed before (scikit-learn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, _ = skm.precision_recall_fscore_support(
            y, pred, labels=[1], average=None, zero_division=0
        )
        balanced = skm.balanced_accuracy_score(y, pred)
    return {
        "accuracy": float(skm.accuracy_score(y, pred)),
        "balanced_accuracy": float(balanced),
        "precision": float(p[0]),
        "recall": float(r[0]),
        "f1": float(f[0]),
        "rows": len(y),
    }


def labels_and_predictions():
    rng = np.random.default_rng(11)
    y = (rng.random(5_000) < 0.1).astype(np.int64)
    pred = (rng.random(5_000) < 0.3).astype(np.int64)
    zeros, ones = np.zeros(300, np.int64), np.ones(300, np.int64)
    mixed = (np.arange(300) % 7 == 0).astype(np.int64)
    return {
        "random": (y, pred),
        "no positive predicted": (y, np.zeros_like(y)),
        "every row predicted positive": (y, np.ones_like(y)),
        "no positive present": (zeros, mixed),
        "no positive present or predicted": (zeros, zeros),
        "only positives present": (ones, mixed),
        "only positives, none predicted": (ones, zeros),
        "perfect": (mixed, mixed),
        "one row": (np.array([1]), np.array([0])),
    }


@pytest.mark.parametrize("case", list(labels_and_predictions()))
def test_classification_metrics_equal_sklearn(case):
    y, pred = labels_and_predictions()[case]
    got = evaluate.classification_metrics(y, pred)
    want = sklearn_classification(y, pred)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=TOL), key


@pytest.mark.parametrize("case", list(labels_and_predictions()))
def test_confusion_equals_sklearn(case):
    y, pred = labels_and_predictions()[case]
    got = evaluate.confusion(y, pred)
    matrix = skm.confusion_matrix(y, pred, labels=[0, 1]).tolist()
    assert got["matrix"] == matrix
    assert [got[k] for k in ("true_negative", "false_positive")] == matrix[0]
    assert [got[k] for k in ("false_negative", "true_positive")] == matrix[1]
    assert all(type(v) is int for row in got["matrix"] for v in row)


def test_counts_reject_labels_outside_zero_one():
    with pytest.raises(ValueError, match="0 or 1"):
        evaluate.classification_metrics(np.array([0, 2]), np.array([0, 1]))
    with pytest.raises(ValueError, match="predictions"):
        evaluate.confusion(np.array([0, 1]), np.array([1]))


def reference_threshold_table(y, proba, thresholds) -> pl.DataFrame:
    """evaluate.threshold_table as it was: one scikit-learn pass per threshold."""
    rows = []
    for t in thresholds:
        pred = (proba >= t).astype(np.int64)
        m = sklearn_classification(y, pred)
        rows.append(
            {
                "threshold": t,
                "precision": m["precision"],
                "recall": m["recall"],
                "f1": m["f1"],
                "flagged_share": float(pred.mean()),
            }
        )
    return pl.DataFrame(rows)


def probabilities():
    rng = np.random.default_rng(5)
    n = 4_000
    y = (rng.random(n) < 0.15).astype(np.int64)
    smooth = np.clip(0.1 + 0.5 * y + 0.3 * rng.normal(size=n), 0, 1)
    # Rounded to the grid: many ties, and many probabilities exactly on a threshold.
    tied = np.array([round(0.05 * k, 2) for k in rng.integers(0, 21, n)])
    return {
        "smooth": (y, smooth),
        "ties on the thresholds": (y, tied),
        "constant": (y, np.full(n, float(y.mean()))),
        "no positive present": (np.zeros(n, np.int64), smooth),
        "only positives present": (np.ones(n, np.int64), tied),
        "zeros and ones": (y, y.astype(np.float64)),
        "wrong way round": (y, 1.0 - y),
    }


@pytest.mark.parametrize("case", list(probabilities()))
def test_threshold_table_equals_per_threshold_sklearn(case):
    y, proba = probabilities()[case]
    grid = sorted({*evaluate.THRESHOLD_GRID, 0.5, 0.37, 0.0, 1.0})
    got = evaluate.threshold_table(y, proba, grid)
    want = reference_threshold_table(y, proba, grid)
    assert got.columns == want.columns and got["threshold"].to_list() == grid
    for column in want.columns:
        np.testing.assert_allclose(got[column].to_numpy(), want[column].to_numpy(), atol=TOL)


@pytest.mark.parametrize("case", list(probabilities()))
def test_log_loss_and_brier_equal_sklearn(case):
    y, proba = probabilities()[case]
    want = skm.log_loss(y, proba, labels=[0, 1])
    assert evaluate.log_loss(y, proba) == pytest.approx(want, rel=TOL, abs=TOL)
    assert evaluate.brier_score_loss(y, proba) == pytest.approx(
        skm.brier_score_loss(y, proba), rel=TOL, abs=TOL
    )


@pytest.mark.parametrize("case", list(probabilities()))
def test_roc_auc_and_average_precision_equal_sklearn(case):
    y, proba = probabilities()[case]
    with warnings.catch_warnings():  # one class present: AUC undefined (nan, a warning)
        warnings.simplefilter("ignore")
        auc, ap = evaluate.ranking_metrics(y, proba)
        want_auc, want_ap = skm.roc_auc_score(y, proba), skm.average_precision_score(y, proba)
    assert auc == pytest.approx(want_auc, rel=TOL, abs=TOL, nan_ok=True)
    assert ap == pytest.approx(want_ap, rel=TOL, abs=TOL)


def test_ranking_metrics_on_hand_checked_ties():
    # Pairs (pos, neg): 0.8>0.2, 0.8>0.5, 0.5=0.5 (half), 0.5>0.2 -> AUC 3.5 / 4.
    y = np.array([1, 0, 1, 0])
    proba = np.array([0.8, 0.5, 0.5, 0.2])
    auc, ap = evaluate.ranking_metrics(y, proba)
    assert auc == 3.5 / 4
    # At 0.8: recall 1/2, precision 1; at 0.5: recall 1, precision 2/3.
    assert ap == pytest.approx(0.5 * 1 + 0.5 * 2 / 3, abs=TOL)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate.ranking_metrics(y, np.array([0.8, np.nan, 0.5, 0.2]))


def test_log_loss_clips_at_machine_epsilon_like_sklearn():
    y = np.array([1, 0, 1, 0, 1])
    proba = np.array([0.0, 1.0, 1e-300, 1 - 1e-17, 5e-324])
    want = skm.log_loss(y, proba, labels=[0, 1])
    assert math.isfinite(want)
    assert evaluate.log_loss(y, proba) == pytest.approx(want, rel=TOL)
    assert evaluate.log_loss(y, proba) == pytest.approx(-math.log(np.finfo(float).eps), rel=TOL)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate.log_loss(np.array([1]), np.array([1.5]))


def test_all_metrics_equal_the_sklearn_calls():
    y, proba = probabilities()["smooth"]
    got = evaluate.all_metrics(y, proba, 0.5)
    want = {
        **sklearn_classification(y, (proba >= 0.5).astype(np.int64)),
        "roc_auc": skm.roc_auc_score(y, proba),
        "average_precision": skm.average_precision_score(y, proba),
        "log_loss": skm.log_loss(y, proba, labels=[0, 1]),
        "brier": skm.brier_score_loss(y, proba),
    }
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=TOL, abs=TOL), key


# --- split ------------------------------------------------------------------------------


def frame_with_outcome(n: int, share: float, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < share).astype(np.int64)
    return pl.DataFrame({"video_id": np.arange(n) * 3 + 7, Y: y})


def sklearn_class_counts(y: np.ndarray, **sizes) -> tuple[np.ndarray, np.ndarray] | None:
    """Class counts of scikit-learn's stratified split; None where its random tie-break of
    equal remainders makes them depend on the seed."""
    seen = set()
    for seed in range(4):
        a, b = train_test_split(y, random_state=seed, stratify=y, **sizes)
        seen.add((tuple(np.bincount(a, minlength=2)), tuple(np.bincount(b, minlength=2))))
    return None if len(seen) > 1 else tuple(np.array(c) for c in seen.pop())


@pytest.mark.parametrize("n,share", [(1_000, 0.066), (997, 0.3), (41, 0.5), (250, 0.02)])
@pytest.mark.parametrize("test_size", [0.25, 0.2, 0.33])
def test_split_sizes_and_class_counts_match_sklearn(n, share, test_size):
    frame = frame_with_outcome(n, share)
    y = frame[Y].to_numpy()
    train, test = split_rows(frame, test_size, True, seed=3)
    assert test.height == math.ceil(test_size * n) and train.height + test.height == n
    want = sklearn_class_counts(y, test_size=test_size)
    if want is not None:
        assert np.bincount(train[Y], minlength=2).tolist() == want[0].tolist()
        assert np.bincount(test[Y], minlength=2).tolist() == want[1].tolist()


def test_split_is_seeded_disjoint_complete_and_in_input_order():
    frame = frame_with_outcome(2_000, 0.07)
    train, test = split_rows(frame, 0.25, True, seed=0)
    ids = frame["video_id"]
    assert set(train["video_id"]).isdisjoint(test["video_id"])
    assert sorted([*train["video_id"], *test["video_id"]]) == ids.to_list()
    assert train["video_id"].is_sorted() and test["video_id"].is_sorted()
    again_train, again_test = split_rows(frame, 0.25, True, seed=0)
    assert again_train.equals(train) and again_test.equals(test)
    other, _ = split_rows(frame, 0.25, True, seed=1)
    assert not other.equals(train)
    # Each class's test share is its rounded quota: |test positives - 0.25 * positives| < 1.
    assert abs(test[Y].sum() - 0.25 * frame[Y].sum()) < 1


def test_unstratified_split_has_the_sizes_and_no_overlap():
    frame = frame_with_outcome(1_001, 0.5)
    train, test = split_rows(frame, 0.2, False, seed=4)
    assert test.height == math.ceil(0.2 * 1_001) and train.height == 1_001 - test.height
    assert set(train["video_id"]).isdisjoint(test["video_id"])
    assert split_rows(frame, 0.2, False, seed=4)[1].equals(test)


def test_split_refuses_an_empty_part():
    with pytest.raises(ValueError, match="empty part"):
        split_rows(frame_with_outcome(1, 0.5), 0.25, True, seed=0)


@pytest.mark.parametrize("max_rows", [100, 777, 1_990])
def test_stratified_sample_matches_sklearn_counts_and_keeps_order(max_rows):
    frame = frame_with_outcome(2_000, 0.08, seed=2)
    sample = stratified_sample(frame, max_rows, seed=9)
    assert sample.height == max_rows and sample["video_id"].is_sorted()
    assert sample["video_id"].is_in(frame["video_id"].implode()).all()
    assert sample["video_id"].n_unique() == max_rows
    want = sklearn_class_counts(frame[Y].to_numpy(), train_size=max_rows)
    if want is not None:
        assert np.bincount(sample[Y], minlength=2).tolist() == want[0].tolist()
    assert stratified_sample(frame, max_rows, seed=9).equals(sample)
    assert stratified_sample(frame, 5_000, seed=9) is frame


def test_class_quotas_round_to_the_closest_shares():
    assert class_quotas(np.array([90, 10]), 25).tolist() == [23, 2]  # 22.5 / 2.5: tie -> first
    assert class_quotas(np.array([10, 90]), 25).tolist() == [3, 22]
    assert class_quotas(np.array([3, 3, 4]), 5).tolist() == [2, 1, 2]
    assert class_quotas(np.array([5, 0]), 5).tolist() == [5, 0]
    assert class_quotas(np.array([7, 2]), 0).tolist() == [0, 0]


# --- VIF -------------------------------------------------------------------------------


def statsmodels_vifs(X: np.ndarray) -> list[float]:
    exog = sm.add_constant(X, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [float(variance_inflation_factor(exog, k + 1)) for k in range(X.shape[1])]


def correlated_design(n: int = 2_000, seed: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.95 * a + 0.2 * rng.normal(size=n)
    c = rng.lognormal(size=n) * 1e6  # a count on another scale
    d = (rng.random(n) < 0.3).astype(float)  # a dummy
    e = 0.5 * b - 0.5 * d + 0.1 * rng.normal(size=n)
    return np.column_stack([a, b, c, d, e])


def test_vif_equals_statsmodels():
    X = correlated_design()
    names = list("abcde")
    got = assumptions.vifs(X, names)
    for name, want in zip(names, statsmodels_vifs(X), strict=True):
        assert got[name] == pytest.approx(want, rel=1e-11), name
    assert got["b"] > 10


def test_a_constant_column_gets_one_and_leaves_the_others_vifs_alone():
    X = correlated_design()
    X[:, 2] = 4.0
    got = list(assumptions.vifs(X, list("abcde")).values())
    assert got[2] == 1.0 == statsmodels_vifs(X)[2]
    # statsmodels' own figures for the others drift here (two constant columns in its
    # auxiliary regressions); without the constant column they are the same as ours.
    without = statsmodels_vifs(np.delete(X, 2, axis=1))
    np.testing.assert_allclose(np.delete(got, 2), without, rtol=1e-11)


def test_vif_of_an_exact_dependence_is_inf_and_the_rest_as_statsmodels():
    X = correlated_design()
    # A dummy trap: d and 1 - d with the intercept.
    X = np.column_stack([X, 1.0 - X[:, 3]])
    names = list("abcdef")
    got = assumptions.vifs(X, names)
    want = statsmodels_vifs(X)
    assert got["d"] == got["f"] == math.inf
    assert want[3] > 1e12 and want[5] > 1e12  # statsmodels: rounding noise around 1e15
    for k in (0, 1, 2, 4):
        assert got[names[k]] == pytest.approx(want[k], rel=1e-9), names[k]


def test_vif_elimination_drops_the_dependent_column_first():
    X = correlated_design()
    X = np.column_stack([X, X[:, 0] + X[:, 2]])
    steps, final = assumptions.vif_elimination(X, list("abcdeg"), keep=("d",))
    assert steps[0]["dropped"] in {"a", "c", "g"} and steps[0]["vif"] == math.inf
    assert max(final.values()) <= assumptions.VIF_WARN


def test_class_quotas_sum_to_the_draw_and_stay_within_one_of_the_share():
    rng = np.random.default_rng(1)
    for _ in range(500):
        counts = rng.integers(0, 50, size=rng.integers(1, 6))
        if counts.sum() == 0:
            continue
        n_take = int(rng.integers(0, counts.sum() + 1))
        quotas = class_quotas(counts, n_take)
        exact = counts * n_take / counts.sum()
        assert quotas.sum() == n_take
        assert (quotas <= counts).all() and (np.abs(quotas - exact) < 1).all()
    with pytest.raises(ValueError, match="cannot take"):
        class_quotas(np.array([2, 3]), 6)


def test_predictions_table_names_the_classes_row_for_row():
    y, pred = labels_and_predictions()["random"]
    table = evaluate.predictions_table(y, pred)
    labels = np.asarray(evaluate.LABELS)
    assert table.equals(pl.DataFrame({"actual": labels[y], "predicted": labels[pred]}))
    assert table.schema == pl.Schema({"actual": pl.String, "predicted": pl.String})


def test_stratified_split_refuses_a_class_of_one_video_naming_it(tmp_path, capsys):
    """As train_test_split did: a class with one video cannot be in both parts. The split
    stage says so, naming the file, and writes nothing."""
    from tiktok_verified import split

    frame = frame_with_outcome(100, 0.0).with_columns(
        pl.when(pl.col("video_id") == 7).then(1).otherwise(pl.col(Y)).cast(pl.Int8).alias(Y)
    )
    assert frame[Y].sum() == 1
    with pytest.raises(ValueError, match="at least 2 videos of each class; 'verified' has 1"):
        split_rows(frame, 0.25, True, seed=0)
    assert split_rows(frame, 0.25, False, seed=0)[1].height == 25  # unstratified: allowed
    features = tmp_path / "features.parquet"
    frame.write_parquet(features)
    outs = [tmp_path / f"{n}.parquet" for n in ("train", "train_original", "test")]
    code = split.main(
        [
            *("--features", str(features)),
            *("--train", str(outs[0]), "--train-original", str(outs[1]), "--test", str(outs[2])),
            *("--report", str(tmp_path / "split.json")),
            *("--params", str(Path(__file__).resolve().parents[1] / "params.yaml")),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and f"split: error: {features}: a stratified split needs" in err
    assert not any(p.exists() for p in outs)
