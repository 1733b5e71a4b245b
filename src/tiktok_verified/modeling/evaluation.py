"""The held-out evaluation the model stage writes: the model's metrics on the training part
(as split) and the held-out part, the references it must be read against (no skill, and the
one-line rule "flag every opinion video"), the calibrated probabilities with their curve and a
threshold table per 10,000 videos, and the curves `dvc plots` draws."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

from tiktok_verified.config import Params
from tiktok_verified.modeling import calibration
from tiktok_verified.modeling.design import outcome
from tiktok_verified.modeling.metrics import (
    THRESHOLD_GRID,
    all_metrics,
    classification_metrics,
    confusion,
    fitted_share,
    no_skill_metrics,
    precision_recall_table,
    predict_proba,
    predictions_table,
    prior_corrected,
    roc_table,
    threshold_table,
)


def opinion_rule(test: pl.DataFrame, y: np.ndarray, pred: np.ndarray) -> dict | None:
    """The rule "flag every opinion video" on the held-out part, and on how many videos it
    agrees with the model's flags; None when claim status is not a predictor."""
    if "claim_status" not in test.columns:
        return None
    flags = (test["claim_status"].cast(pl.String) == "opinion").to_numpy().astype(np.int64)
    return {
        **classification_metrics(y, flags),
        "roc_auc": float(roc_auc_score(y, flags)),
        "agrees_with_model": int(np.sum(flags == pred)),
    }


def evaluate(pipeline: Pipeline, train: pl.DataFrame, test: pl.DataFrame, params: Params):
    """Metrics on the training part (as split, not resampled) and on the held-out part."""
    threshold = params.evaluate.threshold
    y_train, y_test = outcome(train), outcome(test)
    p_train = predict_proba(pipeline, train, params)
    p_test = predict_proba(pipeline, test, params)
    pred_test = (p_test >= threshold).astype(np.int64)
    metrics = {
        "threshold": threshold,
        "resample": params.resample.strategy,
        "train": all_metrics(y_train, p_train, threshold),
        "test": all_metrics(y_test, p_test, threshold),
        "no_skill": {"test": no_skill_metrics(y_train, y_test, threshold)},
        "opinion_rule": {"test": opinion_rule(test, y_test, pred_test)},
    }
    # Rebalanced fitting shifts every probability towards "verified": log loss and Brier are
    # also given after moving the probabilities back to the training part's verified share.
    share = float(np.mean(y_train))
    fitted = fitted_share(params.resample.strategy, y_train)
    calibrated = {}
    for part, y, proba in (("train", y_train, p_train), ("test", y_test, p_test)):
        q = calibrated[part] = prior_corrected(proba, fitted, share)
        metrics[part]["log_loss_prior_corrected"] = float(log_loss(y, q, labels=[0, 1]))
        metrics[part]["brier_prior_corrected"] = float(brier_score_loss(y, q, labels=[0, 1]))
    metrics["calibration"] = {
        "fitted_share": fitted,
        "true_share": share,
        "recommended": calibration.recommend(
            y_train, calibrated["train"], y_test, calibrated["test"]
        ),
    }
    grid = sorted({*THRESHOLD_GRID, threshold})
    curves = {
        "roc": roc_table(y_test, p_test),
        "precision_recall": precision_recall_table(y_test, p_test),
        "thresholds": threshold_table(y_test, p_test, grid),
        "calibration_raw": calibration.curve(y_test, p_test),
        "calibration": calibration.curve(y_test, calibrated["test"]),
        "calibrated_thresholds": calibration.threshold_table(y_test, calibrated["test"]),
    }
    return metrics, confusion(y_test, pred_test), predictions_table(y_test, pred_test), curves
