"""Which specification: the configured predictors side by side with the same predictors
uncapped, with the engagement counts as log(1 + count), and with the opinion dummy's
interactions with the logged counts added.

Each is an unpenalised statsmodels Logit on the training part as split (one row per video; the
log specifications on the counts as they are in the data, uncapped: the log tames the tail),
compared by AIC, by 5-fold stratified cross-validation (ROC AUC for ranking, Brier score and
log loss for calibration; no resampling, so the probabilities are on the real base rate), and,
for the nested pair, by the likelihood-ratio test of the interactions.

The sensitivity table, decided in advance: for each of the specifications the project offers
(as configured, uncapped, log counts) the likelihood-ratio test of every predictor besides claim
status at once, and which predictors survive Holm's correction. A conclusion about "the other
predictors" is worded from all of them (reporting.findings), not from the configured one alone.
Claim status alone is cross-validated on the same folds, so that the predictive gain of the
configured specification over it is a paired, fold-by-fold difference. And each predictor is
fitted with claim status alone, so that a reversal of its marginal association can be told
apart: already there with claim status held fixed (confounding by claim status), or only once
the other counts enter too (suppression among them)."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
from scipy.stats import chi2

from tiktok_verified.config import Features
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling.design import OPINION, as_array, design
from tiktok_verified.modeling.inference import fit_logit

FOLDS = 5
#: Larger training parts are compared on a stratified sample of this many rows (the comparison
#: chooses a specification; the inference itself uses every row).
MAX_ROWS = 200_000
ALPHA = 0.05
#: The specifications of the sensitivity table, in its order.
SENSITIVITY = ("configured", "uncapped", "log_counts")


def candidates(configured: Features) -> dict[str, Features]:
    """The configured specification, uncapped, its counts logged, and logged with
    interactions."""
    uncapped = dataclasses.replace(configured, name="uncapped", cap_iqr=())
    logged = dataclasses.replace(
        configured, name="log_counts", log_counts=True, cap_iqr=(), interactions=()
    )
    counts = tuple(c for c in configured.numeric if c.endswith("_count"))
    out = {"configured": configured, "uncapped": uncapped, "log_counts": logged}
    if "claim_status" in configured.categorical and counts:
        out["log_counts_x_claim"] = dataclasses.replace(
            logged, name="log_counts_x_claim", interactions=counts
        )
    return out


def _scores(X: np.ndarray, y: np.ndarray, names: list[str], seed: int) -> dict:
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    auc, brier, loss, unconverged = [], [], [], 0
    for fit_idx, val_idx in folds.split(X, y):
        # A fold's fit only predicts: on small data a rare column can separate a fold's classes
        # (Newton then stops unconverged, its predictions still finite); counted, not fatal.
        result = fit_logit(X[fit_idx], y[fit_idx], names, strict=False)
        unconverged += not result.mle_retvals.get("converged", False)
        p = result.predict(np.column_stack([np.ones(len(val_idx)), X[val_idx]]))
        auc.append(roc_auc_score(y[val_idx], p))
        brier.append(brier_score_loss(y[val_idx], p))
        loss.append(log_loss(y[val_idx], p, labels=[0, 1]))
    return {
        "cv_roc_auc_per_fold": [float(a) for a in auc],
        "cv_roc_auc": float(np.mean(auc)),
        "cv_roc_auc_std": float(np.std(auc, ddof=1)),
        "cv_brier": float(np.mean(brier)),
        "cv_log_loss": float(np.mean(loss)),
        "cv_folds_not_converged": unconverged,
    }


def compare_for(train: pl.DataFrame, videos: pl.DataFrame, configured: Features, seed: int) -> dict:
    """`compare` on the training part as split, its capped counts restored from `videos` for
    the log specifications."""
    from tiktok_verified.data import schema
    from tiktok_verified.modeling.assumptions import uncapped
    from tiktok_verified.modeling.split import stratified_sample

    rows = stratified_sample(train, MAX_ROWS, seed)
    videos_train = videos.join(rows.select(schema.VIDEO_ID), on=schema.VIDEO_ID)
    out = compare(rows, uncapped(rows, videos_train, list(configured.cap_iqr)), configured, seed)
    return {**out, "sampled_from": train.height if rows.height < train.height else None}


def compare(
    configured_rows: pl.DataFrame, uncapped_rows: pl.DataFrame, configured: Features, seed: int
) -> dict:
    """The specifications side by side (see the module's docstring)."""
    out: dict = {"rows": configured_rows.height, "folds": FOLDS, "specifications": {}}
    fits = {}
    y0 = configured_rows[Y].to_numpy().astype(np.float64)
    claim = design(configured_rows, configured)
    claim_only = (
        fit_logit(as_array(claim.select(OPINION)), y0, [OPINION])
        if OPINION in claim.columns
        else None
    )
    for key, spec in candidates(configured).items():
        rows = configured_rows if key == "configured" else uncapped_rows
        frame = design(rows, spec)
        X, names = as_array(frame), frame.columns
        y = rows[Y].to_numpy().astype(np.float64)
        result = fit_logit(X, y, names)
        fits[key] = result
        if key in SENSITIVITY:
            out.setdefault("sensitivity", {})[key] = sensitivity_row(result, names, claim_only)
        out["specifications"][key] = {
            "features": spec.name,
            "log_counts": spec.log_counts,
            "interactions": list(spec.interactions),
            "parameters": len(names) + 1,
            "log_likelihood": float(result.llf),
            "aic": float(result.aic),
            **_scores(X, y, names, seed),
        }
    if "log_counts_x_claim" in fits:
        statistic = 2.0 * (fits["log_counts_x_claim"].llf - fits["log_counts"].llf)
        df = int(fits["log_counts_x_claim"].df_model - fits["log_counts"].df_model)
        out["interactions_lr_test"] = {
            "statistic": float(statistic),
            "df": df,
            "p_value": float(chi2.sf(statistic, df)),
        }
    if claim_only is not None:
        X1 = as_array(claim.select(OPINION))
        alone = _scores(X1, y0, [OPINION], seed)
        conf = out["specifications"]["configured"]["cv_roc_auc_per_fold"]
        diff = np.subtract(conf, alone["cv_roc_auc_per_fold"])
        out["claim_status_alone"] = alone
        out["cv_gain_over_claim_status"] = {
            "specification": "configured",
            "per_fold": [float(d) for d in diff],
            "mean": float(np.mean(diff)),
            "std": float(np.std(diff, ddof=1)),
        }
        out["adjusted_for_claim_status_only"] = adjusted_for_claim_status(
            configured_rows, configured
        )
    specs = out["specifications"]
    out["best_aic"] = min(specs, key=lambda k: specs[k]["aic"])
    out["best_cv_roc_auc"] = max(specs, key=lambda k: specs[k]["cv_roc_auc"])
    return out


def sensitivity_row(result, names: list[str], claim_only) -> dict:
    """One specification's row of the sensitivity table: the likelihood-ratio test of every
    predictor besides claim status (against `claim_only`, the fit on claim status alone on
    the same rows) and Holm's correction of its Wald p-values."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(result.pvalues)[1:]
    holm = multipletests(p, alpha=ALPHA, method="holm")[1]
    row: dict = {
        "holm_p": {n: float(h) for n, h in zip(names, holm, strict=True)},
        "survive_holm": [n for n, h in zip(names, holm, strict=True) if h < ALPHA],
        "joint_test_besides_claim_status": None,
    }
    if claim_only is not None:
        statistic = 2.0 * (float(result.llf) - float(claim_only.llf))
        df = len(names) - 1
        row["joint_test_besides_claim_status"] = {
            "statistic": statistic,
            "df": df,
            "p_value": float(chi2.sf(statistic, df)),
        }
    return row


def adjusted_for_claim_status(rows: pl.DataFrame, configured: Features) -> dict:
    """Each other design column fitted with claim status alone: its odds ratio (per unit for a
    0/1 column, per SD otherwise, as the inference reports it), 95% interval and p-value."""
    frame = design(rows, configured)
    y = rows[Y].to_numpy().astype(np.float64)
    out = {}
    for name in frame.columns:
        if name == OPINION:
            continue
        X = as_array(frame.select(OPINION, name))
        result = fit_logit(X, y, [OPINION, name])
        x = X[:, 1]
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        scale = 1.0 if binary else float(np.std(x, ddof=1))
        ci = np.asarray(result.conf_int(alpha=0.05))[2]
        out[name] = {
            "per": "unit" if binary else "sd",
            "odds_ratio": float(np.exp(result.params[2] * scale)),
            "ci_low": float(np.exp(ci[0] * scale)),
            "ci_high": float(np.exp(ci[1] * scale)),
            "p_value": float(result.pvalues[2]),
        }
    return out
