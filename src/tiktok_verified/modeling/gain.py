"""What the model adds to claim status alone, on the held-out part: the difference in ROC AUC
(ranking) and in Brier score (the calibrated probabilities), each with a seeded paired
bootstrap 95% interval, and a test of the calibrated probabilities' fit.

Claim status alone is a binary predictor, so any model of it ranks the videos as the flag
"opinion" does; as probabilities it gives each video its claim status's verified share in the
training part (the fitted values of a logistic regression on claim status alone).

The bootstrap resamples held-out videos with replacement, the same draw for both scorers
(paired), `REPLICATES` times from `base.seed`; the interval is the percentile one. Entries that
stand for `w` videos (the Spark engine's cells) are resampled as videos: each replicate draws its
videos from the entries with probability proportional to their counts. The AUC of every
replicate is computed at once from the scores' ranks (the Mann-Whitney form, ties counted
half), which is what scikit-learn's `roc_auc_score` gives with the replicate's counts as
`sample_weight` (a test checks it).

Above `MAX_VIDEOS` held-out videos the replicates are drawn from a seeded sample of
`MAX_VIDEOS` of them (without replacement, over the same sorted cells, so both engines draw
alike) and each interval's distance from the sample's own difference is scaled by
sqrt(MAX_VIDEOS / videos) around the whole part's difference (the m-out-of-n bootstrap of a
root-n statistic); the point figures are always the whole part's. Why: a replicate draws as
many videos as the part holds, so the cost is replicates x videos: 465 s and 3.3 GiB at 1M
rows (246k held-out videos, load ~11), killed at 8.3 GiB after 10 min at 10M
(benchmarks/FINDINGS.md, 2026-12-06). The course file (4.7k held-out videos) is below the
cap, so its figures are the full bootstrap's, as before."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.stats import norm

REPLICATES = 2000
CHUNK = 250
LEVEL = 0.95
#: Held-out videos a replicate draws at most (see the module's docstring).
MAX_VIDEOS = 10_000


def claim_status_alone(
    y_train: np.ndarray,
    opinion_train: np.ndarray,
    opinion_test: np.ndarray,
    w_train: np.ndarray | None = None,
) -> np.ndarray:
    """Each held-out video's probability from claim status alone: the training part's verified
    share among videos of its claim status."""
    w = np.ones(len(y_train)) if w_train is None else np.asarray(w_train, dtype=np.float64)
    share = {
        k: float(np.sum(w * y_train * (opinion_train == k)) / np.sum(w * (opinion_train == k)))
        for k in (0, 1)
    }
    return np.where(opinion_test == 1, share[1], share[0])


def _auc_rows(y: np.ndarray, p: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """ROC AUC of scores `p` for each row of `counts` (videos per entry, one row per
    replicate): the probability that a verified video outranks a not-verified one, ties half.
    Each replicate's verified and other videos per distinct score are one sparse product
    (scipy.sparse) with the entries' score groups: 3.4 times faster than numpy's `reduceat`
    over the entries sorted by score (0.044 s against 0.151 s of CPU for 8 x 250 replicates of
    4,000 entries)."""
    _, group = np.unique(p, return_inverse=True)
    entries = np.arange(len(y))
    shape = (len(y), int(group.max()) + 1)
    verified = sparse.csr_matrix((y, (entries, group)), shape=shape)
    other = sparse.csr_matrix((1 - y, (entries, group)), shape=shape)
    pos = np.asarray((verified.T @ counts.T).T)
    neg = np.asarray((other.T @ counts.T).T)
    below = np.cumsum(neg, axis=1) - neg
    return np.sum(pos * (below + 0.5 * neg), axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def _resample(rng: np.random.Generator, base: np.ndarray, n: int, size: int) -> np.ndarray:
    """`size` bootstrap replicates of the `n` videos, drawn with replacement, where entry `i`
    stands for `base[i]` videos (whole numbers): each replicate's videos per entry. Each draw
    is one of the `n` videos, uniformly, counted against its entry. numpy's weighted
    `choice` over the entries is the same distribution at 7 times the CPU time (0.137 s
    against 0.02 s for 250 replicates of the course file's 4,804 held-out videos;
    `multinomial`, 0.056 s)."""
    k = len(base)
    entry_of_video = np.repeat(np.arange(k), base.astype(np.int64))
    drawn = entry_of_video[rng.integers(0, n, size=(size, n))]
    flat = (drawn + k * np.arange(size)[:, None]).ravel()
    return np.bincount(flat, minlength=size * k).reshape(size, k).astype(np.float64)


def _interval(point: float, replicates: np.ndarray) -> dict:
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return {"difference": point, "ci_low": float(low), "ci_high": float(high)}


def paired_bootstrap(
    y: np.ndarray,
    model: dict[str, np.ndarray],
    reference: np.ndarray,
    seed: int,
    w: np.ndarray | None = None,
    replicates: int = REPLICATES,
) -> dict:
    """ROC AUC of `model["ranking"]` and Brier score of `model["calibrated"]`, each minus the
    same for `reference`, with paired percentile bootstrap intervals."""
    y = np.asarray(y, dtype=np.float64)
    base = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    # One entry per distinct (outcome, scores) cell, in sorted order, weighing its videos: the
    # draws are then the same whether an engine hands over one row per video (local) or cells
    # with counts (Spark), so both engines give the same interval.
    keys = np.column_stack([y, model["ranking"], model["calibrated"], reference])
    cells, inverse = np.unique(keys, axis=0, return_inverse=True)
    base = np.bincount(inverse.ravel(), weights=base, minlength=len(cells))
    y, ranking, calibrated, reference = (np.ascontiguousarray(c) for c in cells.T)
    model = {"ranking": ranking, "calibrated": calibrated}
    n = int(round(base.sum()))
    ones = base[None, :]
    auc_m = float(_auc_rows(y, model["ranking"], ones)[0])
    auc_r = float(_auc_rows(y, reference, ones)[0])
    sq_m, sq_r = (y - model["calibrated"]) ** 2, (y - reference) ** 2
    brier_m, brier_r = float(base @ sq_m / n), float(base @ sq_r / n)
    method = f"paired percentile bootstrap of the held-out videos, {replicates} replicates"
    scale, auc_at, brier_at = 1.0, 0.0, 0.0
    if n > MAX_VIDEOS:
        # The m-out-of-n bootstrap: replicates of MAX_VIDEOS videos drawn from a seeded sample
        # of them; its distances from the sample's difference scaled by sqrt(m / n).
        sample = np.random.default_rng([seed, 1]).multivariate_hypergeometric(
            np.rint(base).astype(np.int64), MAX_VIDEOS, method="marginals"
        )
        keep = sample > 0
        y, base, sq_m, sq_r = y[keep], sample[keep].astype(np.float64), sq_m[keep], sq_r[keep]
        ranking, reference = ranking[keep], reference[keep]
        ones = base[None, :]
        auc_at = float(_auc_rows(y, ranking, ones)[0] - _auc_rows(y, reference, ones)[0])
        brier_at = float(base @ (sq_m - sq_r) / MAX_VIDEOS)
        scale = float(np.sqrt(MAX_VIDEOS / n))
        method += (
            f" of {MAX_VIDEOS:,} videos each, from a seeded sample of {MAX_VIDEOS:,} of the "
            f"{n:,} (m-out-of-n: distances scaled by sqrt({MAX_VIDEOS:,}/{n:,}))"
        )
        n = MAX_VIDEOS
    rng = np.random.default_rng(seed)
    d_auc, d_brier = [], []
    for start in range(0, replicates, CHUNK):
        size = min(CHUNK, replicates - start)
        counts = _resample(rng, base, n, size)
        d_auc.append(_auc_rows(y, ranking, counts) - _auc_rows(y, reference, counts))
        d_brier.append((counts @ sq_m - counts @ sq_r) / n)
    d_auc, d_brier = np.concatenate(d_auc), np.concatenate(d_brier)
    if scale != 1.0:
        d_auc = (auc_m - auc_r) + scale * (d_auc - auc_at)
        d_brier = (brier_m - brier_r) + scale * (d_brier - brier_at)
    return {
        "method": f"{method}, seed {seed}",
        "replicates": replicates,
        "seed": seed,
        "roc_auc": {
            "model": auc_m,
            "claim_status_alone": auc_r,
            **_interval(auc_m - auc_r, d_auc),
        },
        "brier": {
            "model": brier_m,
            "claim_status_alone": brier_r,
            **_interval(brier_m - brier_r, d_brier),
        },
    }


def calibration_test(y: np.ndarray, q: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Spiegelhalter's z-test that probabilities `q` are calibrated (two-sided), with the
    verified videos expected and observed, and the highest probability given."""
    y = np.asarray(y, dtype=np.float64)
    base = np.ones(len(y)) if w is None else np.asarray(w, dtype=np.float64)
    num = float(np.sum(base * (y - q) * (1 - 2 * q)))
    den = float(np.sqrt(np.sum(base * (1 - 2 * q) ** 2 * q * (1 - q))))
    z = num / den
    return {
        "test": "Spiegelhalter z (two-sided)",
        "z": z,
        "p_value": float(2 * norm.sf(abs(z))),
        "observed_verified": float(base @ y),
        "expected_verified": float(base @ q),
        "max_probability": float(np.max(q)),
    }


def versus_claim_status(train, test, calibrated_test: np.ndarray, seed: int) -> dict | None:
    """The predictive gain over claim status alone on the held-out part (`train`, `test`:
    evaluation.Scored; `calibrated_test`: the model's prior-corrected probabilities); None when
    claim status is not a predictor."""
    if train.opinion is None or test.opinion is None:
        return None
    reference = claim_status_alone(train.y, train.opinion, test.opinion, train.w)
    model = {"ranking": test.p, "calibrated": calibrated_test}
    return {
        "reference": "claim status alone: each held-out video scored by its claim status's "
        "verified share in the training part",
        **paired_bootstrap(test.y, model, reference, seed, test.w),
    }
