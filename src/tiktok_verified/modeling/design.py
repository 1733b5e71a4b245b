"""The design matrix, built in polars: reference-coded dummies of the categorical predictors
(one per level but the first), then the numeric predictors, every column Float64."""

from __future__ import annotations

import numpy as np
import polars as pl

from tiktok_verified.config import Features
from tiktok_verified.data import schema
from tiktok_verified.data.schema import Y


def numeric_columns(cfg: Features) -> list[str]:
    return [*cfg.numeric, *cfg.text]


def dummy_columns(cfg: Features) -> list[tuple[str, str, str]]:
    """(design name, column, level) of each dummy: one per level but the first (reference)."""
    return [
        (f"{c}_{level}", c, level) for c in cfg.categorical for level in schema.CATEGORIES[c][1:]
    ]


def design(frame: pl.DataFrame, features: Features) -> pl.DataFrame:
    """The design matrix in raw units: dummies, then numerics, every column Float64.

    A categorical value outside schema.CATEGORIES is an error (ingest refuses such rows, so
    this only guards hand-made frames)."""
    categorical = {}
    for c in features.categorical:
        allowed = schema.CATEGORIES[c]
        if frame.schema[c] == pl.Enum(allowed):  # as ingest writes it: nothing else possible
            categorical[c] = pl.col(c)
            continue
        bad = frame.filter(pl.col(c).is_null() | ~pl.col(c).cast(pl.String).is_in(allowed))
        if bad.height:
            raise ValueError(f"column {c!r}: value {bad[c][0]!r} is not one of {list(allowed)}")
        categorical[c] = pl.col(c).cast(pl.String)
    return frame.select(
        *[
            (categorical[c] == level).cast(pl.Float64).alias(name)
            for name, c, level in dummy_columns(features)
        ],
        *[pl.col(c).cast(pl.Float64) for c in numeric_columns(features)],
    )


def as_array(design_frame: pl.DataFrame) -> np.ndarray:
    """A design frame as a row-major float64 array."""
    return design_frame.to_numpy(order="c").astype(np.float64, copy=False)


def encoded(frame: pl.DataFrame, features: Features) -> tuple[np.ndarray, list[str]]:
    """The design matrix as a float64 array (raw units, no scaling) and its column names."""
    X = design(frame, features)
    return as_array(X), X.columns


def outcome(frame: pl.DataFrame) -> np.ndarray:
    return frame[Y].to_numpy().astype(np.int64)
