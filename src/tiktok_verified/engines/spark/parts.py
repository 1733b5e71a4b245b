"""The split on Spark, by the local engine's rules (`modeling.partition`, `modeling.split`): the
hash split, the outlier caps fitted on the training part, and resampling as a weight column
(the local engine's draws, joined back by video id)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from tiktok_verified.config import Params
from tiktok_verified.data import schema
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.engines.spark.files import write_parquet


def _by_video(spark, ids, column: str, values):
    """A two-column frame (video_id, column) from driver-side arrays, for a join."""
    import pyarrow as pa

    table = pa.table({schema.VIDEO_ID: pa.array(ids, pa.int64()), column: pa.array(values)})
    return spark.createDataFrame(table)


#: A driver-side frame of up to this many rows is broadcast to its join (no shuffle of the
#: training part, whose order the join then keeps).
BROADCAST_ROWS = 2_000_000


def _small(frame, rows: int):
    from pyspark.sql import functions as F

    return F.broadcast(frame) if rows <= BROADCAST_ROWS else frame


def _weights(spark, frame, strategy: str, seed: int, counts: dict | None = None):
    """The resampled training part as a weight column, with the local engine's draws
    (`partition.upsample_draws` / `downsample_keep`: a class's video ids are collected, drawn
    by id order on the driver, and joined back): the same rows and the same weights."""
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.partition import downsample_keep, upsample_draws
    from tiktok_verified.modeling.resampling import minority_class

    if counts is None:
        counts = dict(frame.groupBy(Y).count().collect())
    n0, n1 = counts.get(0, 0), counts.get(1, 0)
    try:
        minority = minority_class(counts)
    except ValueError as exc:
        raise InputError("features", f"{exc} (the training part)") from None
    if strategy in ("none", "class_weight"):  # class_weight: scikit-learn's, in the fit
        return frame.withColumn(WEIGHT, F.lit(1.0))
    if strategy not in ("upsample", "downsample"):
        raise InputError("params", f"resample={strategy} is a local-engine comparison only")
    drawn = 1 - minority if strategy == "downsample" else minority
    # Through Arrow, not Row objects: ~0.5M ids at 10M rows.
    ids = frame.filter(F.col(Y) == drawn).select(schema.VIDEO_ID).toArrow().column(0).to_numpy()
    if strategy == "upsample":
        copies = upsample_draws(ids, max(n0, n1), seed).astype(float)
        extra = _small(_by_video(spark, ids, WEIGHT, copies), len(ids))
        return frame.join(extra, schema.VIDEO_ID, "left").fillna(1.0, subset=[WEIGHT])
    keep = downsample_keep(ids, min(n0, n1), seed)
    kept = _small(_by_video(spark, ids, "_keep", keep), len(ids))
    out = frame.join(kept, schema.VIDEO_ID, "left")
    return (
        out.filter(F.col("_keep").isNull() | F.col("_keep"))
        .drop("_keep")
        .withColumn(WEIGHT, F.lit(1.0))
    )


def _parts(frame, seed: int, test_size: float):
    """`frame` with a boolean `_test` column: `partition.held_out`, run on Arrow batches of the
    video ids alone by Spark's Python workers (the local engine's function, not a copy of it;
    only the ids cross to Python and one boolean comes back)."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    def mark(ids: pa.Array) -> pa.Array:
        from tiktok_verified.modeling.partition import held_out

        return pa.array(held_out(ids.to_numpy(zero_copy_only=False), seed, test_size, 0))

    mark.__annotations__ = {"ids": pa.Array, "return": pa.Array}  # not strings: a scalar UDF
    return frame.withColumn("_test", F.arrow_udf(mark, "boolean")(F.col(schema.VIDEO_ID)))


def split(spark, features_path: Path, outs: dict[str, Path], params: Params) -> dict:
    """The hash split, caps fitted on train, resampling as weights; split.json. The features
    are read once (the split rule runs in Python workers) into a scratch copy with the part
    marked; the quartiles of every capped column come from one pass over it, and the three
    parts are written from it in its order (no sort: the order is the features file's)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    from tiktok_verified.data.features import QUARTILES
    from tiktok_verified.modeling.split import check_parts

    seed, test_size = params.base.seed, params.split.test_size
    is_test = F.col("_test")
    with tempfile.TemporaryDirectory() as tmp:
        seen = Observation("parts")
        _parts(spark.read.parquet(str(features_path)), seed, test_size).observe(
            seen,
            *[F.sum((F.col(Y) == k).cast("long")).alias(f"n{k}") for k in (0, 1)],
            *[F.sum(((F.col(Y) == k) & is_test).cast("long")).alias(f"t{k}") for k in (0, 1)],
        ).write.option("compression", "lz4").parquet(f"{tmp}/marked")
        got = seen.get
        totals = np.array([got[f"n{k}"] or 0 for k in (0, 1)])
        held = np.array([got[f"t{k}"] or 0 for k in (0, 1)])
        shares = check_parts(totals, held, str(features_path))
        marked = spark.read.parquet(f"{tmp}/marked")
        train, test = (marked.filter(is_test == t).drop("_test") for t in (False, True))
        capped = params.features.cap_iqr
        caps = {}
        if capped:
            # Exact quartiles, interpolated between order statistics as the local engine's
            # (`QUARTILES`: numpy's and polars' "linear", Spark's `percentile`).
            row = train.select(
                *[F.percentile(F.col(c), F.array(*map(F.lit, QUARTILES))) for c in capped]
            ).first()
            uppers = {}
            for c, (q1, q3) in zip(capped, row, strict=True):
                uppers[c] = q3 + params.features.iqr_factor * (q3 - q1)
                caps[c] = {"q1": q1, "q3": q3, "upper": uppers[c]}
            above = marked.select(
                *[
                    F.sum(((F.col(c) > uppers[c]) & (is_test == t)).cast("long")).alias(f"{c}{t}")
                    for c in capped
                    for t in (False, True)
                ]
            ).first()
            for c in capped:
                caps[c]["train_values_capped"] = above[f"{c}False"] or 0
                caps[c]["test_values_capped"] = above[f"{c}True"] or 0
                train = train.withColumn(c, F.least(F.col(c).cast("double"), F.lit(uppers[c])))
                test = test.withColumn(c, F.least(F.col(c).cast("double"), F.lit(uppers[c])))
        counts = {k: int(totals[k] - held[k]) for k in (0, 1)}
        weighted = _weights(spark, train, params.resample.strategy, seed, counts)
        for name, part in (("train_original", train), ("test", test), ("train", weighted)):
            write_parquet(part, outs[name])
    train, weighted, test = (
        spark.read.parquet(str(outs[n])) for n in ("train_original", "train", "test")
    )
    w = weighted.agg(F.count("*"), F.sum(WEIGHT), F.sum(F.col(WEIGHT) * F.col(Y))).first()
    n_test, n_test_positive = int(held.sum()), int(held[1])
    return {
        "resample": params.resample.strategy,
        "test_size": test_size,
        "test_share": shares,
        "rows": {
            "train_before_resample": train.count(),
            "train": round(w[1]),
            "train_distinct": w[0],
            "test": n_test,
        },
        "class_counts": {
            "train": {schema.NEGATIVE: round(w[1] - w[2]), schema.POSITIVE: round(w[2])},
            "test": {schema.NEGATIVE: n_test - n_test_positive, schema.POSITIVE: n_test_positive},
        },
        "test_rows_whose_video_is_in_train": test.join(train, schema.VIDEO_ID, "semi").count(),
        "caps": caps,
    }
