"""The predictor: scikit-learn's Pipeline of a StandardScaler and a LogisticRegression, fitted
on the design matrix (modeling.design).

Copies of a row (what upsampling makes) are fitted as one row with a frequency weight: the
penalised log-likelihood, the scaler's mean and SD, and so the fitted model are the same, with
a fraction of the rows and memory.

The fitted numbers are then settled to SETTLE_DIGITS significant digits (`settle`), and
everything downstream (the model file, predictions, metrics) uses the settled model. OpenBLAS
picks its kernel by CPU (SkylakeX with AVX-512, Haswell/Zen with AVX2, ...), and each kernel
sums in its own order: the same fit differs in its last bits from one CPU to another (fitted to
the optimum, newton-cholesky at tolerance 1e-8: by 1e-14 to 2.5e-14 relative in the median fit
and at most 1.5e-12 over two 200-fit C sweeps on the course file). Rounding well above that
noise and far below anything a metric or a standard error can see makes the model file the same
bytes on every CPU; how often the rounding can still straddle a boundary was measured (0 of 400
fits; `python -m benchmarks.kernels`, benchmarks/FINDINGS.md "BLAS kernels")."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tiktok_verified.config import Features, Model, Params
from tiktok_verified.data.schema import WEIGHT
from tiktok_verified.modeling.design import design, outcome
from tiktok_verified.modeling.resampling import as_weighted


def build_pipeline(
    features: Features, model: Model, seed: int, class_weight: str | None
) -> Pipeline:
    # Without standardization the scaler is the identity; the model keeps one shape and the
    # predictor names it was fitted with (checked again at predict time).
    scaler = (
        StandardScaler() if model.standardize else StandardScaler(with_mean=False, with_std=False)
    )
    classifier = LogisticRegression(
        C=model.C if model.penalized else np.inf,
        l1_ratio=model.l1_ratio,
        solver=model.solver,
        max_iter=model.max_iter,
        tol=model.tol,
        class_weight=class_weight,
        random_state=seed,
    )
    return Pipeline([("scale", scaler), ("classify", classifier)])


#: Significant digits kept of every fitted number (scaler means and scales, coefficients,
#: intercept). 1e-8 relative is ~10^4 times the largest cross-kernel difference measured and
#: ~10^-7 of a coefficient's standard error.
SETTLE_DIGITS = 8
#: The fitted float arrays of each step that `settle` rounds.
FITTED = {"scale": ("mean_", "var_", "scale_"), "classify": ("coef_", "intercept_")}


def settled(values: np.ndarray, digits: int = SETTLE_DIGITS) -> np.ndarray:
    """`values` rounded to `digits` significant digits (as `%.{digits}g` prints them)."""
    flat = [float(f"{v:.{digits}g}") for v in np.asarray(values, dtype=np.float64).ravel()]
    return np.array(flat, dtype=np.float64).reshape(np.shape(values))


def settle(pipeline: Pipeline, digits: int = SETTLE_DIGITS) -> Pipeline:
    """Round the fitted numbers in place, so that every BLAS kernel saves the same model."""
    for step, names in FITTED.items():
        estimator = pipeline.named_steps[step]
        for name in names:
            if getattr(estimator, name, None) is not None:
                setattr(estimator, name, settled(getattr(estimator, name), digits))
    return pipeline


def fit(train: pl.DataFrame, params: Params) -> tuple[Pipeline, dict]:
    """Fit the configured pipeline on the training rows (copies of a row as one row with a
    frequency weight; a `weight` column, as split writes it, gives them), settle its numbers;
    report convergence instead of printing a warning."""
    class_weight = "balanced" if params.resample.strategy == "class_weight" else None
    pipeline = build_pipeline(params.features, params.model, params.base.seed, class_weight)
    rows = as_weighted(train)
    X = design(rows, params.features)
    y = outcome(rows)
    w = rows[WEIGHT].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X, y, scale__sample_weight=w, classify__sample_weight=w)
    settle(pipeline)
    classifier = pipeline.named_steps["classify"]
    info = {
        "model": params.model.name,
        "C": params.model.C if params.model.penalized else None,
        "l1_ratio": params.model.l1_ratio,
        "solver": params.model.solver,
        "resample": params.resample.strategy,
        "class_weight": class_weight,
        "train_rows": int(w.sum()),
        "distinct_rows": rows.height,
        "iterations": int(np.max(classifier.n_iter_)),
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
    }
    return pipeline, info


def predict_proba(pipeline: Pipeline, frame: pl.DataFrame, features: Features) -> np.ndarray:
    """P(verified) for each row."""
    return pipeline.predict_proba(design(frame, features))[:, 1]


def feature_names(pipeline: Pipeline) -> list[str]:
    return [str(n) for n in pipeline.named_steps["scale"].feature_names_in_]


def coefficient_table(pipeline: Pipeline) -> dict:
    """The scikit-learn model's coefficients in raw units (undoing any standardization)."""
    classifier = pipeline.named_steps["classify"]
    scaler = pipeline.named_steps["scale"]
    names = feature_names(pipeline)
    coefs = classifier.coef_[0].astype(np.float64).copy()
    intercept = float(classifier.intercept_[0])
    if scaler.scale_ is not None:
        coefs = coefs / scaler.scale_
    if scaler.mean_ is not None:
        intercept -= float(np.sum(coefs * scaler.mean_))
    return {
        "intercept": intercept,
        "coefficients": {
            name: {"coef": float(b), "odds_ratio": float(np.exp(b))}
            for name, b in zip(names, coefs, strict=True)
        },
    }
