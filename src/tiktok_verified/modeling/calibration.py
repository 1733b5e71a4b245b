"""What the predicted probabilities mean, and a threshold for a stated use.

Rebalanced fitting (upsampling, downsampling, class weights) moves only the intercept: the
model's probabilities are those of a world where half the videos have verified authors. The
prior correction (`metrics.prior_corrected`) moves them back to the training part's verified
share; on that calibrated scale a probability is an expected share, so a threshold reads as
"flag videos at least this likely to be by a verified author", and flags, hits and misses can be
given per 10,000 videos.

The recommended threshold serves one stated use, a bias audit of the claims classifier: find at
least `AUDIT_RECALL` of the videos by verified authors while flagging as few videos as possible.
It is chosen on the training part (as split) and reported on the held-out part."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.calibration import calibration_curve

from tiktok_verified.modeling.metrics import videos

#: Calibrated thresholds the table shows (the base rate is about 6%).
CALIBRATED_GRID = tuple(round(0.01 * k, 2) for k in range(1, 31))
AUDIT_RECALL = 0.80
PER = 10_000
BINS = 10


def curve(y: np.ndarray, proba: np.ndarray, w: np.ndarray | None = None) -> pl.DataFrame:
    """Observed verified share against the mean predicted probability, in `BINS` bins of
    equal counts (scikit-learn's `calibration_curve`, strategy "quantile"; it takes no
    weights, so cells of `w` videos are expanded to one entry per video)."""
    if w is not None:
        y, proba = np.repeat(y, w.astype(np.int64)), np.repeat(proba, w.astype(np.int64))
    observed, predicted = calibration_curve(y, proba, n_bins=BINS, strategy="quantile")
    return pl.DataFrame({"predicted": predicted, "observed": observed})


def at_threshold(
    y: np.ndarray, calibrated: np.ndarray, threshold: float, w: np.ndarray | None = None
) -> dict:
    """Flags, hits and misses per 10,000 videos, with precision and recall, when every video
    with a calibrated probability >= threshold is flagged (`w`: videos per entry).

    Precision and recall are hits over flags and over verified videos, from the same counts
    (what scikit-learn's `precision_recall_fscore_support` gives, `zero_division=0`; a test
    checks it): its input checks cost 0.9 s of the model stage over the 62 thresholds an
    experiment scores on the course file, and 22.7 s at 1M rows (benchmarks/FINDINGS.md,
    2026-12-06)."""
    flagged = calibrated >= threshold
    weights = np.ones(len(y), dtype=np.int64) if w is None else w
    n = videos(y, w)
    positive = y == 1
    flags = videos(y[flagged], weights[flagged])
    hits = videos(y[flagged & positive], weights[flagged & positive])
    misses = videos(y[~flagged & positive], weights[~flagged & positive])
    return {
        "threshold": threshold,
        "precision": hits / flags if flags else 0.0,
        "recall": hits / (hits + misses) if hits + misses else 0.0,
        "flagged_per_10k": PER * flags / n,
        "hits_per_10k": PER * hits / n,
        "misses_per_10k": PER * misses / n,
    }


def threshold_table(
    y: np.ndarray, calibrated: np.ndarray, w: np.ndarray | None = None
) -> pl.DataFrame:
    return pl.DataFrame([at_threshold(y, calibrated, t, w) for t in CALIBRATED_GRID])


def recommend(
    y_train: np.ndarray,
    p_train: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    w_train: np.ndarray | None = None,
    w_test: np.ndarray | None = None,
) -> dict:
    """The audit threshold (calibrated scale): the highest grid threshold whose recall on the
    training part is at least AUDIT_RECALL; its figures on the held-out part."""
    fits = [
        t
        for t in CALIBRATED_GRID
        if at_threshold(y_train, p_train, t, w_train)["recall"] >= AUDIT_RECALL
    ]
    threshold = max(fits) if fits else CALIBRATED_GRID[0]
    return {
        "use": f"bias audit of the claims classifier: find at least {AUDIT_RECALL:.0%} of the "
        "videos by verified authors, flagging as few videos as possible",
        "target_recall": AUDIT_RECALL,
        "chosen_on": "training part, as split",
        "threshold": threshold,
        "train": at_threshold(y_train, p_train, threshold, w_train),
        "test": at_threshold(y_test, p_test, threshold, w_test),
    }
