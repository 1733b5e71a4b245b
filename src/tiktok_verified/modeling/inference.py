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
from scipy.stats import chi2

from tiktok_verified.config import Features
from tiktok_verified.data.schema import VIDEO_ID, WEIGHT, Y
from tiktok_verified.errors import PipelineError
from tiktok_verified.modeling.design import as_array, design
from tiktok_verified.modeling.resampling import as_weighted

#: Why inference uses the training part as split (both engines write it).
WHY_THESE_ROWS = (
    "the scikit-learn model's fitting rows are resampled: copies of rows are not new "
    "observations, so a fit on them shrinks every standard error and overstates significance "
    "(resampled_rows_comparison shows by how much), and resampling or class weights shift the "
    "intercept; the penalised scikit-learn model stays the predictor"
)


def fit_logit(X: np.ndarray, y: np.ndarray, names: list[str], strict: bool = True):
    """Unpenalised Logit with an intercept (statsmodels, Newton's method), fails loudly if not
    converged (`strict=False`: returned as it is, for a prediction that needs no inference;
    `result.mle_retvals["converged"]` says)."""
    import statsmodels.api as sm

    return _fit_logit_exog(sm.add_constant(X, has_constant="add"), y, names, strict)


def _fit_logit_exog(exog: np.ndarray, y: np.ndarray, names: list[str], strict: bool = True):
    """`fit_logit` on a design that already holds the intercept's column of ones first."""
    import statsmodels.api as sm

    result = sm.Logit(y, exog).fit(disp=0, method="newton", maxiter=200)
    if strict and not result.mle_retvals.get("converged", False):
        raise PipelineError(
            f"statsmodels Logit did not converge on {len(y):,} rows ({int(np.sum(y)):,} "
            "verified): too few rows, or a predictor separates the classes; use more data "
            "(data.synthetic_rows for the stand-in) or fewer predictors"
        )
    result.model.exog_names[:] = ["const", *names]
    return result


def _glm_weighted(X: np.ndarray, y: np.ndarray, weights: np.ndarray, names: list[str]):
    """The same unpenalised logit with frequency weights (a row standing for w identical rows):
    statsmodels' binomial GLM with `freq_weights`, whose estimates, standard errors and
    log-likelihood are those of the fit on the expanded rows."""
    import statsmodels.api as sm

    return _glm_weighted_exog(sm.add_constant(X, has_constant="add"), y, weights)


def _glm_weighted_exog(exog: np.ndarray, y: np.ndarray, weights: np.ndarray):
    """`_glm_weighted` on a design that already holds the intercept's column first."""
    import statsmodels.api as sm

    model = sm.GLM(y, exog, family=sm.families.Binomial(), freq_weights=weights)
    # Newton's method from zero, not the default IRLS: IRLS solves a weighted least-squares
    # problem each iteration (numpy's lstsq, then a pseudo-inverse for the covariance), ~11
    # copies of the design at once (at 1M rows +607 MiB, 9.6 s). `max_start_irls=0`: by
    # default statsmodels starts Newton with IRLS iterations, which cost the same copies
    # (traced: 10.2 designs at the peak, 8.4 measured at 10M rows). Estimates within 2.4e-9
    # and standard errors within 2.3e-11 of IRLS's (benchmarks/FINDINGS.md, 2026-12-06).
    result = model.fit(method="newton", maxiter=200, disp=0, max_start_irls=0)
    if not result.mle_retvals.get("converged", False):
        raise RuntimeError("statsmodels GLM (binomial, logit) did not converge")
    return result


def coefficient_row(
    b: float, se: float, z: float, p: float, lo: float, hi: float, sd: float, binary: bool
) -> dict:
    """One predictor's entry: estimate, SE, z, p, the 95% interval, and the odds ratio per unit
    and per SD with their intervals (either engine)."""
    return {
        "coef": b,
        "std_err": se,
        "z": z,
        "p_value": p,
        "ci_low": lo,
        "ci_high": hi,
        "odds_ratio": math.exp(b),
        "odds_ratio_ci_low": math.exp(lo),
        "odds_ratio_ci_high": math.exp(hi),
        "sd": sd,
        "odds_ratio_per_sd": math.exp(b * sd),
        "odds_ratio_per_sd_ci_low": math.exp(lo * sd),
        "odds_ratio_per_sd_ci_high": math.exp(hi * sd),
        "binary": binary,
    }


def coefficient_inference(
    frame: pl.DataFrame, features: Features, weights: np.ndarray | None = None
) -> dict:
    """Per-predictor estimates with uncertainty, as plain numbers for JSON: statsmodels' Logit
    on the rows as given, or, with `weights` (each row's number of identical copies), its
    binomial GLM with frequency weights."""
    exog, names, sds, binary = _exog(frame, features)
    return _inference_on(exog, names, sds, binary, frame[Y].to_numpy(), weights)


