"""Split: stratified, seeded train/test split; outlier caps fitted on train and applied to
both; resampling of the TRAIN part only (the `exemplar` protocol excepted, on purpose)."""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tiktok_verified import resample, schema
from tiktok_verified.config import ConfigError, Params, load_params
from tiktok_verified.features import Y, cap_upper, iqr_upper_limits
from tiktok_verified.io import write_json, write_parquet


def class_quotas(counts: np.ndarray, n_take: int) -> np.ndarray:
    """How many of `n_take` rows each class gets so that the shares stay as close as possible
    to the classes' shares of all rows: each class the floor of its proportional quota, the
    rows left over one each to the classes with the largest remainders (ties: first class).
    Integer arithmetic, so no quota depends on rounding."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if not 0 <= n_take <= total:
        raise ValueError(f"cannot take {n_take} of {total} rows")
    if total == 0:
        return counts.copy()
    quotas = counts * n_take // total
    remainders = counts * n_take - quotas * total
    left = n_take - int(quotas.sum())  # < number of classes with a remainder
    quotas[np.argsort(-remainders, kind="stable")[:left]] += 1
    return quotas


def sample_mask(y: np.ndarray | None, n: int, n_take: int, seed: int) -> np.ndarray:
    """Boolean mask of a seeded sample of `n_take` of `n` rows; with labels `y`, stratified
    (per class a seeded draw without replacement of its quota, classes in sorted order)."""
    if not 0 <= n_take <= n:
        raise ValueError(f"cannot take {n_take} of {n} rows")
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    if y is None:
        mask[rng.choice(n, size=n_take, replace=False, shuffle=False)] = True
        return mask
    y = np.asarray(y)
    members = [np.flatnonzero(y == c) for c in _classes(y)]
    quotas = class_quotas(np.array([len(m) for m in members]), n_take)
    for rows, quota in zip(members, quotas, strict=True):
        mask[rng.choice(rows, size=int(quota), replace=False, shuffle=False)] = True
    return mask


def _classes(y: np.ndarray) -> np.ndarray:
    """The distinct labels, sorted; for small integer codes by a bincount, not a sort."""
    if y.size and y.dtype.kind in "biu":
        lo = int(y.min())
        if int(y.max()) - lo < 1 << 16:
            return np.flatnonzero(np.bincount(y.astype(np.int64) - lo)) + lo
    return np.unique(y)


def split_rows(
    frame: pl.DataFrame, test_size: float, stratify: bool, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Seeded (optionally stratified) split into ceil(test_size * rows) test rows and the rest,
    as scikit-learn's train_test_split sizes them; row order within each part follows the
    input."""
    n = frame.height
    n_test = math.ceil(test_size * n)
    if not 0 < n_test < n:
        raise ValueError(f"a test share of {test_size} leaves an empty part of {n} rows")
    y = frame[Y].to_numpy() if stratify else None
    if y is not None:
        counts = np.bincount(y.astype(np.int64), minlength=2)
        for label, count in zip((schema.NEGATIVE, schema.POSITIVE), counts[:2], strict=True):
            if count < 2:
                raise ValueError(
                    f"a stratified split needs at least 2 videos of each class; "
                    f"{label!r} has {count}"
                )
    test = pl.Series(sample_mask(y, n, n_test, seed))
    return frame.filter(~test), frame.filter(test)


def stratified_sample(frame: pl.DataFrame, max_rows: int, seed: int) -> pl.DataFrame:
    """A seeded sample of at most `max_rows` rows with the outcome's class shares kept; row
    order follows the input."""
    if frame.height <= max_rows:
        return frame
    return frame.filter(pl.Series(sample_mask(frame[Y].to_numpy(), frame.height, max_rows, seed)))


@dataclass(frozen=True)
class SplitResult:
    # The rows the classifier is fitted on, resampled: each distinct row once, with its number
    # of copies in the `weight` column (resample.WEIGHT).
    train: pl.DataFrame
    test: pl.DataFrame
    train_original: pl.DataFrame  # the training part as split, one row per video
    report: dict


def make_split(features: pl.DataFrame, params: Params) -> SplitResult:
    seed = params.base.seed
    strategy = params.resample.strategy
    source = features
    if strategy == "exemplar":
        # The course exemplar's protocol: upsample the whole table, then split. Duplicated
        # minority rows land on both sides; kept only to show how much that inflates metrics.
        source = resample.upsample(features, seed)
    train, test = split_rows(source, params.split.test_size, params.split.stratify, seed)
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
        train = resample.collapse_copies(train_before)
        train_before = train.drop(resample.WEIGHT)
    else:
        train = resample.weighted(train_before, strategy, seed)
    overlap = test.join(train, on=schema.VIDEO_ID, how="semi").height
    report = {
        "resample": strategy,
        "test_size": params.split.test_size,
        "rows": {
            # One row per training video: what inference, diagnostics and CV use.
            "train_before_resample": train_before.height,
            "train": int(train[resample.WEIGHT].sum()),  # copies counted
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
    if resample.WEIGHT in frame.columns:
        weight = frame[resample.WEIGHT]
        rows, positives = int(weight.sum()), int((frame[Y] * weight).sum())
    else:
        rows, positives = frame.height, int(frame[Y].sum())
    return {schema.NEGATIVE: rows - positives, schema.POSITIVE: positives}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Split, cap outliers, resample train.")
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--train-original", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"split: error: {exc}", file=sys.stderr)
        return 1
    try:
        result = make_split(pl.read_parquet(args.features), params)
    except ValueError as exc:
        print(f"split: error: {args.features}: {exc}", file=sys.stderr)
        return 1
    write_parquet(args.train, result.train)
    write_parquet(args.train_original, result.train_original)
    write_parquet(args.test, result.test)
    write_json(args.report, result.report)
    report = result.report
    print(
        f"split: train {report['rows']['train']} rows ({report['resample']}), "
        f"test {report['rows']['test']} rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
