"""The design matrix, built in polars: reference-coded dummies of the categorical predictors
(one per level but the first), then the numeric predictors (engagement counts as
log(1 + count) where `features.log_counts`), then the interactions of the opinion dummy with
the configured counts, every column Float64."""

from __future__ import annotations

import numpy as np
import polars as pl

from tiktok_verified.config import Features
from tiktok_verified.data import schema
from tiktok_verified.data.schema import Y

#: The dummy that `features.interactions` multiplies each configured count by.
OPINION = "claim_status_opinion"


def numeric_name(cfg: Features, column: str) -> str:
    """The design column of a numeric predictor: `log_<count>` for a logged count."""
    return f"log_{column}" if cfg.log_counts and column in schema.COUNT_COLUMNS else column


def numeric_columns(cfg: Features) -> list[str]:
    """Design names of the continuous predictors, in design order."""
    return [numeric_name(cfg, c) for c in (*cfg.numeric, *cfg.text)]


def interaction_columns(cfg: Features) -> list[tuple[str, str]]:
    """(design name, numeric design column) of each opinion-dummy interaction."""
    return [(f"{OPINION}:{numeric_name(cfg, c)}", numeric_name(cfg, c)) for c in cfg.interactions]


def _numeric(cfg: Features, column: str) -> pl.Expr:
    x = pl.col(column).cast(pl.Float64)
    return (x.log1p() if numeric_name(cfg, column) != column else x).alias(
        numeric_name(cfg, column)
    )


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
    base = frame.select(
        *[
            (categorical[c] == level).cast(pl.Float64).alias(name)
            for name, c, level in dummy_columns(features)
        ],
        *[_numeric(features, c) for c in (*features.numeric, *features.text)],
    )
    return base.with_columns(
        (pl.col(OPINION) * pl.col(x)).alias(name) for name, x in interaction_columns(features)
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
