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


def fit_logit(X: np.ndarray, y: np.ndarray, names: list[str], start: np.ndarray | None = None):
    """Unpenalised Logit with an intercept (statsmodels, Newton's method), fails loudly if not
    converged. `start`: starting values (intercept first), e.g. from `newton_logit`."""
    import statsmodels.api as sm  # 1.5 s to import: only the stages that need it pay it

    exog = sm.add_constant(X, has_constant="add")
    result = sm.Logit(y, exog).fit(disp=0, method="newton", maxiter=200, start_params=start)
    if not result.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels Logit did not converge")
    result.model.exog_names[:] = ["const", *names]
    return result


#: Up to this many rows, statsmodels' Logit confirms the Newton optimum and computes the
#: standard errors; above it (7.4M training rows: 7.5 s more for the same numbers to ~1e-8,
#: see tests/test_statistics.py) `newton_logit`'s own covariance is reported.
STATSMODELS_ROWS = 1_000_000
#: Rows per block in `newton_logit`: a block's temporaries (~4 MB) stay in the CPU cache
#: between the steps of a pass (500k-row blocks: 0.94 s a pass over 7.4M rows, 50k: 0.70 s).
NEWTON_BLOCK = 50_000
#: Above this many rows, `newton_logit` starts from the fit on an evenly spaced subset.
WARM_START_ROWS = 200_000
#: Largest Newton step (in units of the SD-scaled columns), so a poor start cannot overshoot.
MAX_STEP = 5.0
#: A fitted logit beyond this (probability within ~1e-10 of 0 or 1) means separation.
SEPARATED_LOGIT = 23.0


def _newton_pass(exog, y, w, beta, likelihood=False):
    """Gradient and Hessian of the weighted log-likelihood at beta, block by block; with
    `likelihood`, also the log-likelihood and how many rows have |logit| > SEPARATED_LOGIT."""
    from scipy.special import expit

    k = exog.shape[1]
    gradient, hessian = np.zeros(k), np.zeros((k, k))
    llf, extreme = 0.0, 0
    for lo in range(0, len(y), NEWTON_BLOCK):
        X, hi = exog[lo : lo + NEWTON_BLOCK], lo + NEWTON_BLOCK
        eta = X @ beta
        p = expit(eta)
        gradient += X.T @ (w[lo:hi] * (y[lo:hi] - p))
        root = X * np.sqrt(w[lo:hi] * p * (1.0 - p))[:, None]
        hessian += root.T @ root  # one symmetric product (BLAS syrk): ~25% less than X.T @ DX
        if likelihood:
            llf -= float(w[lo:hi] @ np.logaddexp(0.0, np.where(y[lo:hi] > 0, -eta, eta)))
            extreme += int(np.count_nonzero(np.abs(eta) > SEPARATED_LOGIT))
    return gradient, hessian, llf, extreme


def newton_logit(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    max_iter: int = 100,
    scale: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Unpenalised logistic regression with an intercept by Newton's method, with frequency
    weights (a row that stands for w identical rows): (estimates, covariance, log-likelihood),
    intercept first, exactly those of the same fit on the expanded rows.

    Built for large tables: temporaries bounded by blocks, the weights replace the copies,
    and on more than WARM_START_ROWS rows it starts from the fit on an evenly spaced subset,
    so that two or three passes over all rows finish it. Columns are scaled to unit SD
    inside, for conditioning (`scale`: the columns' SDs if the caller has them; the
    estimates do not depend on it, only the conditioning and the damped steps do)."""
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    scale = X.std(axis=0) if scale is None else np.array(scale, dtype=np.float64)
    scale[~np.isfinite(scale) | (scale <= 0)] = 1.0  # constant, one row, or a bad scale
    unscale = np.concatenate([[1.0], 1.0 / scale])
    beta = np.zeros(k + 1)
    if n > 4 * WARM_START_ROWS:
        every = n // WARM_START_ROWS
        try:
            subset, _, _ = newton_logit(X[::every], y[::every], w[::every], max_iter)
            beta = subset / unscale
        except (np.linalg.LinAlgError, RuntimeError):
            # The subset can miss a rare level, or see it separated: start from zero.
            beta = np.zeros(k + 1)
    exog = np.empty((n, k + 1))
    exog[:, 0] = 1.0
    np.divide(X, scale, out=exog[:, 1:])
    for _ in range(max_iter):
        gradient, hessian, _, _ = _newton_pass(exog, y, w, beta)
        step = np.linalg.solve(hessian, gradient)
        largest = np.max(np.abs(step))
        if largest > MAX_STEP:  # damped: no overshoot from a poor start
            step *= MAX_STEP / largest
        beta += step
        if gradient @ step < 1e-12 * max(1.0, n):  # Newton decrement: converged
            break
    else:
        raise RuntimeError(
            "Newton's method did not converge for the logistic regression (most often a "
            "predictor that separates the classes: its estimate does not exist)"
        )
    _, hessian, llf, extreme = _newton_pass(exog, y, w, beta, likelihood=True)
    if extreme:
        raise RuntimeError(
            f"{extreme} rows get a fitted probability of 0 or 1 (|logit| > {SEPARATED_LOGIT:g}): "
            "a predictor separates the classes, so the maximum-likelihood estimates do not "
            "exist (drop or merge the separating predictor or level)"
        )
    cov = np.linalg.inv(hessian) * np.outer(unscale, unscale)
    return beta * unscale, cov, llf


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
    row's number of identical copies (see `newton_logit`)."""
    from scipy.stats import chi2, norm

    design = model_lib.design(frame, features)
    X, names = model_lib.as_array(design), design.columns
    # Column SDs and which columns are 0/1, from the polars frame, multithreaded (numpy's std
    # on 7.4M rows allocates a full copy, 0.8 s a call). Centred first: polars' one-pass std
    # loses digits on a column whose mean is large against its SD (1e-9 at an offset of 1e9).
    sds = np.array(design.select((pl.all() - pl.all().mean()).std(ddof=1)).row(0), dtype=np.float64)
    binary = design.select(pl.all().is_in([0.0, 1.0]).all(ignore_nulls=False)).row(0)
    del design  # X holds the same numbers: no second copy through the Newton passes
    y = frame[Y].to_numpy().astype(np.float64)
    k = X.shape[1]
    start, cov, llf = newton_logit(X, y, weights, scale=sds)
    by_statsmodels = weights is None and len(y) <= STATSMODELS_ROWS
    if by_statsmodels:
        # statsmodels confirms the optimum from there (one or two Newton steps instead of
        # seven or eight from zero) and computes the standard errors and intervals.
        result = fit_logit(X, y, names, start=start)
        llf = float(result.llf)
        params = np.asarray(result.params)
        se = np.asarray(result.bse)
        z = np.asarray(result.tvalues)
        p = np.asarray(result.pvalues)
        ci = np.asarray(result.conf_int(alpha=0.05))
    else:
        params, se = start, np.sqrt(np.diag(cov))
        z = params / se
        p = 2.0 * norm.sf(np.abs(z))
        ci = np.column_stack([params - Z_95 * se, params + Z_95 * se])
    llnull = null_log_likelihood(y, weights)
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
            "binary": bool(binary[j - 1]),
        }
    return {
        "method": "statsmodels Logit, maximum likelihood, no penalty, Wald 95% intervals"
        if by_statsmodels
        else "maximum likelihood by Newton's method"
        + (" with frequency weights" if weights is not None else "")
        + " (tiktok_verified.inference.newton_logit, equal to statsmodels' Logit), no penalty, "
        "Wald 95% intervals",
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
