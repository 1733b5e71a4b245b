"""Class-imbalance strategies. Each touches only the rows it is given; the split stage gives
them the training part (except `exemplar`, which reproduces the course's upsample-then-split)."""

from __future__ import annotations

import numpy as np
import polars as pl

from tiktok_verified.features import Y


def _class_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    counts = frame[Y].value_counts()
    if counts.height < 2:
        raise ValueError("resampling needs both classes in the data")
    minority_label = counts.sort(["count", Y])[Y][0]
    return frame.filter(pl.col(Y) == minority_label), frame.filter(pl.col(Y) != minority_label)


def upsample(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Draw minority rows with replacement until both classes have the majority's count."""
    minority, majority = _class_rows(frame)
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, minority.height, majority.height - minority.height)
    return pl.concat([frame, minority[extra]])


def downsample(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Keep a random subset of majority rows the size of the minority class."""
    minority, majority = _class_rows(frame)
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(majority.height, minority.height, replace=False))
    return pl.concat([majority[keep], minority])


def apply(frame: pl.DataFrame, strategy: str, seed: int) -> pl.DataFrame:
    """Resample training rows by strategy; `none`/`class_weight` leave them as they are."""
    if strategy in ("upsample", "exemplar"):
        return upsample(frame, seed)
    if strategy == "downsample":
        return downsample(frame, seed)
    if strategy in ("none", "class_weight"):
        return frame
    raise ValueError(f"unknown resample strategy {strategy!r}")
