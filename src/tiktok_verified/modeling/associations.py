"""What the inference's associations can be said to mean.

- Multiplicity: each predictor's Wald p-value adjusted for the number of predictors tested,
  by Holm and by Bonferroni (statsmodels' `multipletests`); only what survives Holm is claimed.
- Joint test: the likelihood-ratio test of every predictor besides claim status at once
  (the full model against claim status alone, both statsmodels Logit fits).
- Conditional vs marginal: the inference's odds ratios hold the other predictors fixed
  (conditional); each predictor is also fitted alone (marginal), so that a reader sees both and
  where they disagree (a reversal: suppression among correlated counts).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy.stats import chi2

from tiktok_verified.config import Features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling.design import OPINION, as_array, design
from tiktok_verified.modeling.inference import fit_logit

ALPHA = 0.05


def adjusted_p_values(stats: dict) -> dict:
    """Holm and Bonferroni adjustments of the coefficients' Wald p-values."""
    from statsmodels.stats.multitest import multipletests

    names = list(stats["coefficients"])
    raw = [stats["coefficients"][n]["p_value"] for n in names]
    holm = multipletests(raw, alpha=ALPHA, method="holm")[1]
    bonferroni = multipletests(raw, alpha=ALPHA, method="bonferroni")[1]
    return {
        n: {"holm": float(h), "bonferroni": float(b)}
        for n, h, b in zip(names, holm, bonferroni, strict=True)
    }


def joint_test(frame: pl.DataFrame, features: Features, full_llf: float, keep=(OPINION,)) -> dict:
    """Likelihood-ratio test of every predictor but `keep` at once: the full model's
    log-likelihood against the model with `keep` only (chi-squared, one df per dropped
    column)."""
    X = design(frame, features)
    kept = [c for c in keep if c in X.columns]
    y = frame[Y].to_numpy().astype(np.float64)
    restricted = fit_logit(as_array(X.select(kept)), y, kept) if kept else None
    llf_restricted = (
        float(restricted.llf) if restricted is not None else null_llf(len(y), float(y.sum()))
    )
    return lr_test(full_llf, llf_restricted, kept, [c for c in X.columns if c not in kept])


def lr_test(full_llf: float, restricted_llf: float, kept: list, dropped: list) -> dict:
    """The joint test's record from the two log-likelihoods (both engines write it so)."""
    statistic = 2.0 * (full_llf - restricted_llf)
    return {
        "tested": dropped,
        "kept": kept,
        "statistic": statistic,
        "df": len(dropped),
        "p_value": float(chi2.sf(statistic, len(dropped))),
    }


def null_llf(rows: float, positives: float) -> float:
    """Log-likelihood of the intercept-only model: the restricted model when nothing is kept."""
    p = positives / rows
    return float(positives * math.log(p) + (rows - positives) * math.log(1 - p))


def _groups(features: Features, names: list[str]) -> dict[str, list[str]]:
    """Design columns fitted together for a marginal fit: a categorical's dummies as one
    group; every other column alone."""
    groups: dict[str, list[str]] = {}
    for name in names:
        prefix = next(
            (c for c in features.categorical if name.startswith(f"{c}_") and ":" not in name), None
        )
        groups.setdefault(prefix or name, []).append(name)
    return groups


def marginal(frame: pl.DataFrame, features: Features, conditional: dict) -> dict:
    """Each predictor fitted alone (a categorical with its levels together): the odds ratio
    per unit (0 -> 1 for a dummy) or per SD, as the conditional ones are reported, with its
    95% interval and p-value, and whether the conditional odds ratio points the other way."""
    X = design(frame, features)
    y = frame[Y].to_numpy().astype(np.float64)
    out = {}
    for columns in _groups(features, X.columns).values():
        result = fit_logit(as_array(X.select(columns)), y, columns)
        ci = np.asarray(result.conf_int(alpha=0.05))
        for j, name in enumerate(columns, start=1):
            c = conditional[name]
            scale = 1.0 if c["binary"] else c["sd"]
            b, lo, hi = (float(v) * scale for v in (result.params[j], ci[j, 0], ci[j, 1]))
            cond = c["coef"] * scale
            out[name] = {
                "per": "unit" if c["binary"] else "sd",
                "odds_ratio": math.exp(b),
                "ci_low": math.exp(lo),
                "ci_high": math.exp(hi),
                "p_value": float(result.pvalues[j]),
                "reversed": bool(b * cond < 0 and (lo > 0 or hi < 0) and c["p_value"] < ALPHA),
            }
    return out


def describe(stats: dict, frame: pl.DataFrame, features: Features, seed: int = 0) -> dict:
    """The associations block of metrics/coefficients.json. The marginal fits run on the
    stratified sample of at most `assumptions.MAX_ROWS` rows (`split.stratified_sample`, every
    row of the course file), the size the Spark engine's marginal fits use too: above it an
    interval is sqrt(rows / sample) times as wide as on every row, for 8 fits over the sample
    instead of over every row (64 s of CPU at 10M rows, benchmarks/FINDINGS.md 2026-12-06)."""
    from tiktok_verified.modeling.assumptions import MAX_ROWS
    from tiktok_verified.modeling.split import stratified_sample

    adjusted = adjusted_p_values(stats)
    sample = stratified_sample(frame, MAX_ROWS, seed)
    return {
        "alpha": ALPHA,
        "adjusted_p": adjusted,
        "survive_holm": [n for n, a in adjusted.items() if a["holm"] < ALPHA],
        "joint_test_besides_claim_status": joint_test(frame, features, stats["log_likelihood"]),
        "marginal": marginal(sample, features, stats["coefficients"]),
        "marginal_computed_on": "every row"
        if sample.height == frame.height
        else f"a stratified sample of {sample.height} rows",
    }
