"""The held-out evaluation the model stage writes: the model's metrics on the training part
(as split) and the held-out part, the references it must be read against (no skill, and the
one-line rule "flag every opinion video"), the calibrated probabilities with their curve and a
threshold table per 10,000 videos, and the curves `dvc plots` draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline

from tiktok_verified.config import Params
from tiktok_verified.modeling import calibration, gain
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
    share,
    threshold_table,
)


@dataclass(frozen=True)
class Scored:
    """One part's labels `y` and probabilities `p`; `w` videos per entry when the entries are
    aggregated cells (the Spark engine), else one video each; `opinion` is 1 for an opinion
    video (None when claim status is not a predictor)."""

    y: np.ndarray
    p: np.ndarray
    w: np.ndarray | None = None
    opinion: np.ndarray | None = None


def opinion_flags(frame: pl.DataFrame) -> np.ndarray | None:
    if "claim_status" not in frame.columns:
        return None
    return (frame["claim_status"].cast(pl.String) == "opinion").to_numpy().astype(np.int64)


def opinion_rule(test: Scored, pred: np.ndarray) -> dict | None:
    """The rule "flag every opinion video" on the held-out part, and on how many videos it
    agrees with the model's flags; None when claim status is not a predictor."""
    if test.opinion is None:
        return None
    flags, w = test.opinion, test.w
    agree = flags == pred
    return {
        **classification_metrics(test.y, flags, w),
        "roc_auc": float(roc_auc_score(test.y, flags, sample_weight=w)),
        "agrees_with_model": int(np.sum(agree)) if w is None else int(np.sum(w[agree])),
    }


def evaluate(pipeline: Pipeline, train: pl.DataFrame, test: pl.DataFrame, params: Params):
    """Metrics on the training part (as split, not resampled) and on the held-out part."""
    return evaluate_scored(
        Scored(outcome(train), predict_proba(pipeline, train, params), None, opinion_flags(train)),
        Scored(outcome(test), predict_proba(pipeline, test, params), None, opinion_flags(test)),
        params,
    )


def evaluate_scored(train: Scored, test: Scored, params: Params):
    """metrics.json, confusion_matrix.json, the per-video predictions and the curves, from the
    two parts' labels and probabilities (either engine)."""
    threshold = params.evaluate.threshold
    pred_test = (test.p >= threshold).astype(np.int64)
    metrics = {
        "threshold": threshold,
        "resample": params.resample.strategy,
        "train": all_metrics(train.y, train.p, threshold, train.w),
        "test": all_metrics(test.y, test.p, threshold, test.w),
        "no_skill": {"test": no_skill_metrics(train.y, test.y, threshold, train.w, test.w)},
        "opinion_rule": {"test": opinion_rule(test, pred_test)},
    }
    # Rebalanced fitting shifts every probability towards "verified": log loss and Brier are
    # also given after moving the probabilities back to the training part's verified share.
    true = share(train.y, train.w)
    fitted = fitted_share(params.resample.strategy, train.y, train.w)
    calibrated = {}
    for part, s in (("train", train), ("test", test)):
        q = calibrated[part] = prior_corrected(s.p, fitted, true)
        metrics[part]["log_loss_prior_corrected"] = float(
            log_loss(s.y, q, labels=[0, 1], sample_weight=s.w)
        )
        metrics[part]["brier_prior_corrected"] = float(
            brier_score_loss(s.y, q, labels=[0, 1], sample_weight=s.w)
        )
    recommended = calibration.recommend(
        train.y, calibrated["train"], test.y, calibrated["test"], train.w, test.w
    )
    rule = metrics["opinion_rule"]["test"]
    metrics["calibration"] = {
        "fitted_share": fitted,
        "true_share": true,
        "test_of_fit": gain.calibration_test(test.y, calibrated["test"], test.w),
        "recommended": {
            **recommended,
            # What a sentence about this threshold may claim: whether it reaches its target on
            # the held-out part, and whether the rule "flag every opinion video" does at least
            # as well on both recall and precision.
            "meets_target_held_out": recommended["test"]["recall"] >= calibration.AUDIT_RECALL,
            "opinion_rule_as_good": rule is not None
            and rule["recall"] >= recommended["test"]["recall"]
            and rule["precision"] >= recommended["test"]["precision"],
        },
    }
    metrics["predictive_gain"] = gain.versus_claim_status(
        train, test, calibrated["test"], params.base.seed
    )
    grid = sorted({*THRESHOLD_GRID, threshold})
    y, p, w = test.y, test.p, test.w
    curves = {
        "roc": roc_table(y, p, w),
        "precision_recall": precision_recall_table(y, p, w),
        "thresholds": threshold_table(y, p, grid, w),
        "calibration_raw": calibration.curve(y, p, w),
        "calibration": calibration.curve(y, calibrated["test"], w),
        "calibrated_thresholds": calibration.threshold_table(y, calibrated["test"], w),
    }
    return (
        metrics,
        confusion(y, pred_test, w),
        predictions_table(y, pred_test, w),
        curves,
    )
