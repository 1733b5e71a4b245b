"""Inference for the logistic regression: standard errors, 95% intervals, p-values and odds
ratios (per unit and per standard deviation), from an unpenalised maximum-likelihood fit with
statsmodels on the training rows as split, before any resampling.

Why not the scikit-learn model's coefficients: they are penalised (C) and, by default, fitted on
upsampled rows; duplicated rows would shrink every standard error by about sqrt(2) and make
p-values look far stronger than the data support. The scikit-learn model stays the predictor.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from tiktok_verified import model as model_lib
from tiktok_verified.config import Features
from tiktok_verified.features import Y

Z_95 = 1.959963984540054


def fit_logit(X: np.ndarray, y: np.ndarray, names: list[str], weights: np.ndarray | None = None):
    """Unpenalised logistic regression with an intercept, fails loudly if not converged.

    Without weights: statsmodels Logit, Newton's method. With frequency weights (a row that
    stands for w identical rows): statsmodels GLM Binomial with `freq_weights`, whose
    estimates and standard errors are those of the Logit on the expanded rows."""
    import statsmodels.api as sm  # 1.5 s to import: only the stages that need it pay it

    exog = sm.add_constant(X, has_constant="add")
    if weights is None:
        result = sm.Logit(y, exog).fit(disp=0, method="newton", maxiter=200)
        converged = result.mle_retvals.get("converged", False)
    else:
        family = sm.families.Binomial()
        result = sm.GLM(y, exog, family=family, freq_weights=weights).fit(maxiter=200)
        converged = result.converged
    if not converged:
        raise RuntimeError("statsmodels logistic regression did not converge")
    result.model.exog_names[:] = ["const", *names]
    return result


def null_log_likelihood(y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Log-likelihood of the intercept-only model, in closed form (its MLE is the mean of y),
    instead of the second fit statsmodels would run for it."""
    w = np.ones(len(y)) if weights is None else weights
    n, events = float(w.sum()), float(w @ y)
    p = events / n
    return sum(k * math.log(q) for k, q in ((events, p), (n - events, 1 - p)) if k > 0)


def coefficient_inference(
    frame: pl.DataFrame, features: Features, weights: np.ndarray | None = None
) -> dict:
    """Per-predictor estimates with uncertainty, as plain numbers for JSON. `weights`: each
    row's number of identical copies (see `fit_logit`)."""
    from scipy.stats import chi2

    X, names = model_lib.encoded(frame, features)
    y = frame[Y].to_numpy().astype(np.float64)
    result = fit_logit(X, y, names, weights)
    llf = float(result.llf)
    llnull = null_log_likelihood(y, weights)
    k = X.shape[1]
    params = np.asarray(result.params)
    se = np.asarray(result.bse)
    z = np.asarray(result.tvalues)
    p = np.asarray(result.pvalues)
    ci = np.asarray(result.conf_int(alpha=0.05))
    sds = X.std(axis=0, ddof=1)
    coefficients = {}
    for j, name in enumerate(names, start=1):
        sd = float(sds[j - 1])
        b, lo, hi = float(params[j]), float(ci[j, 0]), float(ci[j, 1])
        coefficients[name] = {
            "coef": b,
            "std_err": float(se[j]),
            "z": float(z[j]),
            "p_value": float(p[j]),
            "ci_low": lo,
            "ci_high": hi,
            "odds_ratio": math.exp(b),
            "odds_ratio_ci_low": math.exp(lo),
            "odds_ratio_ci_high": math.exp(hi),
            "sd": sd,
            "odds_ratio_per_sd": math.exp(b * sd),
            "odds_ratio_per_sd_ci_low": math.exp(lo * sd),
            "odds_ratio_per_sd_ci_high": math.exp(hi * sd),
            "binary": bool(((X[:, j - 1] == 0.0) | (X[:, j - 1] == 1.0)).all()),
        }
    return {
        "method": "statsmodels Logit, maximum likelihood, no penalty, Wald 95% intervals",
        "rows": int(len(y) if weights is None else weights.sum()),
        "rows_used": "training part as split, before resampling (one row per video)",
        "why_these_rows": "the scikit-learn model's fitting rows are resampled: copies of "
        "rows are not new observations, so a fit on them shrinks every standard error and "
        "overstates significance (resampled_rows_comparison shows by how much), and "
        "resampling or class weights shift the intercept; the penalised scikit-learn model "
        "stays the predictor",
        "events": int(y.sum() if weights is None else weights @ y),
        "converged": True,
        "log_likelihood": llf,
        "pseudo_r2_mcfadden": 1.0 - llf / llnull,
        "llr_p_value": float(chi2.sf(2.0 * (llf - llnull), k)),
        "aic": 2.0 * (k + 1) - 2.0 * llf,
        "intercept": {
            "coef": float(params[0]),
            "std_err": float(se[0]),
            "p_value": float(p[0]),
        },
        "coefficients": coefficients,
    }


def resampled_rows_comparison(honest: dict, resampled: dict, alpha: float = 0.05) -> dict:
    """What the same unpenalised fit would claim on the resampled fitting rows: how much the
    standard errors shrink and which predictors would wrongly look significant."""
    ratio = {
        name: c["std_err"] / resampled["coefficients"][name]["std_err"]
        for name, c in honest["coefficients"].items()
    }
    return {
        "rows": resampled["rows"],
        "events": resampled["events"],
        "std_err_shrink_factor": {"min": min(ratio.values()), "max": max(ratio.values())},
        "significant_only_on_resampled_rows": [
            name
            for name, c in honest["coefficients"].items()
            if c["p_value"] >= alpha > resampled["coefficients"][name]["p_value"]
        ],
    }


def strongest(inference: dict, n: int = 3, alpha: float = 0.05) -> list[dict]:
    """The n strongest significant associations: dummies per 0 -> 1, continuous per SD."""
    rows = []
    for name, c in inference["coefficients"].items():
        if c["p_value"] >= alpha:
            continue
        per = "unit" if c["binary"] else "sd"
        key = "odds_ratio" if per == "unit" else "odds_ratio_per_sd"
        rows.append(
            {
                "feature": name,
                "per": per,
                "odds_ratio": c[key],
                "ci_low": c[f"{key}_ci_low"],
                "ci_high": c[f"{key}_ci_high"],
                "p_value": c["p_value"],
            }
        )
    rows.sort(key=lambda r: (-abs(math.log(r["odds_ratio"])), r["feature"]))
    return rows[:n]


def plot_rows(inference: dict) -> pl.DataFrame:
    """Odds ratios for the coefficients plot: dummies per 0 -> 1, continuous per SD."""
    records = []
    for name, c in inference["coefficients"].items():
        key = "odds_ratio" if c["binary"] else "odds_ratio_per_sd"
        records.append(
            {
                "feature": name if c["binary"] else f"{name} (per SD)",
                "odds_ratio": c[key],
                "ci_low": c[f"{key}_ci_low"],
                "ci_high": c[f"{key}_ci_high"],
            }
        )
    return pl.DataFrame(records)
