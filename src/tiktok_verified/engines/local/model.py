"""The model stage's computations on the local engine (scikit-learn): fit, cross-validate,
evaluate; the stage writes what they return."""

from __future__ import annotations

import polars as pl

from tiktok_verified.modeling.crossval import cross_validate
from tiktok_verified.modeling.evaluation import evaluate
from tiktok_verified.modeling.fit import fit


def run(args, params):
    """(pipeline, predictor info, cv, evaluation)."""
    original = pl.read_parquet(args.train_original)
    pipeline, info = fit(pl.read_parquet(args.train), params)
    cv = cross_validate(original, params)
    return pipeline, info, cv, evaluate(pipeline, original, pl.read_parquet(args.test), params)
