"""Held-out metrics with scikit-learn: accuracy, balanced accuracy, precision, recall and F1 of
the verified class at the decision threshold, the confusion matrix, the threshold-free ROC AUC,
average precision, log loss and Brier score, the no-skill reference, and the per-row and curve
data that `dvc plots` draws."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

from tiktok_verified.config import Params
from tiktok_verified.data import schema
from tiktok_verified.modeling.design import design

LABELS = (schema.NEGATIVE, schema.POSITIVE)
THRESHOLD_GRID = tuple(round(0.05 * k, 2) for k in range(1, 20))
MAX_CURVE_POINTS = 500


def predict_proba(pipeline: Pipeline, frame: pl.DataFrame, params: Params) -> np.ndarray:
    """P(verified) for each row."""
    return pipeline.predict_proba(design(frame, params.features))[:, 1]


def videos(y: np.ndarray, w: np.ndarray | None = None) -> int:
    """How many videos: one per entry, or the sum of the row counts `w` when each entry stands
    for that many videos with the same label and score (the Spark engine's aggregated cells;
    every metric here takes them as scikit-learn's `sample_weight`)."""
    return int(len(y)) if w is None else int(round(float(np.sum(w))))


def classification_metrics(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Threshold metrics of the verified class (`zero_division=0`)."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, pred, labels=[1], zero_division=0, sample_weight=w
    )
    return {
        "accuracy": float(accuracy_score(y, pred, sample_weight=w)),
        "balanced_accuracy": float(balanced_accuracy_score(y, pred, sample_weight=w)),
        "precision": float(precision[0]),
        "recall": float(recall[0]),
        "f1": float(f1[0]),
        "rows": videos(y, w),
    }


def probability_metrics(y: np.ndarray, proba: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Threshold-free metrics of the predicted probabilities."""
    return {
        "roc_auc": float(roc_auc_score(y, proba, sample_weight=w)),
        "average_precision": float(average_precision_score(y, proba, sample_weight=w)),
        "log_loss": float(log_loss(y, proba, labels=[0, 1], sample_weight=w)),
        "brier": float(brier_score_loss(y, proba, labels=[0, 1], sample_weight=w)),
    }


def all_metrics(
    y: np.ndarray, proba: np.ndarray, threshold: float, w: np.ndarray | None = None
) -> dict:
    pred = (proba >= threshold).astype(np.int64)
    return {**classification_metrics(y, pred, w), **probability_metrics(y, proba, w)}


def share(y: np.ndarray, w: np.ndarray | None = None) -> float:
    """The verified share."""
    return float(np.mean(y)) if w is None else float(np.average(y, weights=w))


def fitted_share(strategy: str, y_train: np.ndarray, w: np.ndarray | None = None) -> float:
    """The verified share the classifier was fitted at: every rebalancing strategy (rows or
    class weights) balances the classes; `none` keeps the training part's share."""
    return share(y_train, w) if strategy == "none" else 0.5


def prior_corrected(proba: np.ndarray, fitted: float, true: float) -> np.ndarray:
    """Probabilities moved from the class balance the model was fitted at to the real one:
    the log-odds shift by ln(true prior odds) - ln(fitted prior odds) (the standard correction
    for case-control sampling or rebalancing, e.g. King & Zeng 2001). Ranking metrics and
    the flagged set at a matching threshold are unchanged; log loss and Brier become
    meaningful against the real base rate."""
    shift = math.log(true / (1 - true)) - math.log(fitted / (1 - fitted))
    p = np.clip(proba, 1e-15, 1 - 1e-15)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + shift)))


def no_skill_metrics(
    y_train: np.ndarray,
    y_test: np.ndarray,
    threshold: float,
    w_train: np.ndarray | None = None,
    w_test: np.ndarray | None = None,
) -> dict:
    """The reference a model must beat: every video gets the training part's verified share
    as its probability (so, at the usual thresholds, every video is called not verified)."""
    constant = np.full(len(y_test), share(y_train, w_train))
    return all_metrics(y_test, constant, threshold, w_test)


def confusion(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> dict:
    counts = confusion_matrix(y, pred, labels=[0, 1], sample_weight=w)
    (tn, fp), (fn, tp) = np.rint(counts).astype(np.int64).tolist()
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


def predictions_table(y: np.ndarray, pred: np.ndarray, w: np.ndarray | None = None) -> pl.DataFrame:
    """One row per video (cells expanded by their counts), for the confusion-matrix plot."""
    if w is not None:
        y, pred = np.repeat(y, w.astype(np.int64)), np.repeat(pred, w.astype(np.int64))
    labels = pl.Series(LABELS, dtype=pl.String)  # gathered by polars: no numpy string arrays
    return pl.DataFrame({"actual": labels.gather(y), "predicted": labels.gather(pred)})


def threshold_table(
    y: np.ndarray, proba: np.ndarray, thresholds=THRESHOLD_GRID, w: np.ndarray | None = None
) -> pl.DataFrame:
    """Precision, recall, F1 and share flagged as verified at each decision threshold (a video
    is flagged when its probability is >= the threshold), read off scikit-learn's ROC curve at
    every distinct probability: one sort, however many thresholds."""
    fpr, tpr, cuts = roc_curve(y, proba, drop_intermediate=False, sample_weight=w)
    # cuts descending, [0] = inf
    weights = np.ones(len(y)) if w is None else w
    positives, negatives = videos(y[y == 1], weights[y == 1]), videos(y[y != 1], weights[y != 1])
    rows = []
    for threshold in thresholds:
        point = int(np.searchsorted(-cuts, -threshold, side="right")) - 1  # last cut >= t
        tp, fp = round(tpr[point] * positives), round(fpr[point] * negatives)
        flagged = tp + fp
        precision = tp / flagged if flagged else 0.0
        recall = tp / positives if positives else 0.0
        total = precision + recall
        rows.append(
            {
                "threshold": threshold,
                "precision": precision,
                "recall": recall,
                "f1": 2 * precision * recall / total if total else 0.0,
                "flagged_share": flagged / videos(y, w),
            }
        )
    return pl.DataFrame(rows)


def _thin(frame: pl.DataFrame, limit: int = MAX_CURVE_POINTS) -> pl.DataFrame:
    """Keep at most `limit` evenly spaced points, always the first and the last."""
    if frame.height <= limit:
        return frame
    idx = np.unique(np.linspace(0, frame.height - 1, limit).round().astype(np.int64))
    return frame[idx]


def roc_table(y: np.ndarray, proba: np.ndarray, w: np.ndarray | None = None) -> pl.DataFrame:
    fpr, tpr, thresholds = roc_curve(y, proba, sample_weight=w)
    # sklearn's first threshold is +inf (nothing flagged); clamp it to 1 for renderers.
    thresholds = np.minimum(thresholds, 1.0)
    return _thin(pl.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thresholds}))


def precision_recall_table(
    y: np.ndarray, proba: np.ndarray, w: np.ndarray | None = None
) -> pl.DataFrame:
    precision, recall, thresholds = precision_recall_curve(y, proba, sample_weight=w)
    # The last point (recall 0, precision 1) has no threshold; give it 1.
    thresholds = np.append(thresholds, 1.0)
    return _thin(pl.DataFrame({"recall": recall, "precision": precision, "threshold": thresholds}))
