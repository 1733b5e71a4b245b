"""Evaluate: held-out metrics beyond accuracy, the confusion matrix, the effect of the decision
threshold, and the per-row / curve data that `dvc plots` draws."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from tiktok_verified import model as model_lib
from tiktok_verified import schema
from tiktok_verified.config import ConfigError, Params, load_params
from tiktok_verified.io import write_json, write_with

LABELS = (schema.NEGATIVE, schema.POSITIVE)
THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))
MAX_CURVE_POINTS = 500


def predict_proba(pipeline: Pipeline, frame: pl.DataFrame, params: Params) -> np.ndarray:
    return model_lib.predict_proba(pipeline, frame, params.features)


def predict(pipeline: Pipeline, frame: pl.DataFrame, params: Params, threshold: float):
    proba = predict_proba(pipeline, frame, params)
    return proba, (proba >= threshold).astype(np.int64)


def _counts(y: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    """tn, fp, fn, tp of 0/1 labels against 0/1 predictions, in one pass."""
    y = np.asarray(y, dtype=np.int64)
    pred = np.asarray(pred, dtype=np.int64)
    if y.shape != pred.shape:
        raise ValueError(f"{len(y)} labels but {len(pred)} predictions")
    for values in (y, pred):
        if values.size and (values.min() < 0 or values.max() > 1):
            raise ValueError("labels and predictions must be 0 or 1")
    tn, fp, fn, tp = np.bincount(2 * y + pred, minlength=4).tolist()
    return tn, fp, fn, tp


def _ratio(num: int, den: int) -> float:
    """num / den, 0 when den is 0 (scikit-learn's zero_division=0)."""
    return num / den if den else 0.0


def _scores(tn: int, fp: int, fn: int, tp: int) -> dict:
    """Accuracy, balanced accuracy, precision, recall and F1 of the verified class from the
    confusion counts, as scikit-learn computes them (`zero_division=0`; balanced accuracy
    averages the recall of the classes present in the labels)."""
    n = tn + fp + fn + tp
    present = [c / t for c, t in ((tn, tn + fp), (tp, tp + fn)) if t]
    return {
        "accuracy": (tn + tp) / n,
        "balanced_accuracy": float(np.mean(present)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, (tp + fn) + (tp + fp)),
    }


def classification_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """Threshold metrics of the verified class (equal to scikit-learn's accuracy_score,
    balanced_accuracy_score and precision_recall_fscore_support(labels=[1],
    zero_division=0), from one bincount instead of five validated passes)."""
    return {**_scores(*_counts(y, pred)), "rows": int(len(y))}


def _two_class(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    if y.shape != proba.shape:
        raise ValueError(f"{len(y)} labels but {len(proba)} probabilities")
    if proba.size and not (proba.min() >= 0 and proba.max() <= 1):  # NaN fails too
        raise ValueError("probabilities must lie in [0, 1]")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError("labels must be 0 or 1")
    return y == 1, proba


def _sorted_by_class(y: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The verified videos' probabilities and the others', each sorted."""
    positive, proba = _two_class(y, proba)
    return np.sort(proba[positive]), np.sort(proba[~positive])


def log_loss(y: np.ndarray, proba: np.ndarray, labels=(0, 1)) -> float:
    """Mean negative log-likelihood of 0/1 labels, as scikit-learn's `log_loss(y, proba,
    labels=[0, 1])`: the probability given to the actual class clipped to [eps, 1 - eps],
    eps the float64 machine epsilon."""
    if tuple(labels) != (0, 1):
        raise ValueError("only the labels (0, 1) are supported")
    positive, proba = _two_class(y, proba)
    eps = np.finfo(np.float64).eps
    actual = np.where(positive, proba, 1.0 - proba)
    return float(-np.mean(np.log(np.clip(actual, eps, 1.0 - eps))))


def brier_score_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean squared difference between the verified probability and the 0/1 label, as
    scikit-learn's `brier_score_loss` (binary, `scale_by_half="auto"`)."""
    positive, proba = _two_class(y, proba)
    return float(np.mean(np.square(positive - proba)))


def ranking_metrics(y: np.ndarray, proba: np.ndarray) -> tuple[float, float]:
    """ROC AUC and average precision of the verified class, equal to scikit-learn's
    roc_auc_score and average_precision_score, from one sort of each class's probabilities:
    AUC is the share of (verified, not verified) pairs ranked the right way round, ties
    counting one half; AP sums, over the distinct probabilities of verified videos, the share
    of verified videos at that probability times the precision of flagging all videos at or
    above it. With only one class present, scikit-learn's own calls (and their errors)."""
    pos, neg = _sorted_by_class(y, proba)
    n_pos, n_neg = len(pos), len(neg)
    if not n_pos or not n_neg:
        return float(roc_auc_score(y, proba)), float(average_precision_score(y, proba))
    below = np.searchsorted(neg, pos, side="left")
    tied = np.searchsorted(neg, pos, side="right") - below
    auc = int(2 * below.sum() + tied.sum()) / (2 * n_pos * n_neg)
    first = np.flatnonzero(np.r_[True, pos[1:] != pos[:-1]])  # first index of each value
    verified_at = np.diff(np.r_[first, n_pos])
    tp = n_pos - first  # verified videos at or above each value
    fp = n_neg - np.searchsorted(neg, pos[first], side="left")
    ap = float(np.sum(verified_at * (tp / (tp + fp)))) / n_pos
    return auc, ap


def probability_metrics(y: np.ndarray, proba: np.ndarray) -> dict:
    """Threshold-free metrics of the predicted probabilities."""
    auc, ap = ranking_metrics(y, proba)
    return {
        "roc_auc": auc,
        "average_precision": ap,
        "log_loss": log_loss(y, proba),
        "brier": brier_score_loss(y, proba),
    }


def fitted_share(strategy: str, y_train: np.ndarray) -> float:
    """The verified share the classifier was fitted at: every rebalancing strategy (rows or
    class weights) balances the classes; `none` keeps the training part's share."""
    return float(np.mean(y_train)) if strategy == "none" else 0.5


def prior_corrected(proba: np.ndarray, fitted: float, true: float) -> np.ndarray:
    """Probabilities moved from the class balance the model was fitted at to the real one:
    the log-odds shift by ln(true prior odds) - ln(fitted prior odds) (the standard correction
    for case-control sampling or rebalancing, e.g. King & Zeng 2001). Ranking metrics and
    the flagged set at a matching threshold are unchanged; log loss and Brier become
    meaningful against the real base rate."""
    shift = math.log(true / (1 - true)) - math.log(fitted / (1 - fitted))
    p = np.clip(proba, 1e-15, 1 - 1e-15)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + shift)))


def all_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict:
    pred = (proba >= threshold).astype(np.int64)
    return {**classification_metrics(y, pred), **probability_metrics(y, proba)}


def no_skill_metrics(y_train: np.ndarray, y_test: np.ndarray, threshold: float) -> dict:
    """The reference a model must beat: every video gets the training part's verified share
    as its probability (so, at the usual thresholds, every video is called not verified)."""
    constant = np.full(len(y_test), float(np.mean(y_train)))
    return all_metrics(y_test, constant, threshold)


def confusion(y: np.ndarray, pred: np.ndarray) -> dict:
    tn, fp, fn, tp = _counts(y, pred)
    return {
        "labels": list(LABELS),
        "matrix": [[tn, fp], [fn, tp]],
        "rows_are": "actual",
        "columns_are": "predicted",
        "true_negative": tn,
        "false_positive": fp,
        "false_negative": fn,
        "true_positive": tp,
    }


def predictions_table(y: np.ndarray, pred: np.ndarray) -> pl.DataFrame:
    labels = pl.Series(LABELS, dtype=pl.String)  # gathered by polars: no numpy string arrays
    return pl.DataFrame({"actual": labels.gather(y), "predicted": labels.gather(pred)})


def threshold_table(y: np.ndarray, proba: np.ndarray, thresholds=THRESHOLD_GRID) -> pl.DataFrame:
    """Precision, recall and share flagged as verified at each decision threshold (a video is
    flagged when its probability is >= the threshold). Each class's probabilities are sorted
    once; the counts at every threshold come from binary searches in them."""
    pos, neg = _sorted_by_class(y, proba)
    t = np.asarray(thresholds, dtype=np.float64)
    tp = len(pos) - np.searchsorted(pos, t, side="left")
    fp = len(neg) - np.searchsorted(neg, t, side="left")
    rows = []
    for k, threshold in enumerate(thresholds):
        tp_k, fp_k = int(tp[k]), int(fp[k])
        m = _scores(len(neg) - fp_k, fp_k, len(pos) - tp_k, tp_k)
        rows.append(
            {
                "threshold": threshold,
                "precision": m["precision"],
                "recall": m["recall"],
                "f1": m["f1"],
                "flagged_share": (tp_k + fp_k) / (len(pos) + len(neg)),
            }
        )
    return pl.DataFrame(rows)


def _thin(frame: pl.DataFrame, limit: int = MAX_CURVE_POINTS) -> pl.DataFrame:
    """Keep at most `limit` evenly spaced points, always the first and the last."""
    if frame.height <= limit:
        return frame
    idx = np.unique(np.linspace(0, frame.height - 1, limit).round().astype(np.int64))
    return frame[idx]


def roc_table(y: np.ndarray, proba: np.ndarray) -> pl.DataFrame:
    fpr, tpr, thresholds = roc_curve(y, proba)
    # sklearn's first threshold is +inf (nothing flagged); clamp it to 1 for renderers.
    thresholds = np.minimum(thresholds, 1.0)
    return _thin(pl.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds}))


def precision_recall_table(y: np.ndarray, proba: np.ndarray) -> pl.DataFrame:
    precision, recall, thresholds = precision_recall_curve(y, proba)
    # The last point (recall 0, precision 1) has no threshold; give it 1.
    thresholds = np.append(thresholds, 1.0)
    return _thin(pl.DataFrame({"recall": recall, "precision": precision, "threshold": thresholds}))


def evaluate(pipeline: Pipeline, train: pl.DataFrame, test: pl.DataFrame, params: Params):
    """Metrics on the training part (as split, not resampled) and on the held-out part."""
    threshold = params.evaluate.threshold
    y_train = model_lib.outcome(train)
    y_test = model_lib.outcome(test)
    p_train = predict_proba(pipeline, train, params)
    p_test = predict_proba(pipeline, test, params)
    pred_test = (p_test >= threshold).astype(np.int64)
    metrics = {
        "threshold": threshold,
        "resample": params.resample.strategy,
        "train": all_metrics(y_train, p_train, threshold),
        "test": all_metrics(y_test, p_test, threshold),
        "no_skill": {"test": no_skill_metrics(y_train, y_test, threshold)},
    }
    # Rebalanced fitting shifts every probability towards "verified": log loss and Brier are
    # also given after moving the probabilities back to the training part's verified share.
    share = float(np.mean(y_train))
    fitted = fitted_share(params.resample.strategy, y_train)
    for part, y, proba in (("train", y_train, p_train), ("test", y_test, p_test)):
        q = prior_corrected(proba, fitted, share)
        metrics[part]["log_loss_prior_corrected"] = float(log_loss(y, q, labels=[0, 1]))
        metrics[part]["brier_prior_corrected"] = float(brier_score_loss(y, q))
    grid = sorted({*THRESHOLD_GRID, threshold})
    curves = {
        "roc": roc_table(y_test, p_test),
        "precision_recall": precision_recall_table(y_test, p_test),
        "thresholds": threshold_table(y_test, p_test, grid),
    }
    return metrics, confusion(y_test, pred_test), predictions_table(y_test, pred_test), curves


def write_csv(path: Path, frame: pl.DataFrame) -> None:
    write_with(path, lambda tmp: frame.write_csv(tmp, float_precision=6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the model on the held-out part.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True, help="training part, as split")
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--confusion", type=Path, required=True)
    parser.add_argument("--plots-dir", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
        pipeline = model_lib.load(args.model)
    except (ConfigError, model_lib.ModelFileError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 1
    metrics, matrix, predictions, curves = evaluate(
        pipeline, pl.read_parquet(args.train), pl.read_parquet(args.test), params
    )
    write_csv(args.plots_dir / "predictions.csv", predictions)
    for name, frame in curves.items():
        write_csv(args.plots_dir / f"{name}.csv", frame)
    write_json(args.confusion, matrix)
    write_json(args.metrics, metrics)
    t = metrics["test"]
    print(
        f"evaluate: test accuracy {t['accuracy']:.4f}, precision {t['precision']:.4f}, "
        f"recall {t['recall']:.4f}, ROC AUC {t['roc_auc']:.4f} on {t['rows']} rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
