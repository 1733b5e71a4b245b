"""Train: fit the scikit-learn pipeline on the (resampled) training part and save it."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tiktok_verified import inference
from tiktok_verified import model as model_lib
from tiktok_verified.config import ConfigError, Params, load_params
from tiktok_verified.io import write_json, write_with


def fit(train: pl.DataFrame, params: Params) -> tuple[Pipeline, dict]:
    """Fit the configured pipeline; report convergence instead of printing a warning."""
    class_weight = "balanced" if params.resample.strategy == "class_weight" else None
    pipeline = model_lib.build_pipeline(
        params.features, params.model, params.base.seed, class_weight
    )
    X = model_lib.design(train, params.features)
    y = model_lib.outcome(train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X, y)
    classifier = pipeline.named_steps["classify"]
    n_iter = int(np.max(classifier.n_iter_))
    info = {
        "model": params.model.name,
        "C": params.model.C if params.model.penalized else None,
        "l1_ratio": params.model.l1_ratio,
        "solver": params.model.solver,
        "resample": params.resample.strategy,
        "class_weight": class_weight,
        "train_rows": int(len(y)),
        "iterations": n_iter,
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
    }
    return pipeline, info


def coefficient_table(pipeline: Pipeline) -> dict:
    """The scikit-learn model's coefficients in raw units (undoing any standardization)."""
    classifier = pipeline.named_steps["classify"]
    names = model_lib.feature_names(pipeline)
    coefs = classifier.coef_[0].astype(np.float64).copy()
    intercept = float(classifier.intercept_[0])
    encoder = pipeline.named_steps["encode"]
    scaler = encoder.named_transformers_.get("numeric")
    if isinstance(scaler, StandardScaler):
        cols = [names.index(c) for c in scaler.feature_names_in_]
        coefs[cols] = coefs[cols] / scaler.scale_
        intercept -= float(np.sum(coefs[cols] * scaler.mean_))
    return {
        "intercept": intercept,
        "coefficients": {
            name: {"coef": float(b), "odds_ratio": float(np.exp(b))}
            for name, b in zip(names, coefs, strict=True)
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit the logistic regression.")
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--train-original", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--plot", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 1
    train = pl.read_parquet(args.train)
    pipeline, info = fit(train, params)
    original = pl.read_parquet(args.train_original)
    stats = inference.coefficient_inference(original, params.features)
    if not train.equals(original):
        stats["resampled_rows_comparison"] = inference.resampled_rows_comparison(
            stats, inference.coefficient_inference(train, params.features)
        )
    model_lib.save(pipeline, args.model)
    write_json(
        args.report,
        {
            "predictor": {**info, **coefficient_table(pipeline)},
            "inference": stats,
            "strongest": inference.strongest(stats),
        },
    )
    plot = inference.plot_rows(stats)
    write_with(args.plot, lambda tmp: plot.write_csv(tmp, float_precision=6))
    print(
        f"train: {info['train_rows']} rows, {info['iterations']} iterations, "
        f"converged={info['converged']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
