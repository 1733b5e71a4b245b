"""Split: the seeded hash split of `partition` (the same on both engines); outlier caps fitted
on train and applied to both; resampling of the TRAIN part only (the `exemplar` protocol
excepted, on purpose)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tiktok_verified.config import Params
from tiktok_verified.data import schema
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.features import cap_upper, iqr_upper_limits
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.modeling import resampling
from tiktok_verified.modeling.partition import held_out


def class_counts(frame: pl.DataFrame) -> np.ndarray:
    """Rows of each class, [not verified, verified]."""
    return np.bincount(frame[Y].to_numpy().astype(np.int64), minlength=2)[:2]


def check_parts(totals: np.ndarray, held: np.ndarray, source: str) -> dict[str, float | None]:
    """From each class's rows and held-out rows ([not verified, verified], both engines count
    them): refuse a part left without a class (a tiny or one-sided file can do that), else
    return the share of each class that the split held out (test_size in expectation)."""
    totals, held = np.asarray(totals), np.asarray(held)
    labels = (schema.NEGATIVE, schema.POSITIVE)
    for part, counts in (("training", totals - held), ("test", held)):
        for label, count in zip(labels, counts, strict=True):
            if count < 1:
                raise InputError(
                    source,
                    f"the split leaves no {label!r} video in the {part} part "
                    f"({int(counts.sum())} videos); more data, or another split.test_size, is "
                    "needed",
                    column=schema.OUTCOME,
                )
    return {label: float(held[k] / totals[k]) for k, label in enumerate(labels)}


def split_rows(
    frame: pl.DataFrame, test_size: float, seed: int, source: str = "features"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The seeded hash split (`partition.held_out`): a video's part depends only on its id and
    the seed; copies of a video (the exemplar protocol's) are numbered, so each draws its own
    part. The row order within each part follows the input."""
    copies = frame.select(pl.int_range(pl.len()).over(schema.VIDEO_ID)).to_series().to_numpy()
    test = held_out(frame[schema.VIDEO_ID].to_numpy(), seed, test_size, copies)
    train_part, test_part = frame.filter(pl.Series(~test)), frame.filter(pl.Series(test))
    check_parts(class_counts(frame), class_counts(test_part), source)
    return train_part, test_part


def stratified_sample(frame: pl.DataFrame, max_rows: int, seed: int) -> pl.DataFrame:
    """The rows in video id order, cut to a seeded sample of at most `max_rows` rows with the
    outcome's class shares kept (scikit-learn's `train_test_split`).

    By id, not as given: what is drawn from it (the sample, cross-validation's folds) must not
    depend on the order in which an engine holds the rows."""
    frame = frame.sort(schema.VIDEO_ID)
    if frame.height <= max_rows:
        return frame
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(
        np.arange(frame.height),
        train_size=max_rows,
        stratify=frame[Y].to_numpy(),
        random_state=seed,
    )
    return frame[np.sort(keep)]


@dataclass(frozen=True)
class SplitResult:
    # The rows the classifier is fitted on, resampled: each distinct row once, with its number
    # of copies in the `weight` column (WEIGHT).
    train: pl.DataFrame
    test: pl.DataFrame
    train_original: pl.DataFrame  # the training part as split, one row per video
    report: dict


def make_split(features: pl.DataFrame, params: Params, source: str = "features") -> SplitResult:
    seed = params.base.seed
    strategy = params.resample.strategy
    rows = features
    if strategy == "exemplar":
        # The course exemplar's protocol: upsample the whole table, then split. Duplicated
        # minority rows land on both sides; kept only to show how much that inflates metrics.
        rows = resampling.upsample(features, seed)
    train, test = split_rows(rows, params.split.test_size, seed, source)
    limits = iqr_upper_limits(train, params.features.cap_iqr, params.features.iqr_factor)
    capped = {
        c: {
            **v,
            "train_values_capped": int((train[c] > v["upper"]).sum()),
            "test_values_capped": int((test[c] > v["upper"]).sum()),
        }
        for c, v in limits.items()
    }
    train_before = cap_upper(train, limits)
    test = cap_upper(test, limits)
    if strategy == "exemplar":
        # Inference, diagnostics and cross-validation need one row per video: under this
        # protocol the training part already holds copies, so they get its distinct videos.
        train = resampling.collapse_copies(train_before)
        train_before = train.drop(WEIGHT)
    else:
        train = resampling.weighted(train_before, strategy, seed)
    overlap = test.join(train, on=schema.VIDEO_ID, how="semi").height
    report = {
        "resample": strategy,
        "test_size": params.split.test_size,
        "test_share": check_parts(class_counts(rows), class_counts(test), source),
        "rows": {
            # One row per training video: what inference, diagnostics and CV use.
            "train_before_resample": train_before.height,
            "train": int(train[WEIGHT].sum()),  # copies counted
            "train_distinct": train.height,
            "test": test.height,
        },
        "class_counts": {
            "train": _class_counts(train),
            "test": _class_counts(test),
        },
        "test_rows_whose_video_is_in_train": overlap,
        "caps": capped,
    }
    return SplitResult(train, test, train_before, report)


def _class_counts(frame: pl.DataFrame) -> dict:
    """Rows per class; a `weight` column counts each row that many times."""
    if WEIGHT in frame.columns:
        weight = frame[WEIGHT]
        rows, positives = int(weight.sum()), int((frame[Y] * weight).sum())
    else:
        rows, positives = frame.height, int(frame[Y].sum())
    return {schema.NEGATIVE: rows - positives, schema.POSITIVE: positives}
