"""Class-imbalance strategies. Each touches only the rows it is given; the split stage gives
them the training part (except `exemplar`, which reproduces the course's upsample-then-split).

`apply` returns the resampled rows; `weighted` the same as distinct rows with their number of
copies in a `weight` column (what split writes and train fits: same model, a fraction of the
rows)."""

from __future__ import annotations

import numpy as np
import polars as pl

from tiktok_verified.data import schema
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.modeling.partition import downsample_keep, upsample_draws


def minority_class(counts: dict[int, int]) -> int:
    """The outcome code with fewer rows (0 on a tie), from {code: rows}; both engines use it."""
    if min(counts.get(0, 0), counts.get(1, 0)) == 0:
        raise ValueError("resampling needs both classes in the data")
    return min((0, 1), key=lambda code: (counts[code], code))


def _class_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    minority_label = minority_class(dict(frame[Y].value_counts().iter_rows()))
    return frame.filter(pl.col(Y) == minority_label), frame.filter(pl.col(Y) != minority_label)


def _copies(frame: pl.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Whether each row is of the minority class, and each minority row's number of copies
    after upsampling (`partition.upsample_draws`: drawn by video id, not by row order)."""
    minority, majority = _class_rows(frame)
    is_minority = (frame[Y] == minority[Y][0]).to_numpy()
    return is_minority, upsample_draws(minority[schema.VIDEO_ID].to_numpy(), majority.height, seed)


def upsample(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Draw minority rows with replacement until both classes have the majority's count."""
    is_minority, copies = _copies(frame, seed)
    minority = frame.filter(pl.Series(is_minority))
    return pl.concat([frame, minority[np.repeat(np.arange(minority.height), copies - 1)]])


def downsample(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Keep a random subset of majority rows the size of the minority class."""
    minority, majority = _class_rows(frame)
    keep = downsample_keep(majority[schema.VIDEO_ID].to_numpy(), minority.height, seed)
    return pl.concat([majority.filter(pl.Series(keep)), minority])


def apply(frame: pl.DataFrame, strategy: str, seed: int) -> pl.DataFrame:
    """Resample training rows by strategy; `none`/`class_weight` leave them as they are."""
    if strategy in ("upsample", "exemplar"):
        return upsample(frame, seed)
    if strategy == "downsample":
        return downsample(frame, seed)
    if strategy in ("none", "class_weight"):
        return frame
    raise ValueError(f"unknown resample strategy {strategy!r}")


def collapse_copies(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per video with its number of copies in `WEIGHT` (first-seen order).

    Resampling draws whole rows, so the copies of a video are identical rows."""
    return frame.group_by(schema.VIDEO_ID, maintain_order=True).agg(
        pl.all().first(), pl.len().cast(pl.Float64).alias(WEIGHT)
    )


def as_weighted(frame: pl.DataFrame) -> pl.DataFrame:
    """Fitting rows with a `WEIGHT` column: as given if they have one (what split writes),
    else their copies collapsed (`collapse_copies`)."""
    return frame if WEIGHT in frame.columns else collapse_copies(frame)


def weighted(frame: pl.DataFrame, strategy: str, seed: int) -> pl.DataFrame:
    """`collapse_copies(apply(frame, strategy, seed))`, without making the copies: the same
    draws, the same rows in the same order, the same weights."""
    if strategy == "upsample":
        is_minority, copies = _copies(frame, seed)
        weights = np.ones(frame.height)
        weights[is_minority] = copies
        return frame.with_columns(pl.Series(WEIGHT, weights))
    if strategy in ("downsample", "none", "class_weight"):  # no row twice
        return apply(frame, strategy, seed).with_columns(pl.lit(1.0).alias(WEIGHT))
    return collapse_copies(apply(frame, strategy, seed))
