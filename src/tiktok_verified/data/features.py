"""Features: turn the validated videos into the model's predictor table.

Row-wise only (text length and word count, the chosen columns, the outcome as 0/1), so nothing
here looks at other rows. Outlier capping, which learns thresholds from the data, is fitted on
the training part in the split stage (`cap_upper`), never on test rows.
"""

from __future__ import annotations

import polars as pl

from tiktok_verified.config import Features
from tiktok_verified.data import schema
from tiktok_verified.data.schema import Y

TEXT_EXPRESSIONS = {
    "text_length": pl.col(schema.TEXT).str.len_chars().cast(pl.Int32),
    "word_count": pl.col(schema.TEXT).str.count_matches(r"\S+").cast(pl.Int32),
}


def build_features(videos: pl.LazyFrame | pl.DataFrame, cfg: Features) -> pl.LazyFrame:
    """Select the configured predictors; add text features; code the outcome verified = 1."""
    lf = videos.lazy()
    return lf.select(
        pl.col(schema.VIDEO_ID),
        (pl.col(schema.OUTCOME) == schema.POSITIVE).cast(pl.Int8).alias(Y),
        *[pl.col(c) for c in cfg.numeric],
        *[TEXT_EXPRESSIONS[t].alias(t) for t in cfg.text],
        *[pl.col(c) for c in cfg.categorical],
    )


#: The quartiles of the IQR rule, interpolated linearly between order statistics (numpy's and
#: polars' "linear", Hyndman & Fan's type 7; Spark's exact `percentile` computes the same).
QUARTILES = (0.25, 0.75)


def iqr_upper_limits(frame: pl.DataFrame, columns: tuple[str, ...], factor: float) -> dict:
    """Upper whisker q3 + factor * (q3 - q1) per column (the course's IQR rule)."""
    limits = {}
    for c in columns:
        q1, q3 = (frame[c].quantile(q, interpolation="linear") for q in QUARTILES)
        limits[c] = {"q1": q1, "q3": q3, "upper": q3 + factor * (q3 - q1)}
    return limits


def cap_upper(frame: pl.DataFrame, limits: dict) -> pl.DataFrame:
    """Cap each column at its upper limit; the column becomes Float64 (the limit may be
    fractional)."""
    return frame.with_columns(
        pl.col(c).cast(pl.Float64).clip(upper_bound=v["upper"]).alias(c) for c, v in limits.items()
    )


def summarise(features: pl.DataFrame, cfg: Features) -> dict:
    return {
        "feature_set": cfg.name,
        "rows": features.height,
        "predictors": list(cfg.columns),
        "numeric": list(cfg.numeric) + list(cfg.text),
        "categorical": list(cfg.categorical),
    }