def _exog(frame: pl.DataFrame, features: Features):
    """The design with the intercept's column of ones first, as one row-major float64 array
    (what `sm.add_constant` of `as_array(design(...))` gives, without that second copy), its
    column names, and each predictor's SD and whether it is 0/1."""
    design_frame = design(frame, features)
    names = design_frame.columns
    exog = as_array(design_frame.select(pl.lit(1.0).alias("const"), *names))
    del design_frame
    X = exog[:, 1:]
    sds = X.std(axis=0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
    binary = [bool(np.isin(X[:, j], (0.0, 1.0)).all()) for j in range(X.shape[1])]
    return exog, names, sds, binary


def _inference_on(
    exog: np.ndarray,
    names: list[str],
    sds: np.ndarray,
    binary: list[bool],
    outcome: np.ndarray,
    weights: np.ndarray | None,
) -> dict:
    """`coefficient_inference` on a design built by `_exog`."""
    y = outcome.astype(np.float64)
    k = exog.shape[1] - 1
    if weights is None:
        result = _fit_logit_exog(exog, y, names)
        llnull, method = float(result.llnull), "statsmodels Logit"
    else:
        result = _glm_weighted_exog(exog, y, np.asarray(weights, dtype=np.float64))
        llnull = float(result.llnull)
        method = "statsmodels GLM (binomial, logit) with frequency weights"
    llf = float(result.llf)
    params = np.asarray(result.params)
    se = np.asarray(result.bse)
    z = np.asarray(result.tvalues)
    p = np.asarray(result.pvalues)
    ci = np.asarray(result.conf_int(alpha=0.05))
    coefficients = {
        name: coefficient_row(
            float(params[j]),
            float(se[j]),
            float(z[j]),
            float(p[j]),
            float(ci[j, 0]),
            float(ci[j, 1]),
            float(sds[j - 1]),
            binary[j - 1],
        )  # fmt: skip
        for j, name in enumerate(names, start=1)
    }
    return {
        "method": f"{method}, maximum likelihood, no penalty, Wald 95% intervals",
        "rows": int(len(y) if weights is None else np.sum(weights)),
        "rows_used": "training part as split, before resampling (one row per video)",
        "why_these_rows": WHY_THESE_ROWS,
        "events": int(y.sum() if weights is None else np.asarray(weights) @ y),
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


def with_resampled_rows_comparison(
    stats: dict, fitting_rows: pl.DataFrame, features: Features
) -> dict:
    """`stats` with, where the predictor's fitting rows hold copies (a `weight` column above 1),
    what the same unpenalised fit on them would claim (copies as frequency weights)."""
    rows = as_weighted(fitting_rows)
    if rows.height == stats["rows"] and rows[WEIGHT].max() == 1:
        return stats
    on_fitting_rows = coefficient_inference(rows, features, weights=rows[WEIGHT].to_numpy())
    return {**stats, "resampled_rows_comparison": resampled_rows_comparison(stats, on_fitting_rows)}


def inference_with_comparison(
    frame: pl.DataFrame, fitting_rows: pl.DataFrame, features: Features
) -> dict:
    """`with_resampled_rows_comparison(coefficient_inference(frame, features), fitting_rows,
    features)` with one design matrix for both fits when the fitting rows are the rows of
    `frame` in its order with a weight each (what split writes for upsampling): the weighted
    fit then needs only the weights. Same numbers (a test holds them to the two calls; at 10M
    rows the statistics outputs were byte-identical), the stage's peak at 10M rows 9.96 ->
    8.93 GiB with the weighted fit still by IRLS (benchmarks/FINDINGS.md, 2026-12-06)."""
    exog, names, sds, binary = _exog(frame, features)
    stats = _inference_on(exog, names, sds, binary, frame[Y].to_numpy(), None)
    rows = as_weighted(fitting_rows)
    if rows.height == stats["rows"] and rows[WEIGHT].max() == 1:
        return stats
    if rows.height == frame.height and rows[VIDEO_ID].equals(frame[VIDEO_ID]):
        weights = rows[WEIGHT].to_numpy()
        outcome = rows[Y].to_numpy()
        del rows
        compared = _inference_on(exog, names, sds, binary, outcome, weights)
    else:
        del exog
        compared = coefficient_inference(rows, features, weights=rows[WEIGHT].to_numpy())
    return {**stats, "resampled_rows_comparison": resampled_rows_comparison(stats, compared)}


def strongest(
    inference: dict, adjusted: dict | None = None, n: int = 3, alpha: float = 0.05
) -> list[dict]:
    """The n strongest associations that survive the multiplicity correction (`adjusted`:
    Holm p-values by name, as modeling.associations gives them; without it, the raw ones):
    dummies per 0 -> 1, continuous per SD."""
    rows = []
    for name, c in inference["coefficients"].items():
        p = adjusted[name]["holm"] if adjusted is not None else c["p_value"]
        if p >= alpha:
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
                "p_holm": p,
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
