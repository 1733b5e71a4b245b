"""Train: fit the scikit-learn pipeline on the (resampled) training part, save it, and add the
statistical inference (statsmodels, on the training rows as split) to its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.pipeline import Pipeline

from tiktok_verified import inference, resample
from tiktok_verified import model as model_lib
from tiktok_verified.config import ConfigError, load_params
from tiktok_verified.io import write_json, write_with

#: The fit lives in model.py (cross-validation uses it without this stage's statistics).
fit = model_lib.fit


def coefficient_table(pipeline: Pipeline) -> dict:
    """The scikit-learn model's coefficients in raw units (undoing any standardization)."""
    classifier = pipeline.named_steps["classify"]
    scaler = pipeline.named_steps["scale"]
    names = model_lib.feature_names(pipeline)
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
    original = pl.read_parquet(args.train_original)
    # Distinct rows, copies as a `weight` column (a part written with copies is collapsed).
    rows = resample.as_weighted(pl.read_parquet(args.train))
    pipeline, info = fit(rows, params)
    stats = inference.coefficient_inference(original, params.features)
    if rows.height != original.height or rows[resample.WEIGHT].max() != 1:
        # The same unpenalised fit on the fitting rows (copies as frequency weights).
        stats["resampled_rows_comparison"] = inference.resampled_rows_comparison(
            stats,
            inference.coefficient_inference(
                rows, params.features, weights=rows[resample.WEIGHT].to_numpy()
            ),
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
