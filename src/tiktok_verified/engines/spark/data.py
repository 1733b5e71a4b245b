"""Ingest, features and split on Spark DataFrames, with the local engine's rules: an explicit
schema, the same spellings of a missing value, whole numbers only, known categories, the same
drops (incomplete rows, then duplicate video ids, the first kept) and the same figures in
metrics/data.json, metrics/features.json and metrics/split.json.

A bad value is an `InputError` naming the file, the row (by the file's `#` column: Spark reads
rows in parallel and knows no line numbers) and the column. The split is stratified and seeded
(each class split on its own); resampling is a weight column, as the local engine's training
part has one; outlier caps are fitted on the training part."""

from __future__ import annotations

import csv
import hashlib
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tiktok_verified.config import Params
from tiktok_verified.data import reader, schema, standin
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.disclosure import counts_by_claim_status, disclosure
from tiktok_verified.data.reader import (
    INDEX_NAMES,
    WHOLE_NUMBER,
    synthetic_label,
    warn_synthetic,
)
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.engines.spark.files import write_parquet
from tiktok_verified.files import sha256_file

LINE = "#"
#: Files up to this size are checked by the local reader of record before Spark reads them, so
#: both engines accept and refuse the same files with the same one-line messages (the course
#: file is 3 MB and is checked in ~0.3 s). Larger files are checked by `validate` alone, on
#: Spark, which names a bad row by its `#`, not by its line.
LOCAL_CHECK_BYTES = 256 * 1024 * 1024


def _header(path: Path, source: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            return [n.strip() for n in next(csv.reader(fh), [])]
    except UnicodeDecodeError as exc:
        raise InputError(
            source, f"not UTF-8 text ({exc.reason}); expected a CSV saved as UTF-8", line=1
        ) from None


def read_raw(spark, path: Path, source: str):
    """The CSV as text columns named by the schema, missing values as nulls."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    names = _header(path, source)
    index = bool(names) and names[0] in INDEX_NAMES
    wanted = names[1:] if index else names
    missing = [c for c in schema.COLUMNS if c not in wanted]
    unknown = [c for c in wanted if c not in schema.COLUMNS]
    if missing or unknown:
        raise InputError(
            source, f"missing column(s) {missing}, unexpected column(s) {unknown}", line=1
        )
    fields = [StructField(n or "_index", StringType()) for n in names]
    # RFC 4180 quoting, as the local reader: a quote inside a quoted field is doubled (Spark's
    # default escape is a backslash, which would keep both quotes of `""` and the outer ones).
    raw = spark.read.csv(
        str(path), header=True, schema=StructType(fields), mode="FAILFAST", quote='"', escape='"'
    )
    return raw.select(
        *[
            # A missing value is one of the spellings exactly, as the local reader reads it
            # (polars' `null_values`): " NA " is a value, and an invalid one in a count.
            F.when(F.col(f"`{c}`").isin(*schema.NULL_VALUES), None)
            .otherwise(F.col(f"`{c}`"))
            .alias(c)
            for c in schema.COLUMNS
        ]
    ).filter(  # blank lines and lines of bare commas (Excel) carry no data, as locally
        " OR ".join(f"`{c}` IS NOT NULL" for c in schema.COLUMNS)
    )


def validate(frame, source: str):
    """Typed columns, or an InputError naming the first bad row (the smallest `#`; the rules'
    order breaks a tie) and its column. Every rule is checked in one pass over the file."""
    from pyspark.sql import functions as F

    typed = {
        # try_cast: under Spark's ANSI mode a plain cast raises on a bad value before the
        # rules below can name its row; a failed try_cast is null, and the rules name it.
        c: F.regexp_replace(F.trim(F.col(c)), r"\.0*$", "").try_cast("long")
        if c in schema.NUMERIC_COLUMNS
        else F.col(c)
        for c in schema.COLUMNS
    }
    rules = [
        (c, F.col(c).isNotNull() & ~F.trim(F.col(c)).rlike(WHOLE_NUMBER), "is not a whole number")
        for c in schema.NUMERIC_COLUMNS
    ]
    rules += [
        (
            c,
            F.col(c).isNotNull() & F.trim(F.col(c)).rlike(WHOLE_NUMBER) & typed[c].isNull(),
            "is too large for a 64-bit integer",
        )
        for c in schema.NUMERIC_COLUMNS
    ]
    rules += [
        (c, typed[c] < 0, "is negative; counts and durations must be >= 0")
        for c in schema.NON_NEGATIVE
    ]
    rules += [
        (c, F.col(c).isNotNull() & ~F.col(c).isin(*allowed), f"is not one of {list(allowed)}")
        for c, allowed in schema.CATEGORIES.items()
    ]
    rules += [
        (c, F.col(c).isNull(), "is missing; it must be filled")
        for c in schema.COLUMNS
        if c not in schema.NULLABLE
    ]
    line = F.col(LINE).cast("long")
    unnumbered = frame.filter(F.col(LINE).isNull()).select(schema.VIDEO_ID).first()
    if unnumbered is not None:  # the local reader refuses it too (a required column)
        raise InputError(
            source,
            f"the row of video_id {unnumbered[0]!r} has no '#': missing value; this column "
            f"must be filled in every row (only {', '.join(schema.NULLABLE)} may be missing)",
            column=LINE,
        )
    first = frame.select(
        *[F.min(F.when(bad, line)).alias(f"r{i}") for i, (_, bad, _) in enumerate(rules)]
    ).first()
    hits = [(first[f"r{i}"], i) for i in range(len(rules)) if first[f"r{i}"] is not None]
    if hits:
        row, i = min(hits)
        column, _, message = rules[i]
        value = frame.filter(line == row).select(column).first()[column]
        raise InputError(source, f"row #{row}: {value!r} {message}", column=column)
    return frame.select(*[typed[c].alias(c) for c in schema.COLUMNS])


def clean(typed, source: str) -> tuple[object, dict]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows_in = typed.count()
    complete = typed.dropna()
    first = Window.partitionBy(schema.VIDEO_ID).orderBy(LINE)
    kept = complete.withColumn("_k", F.row_number().over(first)).filter("_k = 1").drop("_k")
    n_complete, counts = complete.count(), dict(kept.groupBy(schema.OUTCOME).count().collect())
    n_kept = sum(counts.values())
    class_counts = {c: int(counts.get(c, 0)) for c in schema.CATEGORIES[schema.OUTCOME]}
    if sum(n > 0 for n in class_counts.values()) < 2:
        raise InputError(source, "only one class in the complete rows", column=schema.OUTCOME)
    incomplete = typed.filter(" OR ".join(f"`{c}` IS NULL" for c in schema.NULLABLE))
    by_claim = kept.groupBy("claim_status", schema.OUTCOME).count().collect()
    disclosed = disclosure(
        dict(incomplete.groupBy(schema.OUTCOME).count().collect()),
        counts_by_claim_status([tuple(r) for r in by_claim]),
    )
    return kept.orderBy(LINE), {
        "rows_in": rows_in,
        "rows_dropped": {
            "incomplete": rows_in - n_complete,
            "duplicate_video_id": n_complete - n_kept,
        },
        "rows_kept": n_kept,
        "class_counts": class_counts,
        "verified_share": class_counts[schema.POSITIVE] / n_kept,
    } | disclosed


#: Spark's CSV reader (FAILFAST) reports a record it cannot parse this way.
MALFORMED = re.compile(r"Malformed records are detected in record parsing: \[(.*?)\]\.")


@contextmanager
def malformed_records_refused(source: str):
    """A record Spark's CSV reader cannot parse (fields in excess, broken quoting) becomes one
    InputError quoting the record, instead of a Java stack trace."""
    try:
        yield
    except Exception as exc:
        found = MALFORMED.search(str(exc))
        if found is None:
            raise
        raise InputError(
            source,
            f"a record that cannot be parsed ({found.group(1)[:80]!r}): a comma is missing or "
            "extra, or a text value holding a comma is not quoted (`engine=local` names its line)",
        ) from None


def ingest(spark, raw_dir: Path, out: Path, source_mode: str, rows: int, seed: int) -> dict:
    """metrics/data.json's figures; the cleaned videos written to `out` (a parquet folder)."""
    path = raw_dir / schema.RAW_NAME
    with tempfile.TemporaryDirectory() as tmp:
        if source_mode == "auto" and path.is_file():
            label, where = "real", str(path)
        else:
            if source_mode == "auto":
                warn_synthetic(path, rows)
            path = Path(tmp) / schema.RAW_NAME
            standin.write_csv(path, rows, seed)
            label, where = "synthetic", synthetic_label(rows, seed)
        if path.stat().st_size <= LOCAL_CHECK_BYTES:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            # The reader of record checks the file first: every refusal (encoding, quoting,
            # field counts, header, values) is the local engine's, with its line and column.
            reader.ingest_bytes(data, where)
        else:  # not held in memory: hashed as it is read
            digest = sha256_file(path)
        with malformed_records_refused(where):
            typed = validate(read_raw(spark, path, where), where).persist()  # read it once
            kept, report = clean(typed, where)
            write_parquet(kept, out)
            typed.unpersist()
    return {"source": label, "path": where, "sha256": digest, **report}


TEXT_EXPRESSIONS = {
    "text_length": lambda F: F.length(schema.TEXT),
    "word_count": lambda F: F.size(F.split(F.trim(F.col(schema.TEXT)), r"\s+")),
}


def features(spark, videos: Path, out: Path, cfg) -> int:
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(videos)).select(
        F.col(schema.VIDEO_ID),
        (F.col(schema.OUTCOME) == schema.POSITIVE).cast("int").alias(Y),
        *[F.col(c) for c in cfg.numeric],
        *[TEXT_EXPRESSIONS[t](F).alias(t) for t in cfg.text],
        *[F.col(c) for c in cfg.categorical],
    )
    write_parquet(frame, out)
    return spark.read.parquet(str(out)).count()


def _by_video(spark, ids, column: str, values):
    """A two-column frame (video_id, column) from driver-side arrays, for a join."""
    import pyarrow as pa

    table = pa.table({schema.VIDEO_ID: pa.array(ids, pa.int64()), column: pa.array(values)})
    return spark.createDataFrame(table)


def _weights(spark, frame, strategy: str, seed: int):
    """The resampled training part as a weight column, with the local engine's draws
    (`partition.upsample_draws` / `downsample_keep`: a class's video ids are collected, drawn
    by id order on the driver, and joined back): the same rows and the same weights."""
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.partition import downsample_keep, upsample_draws
    from tiktok_verified.modeling.resampling import minority_class

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
        extra = _by_video(spark, ids, WEIGHT, copies)
        return frame.join(extra, schema.VIDEO_ID, "left").fillna(1.0, subset=[WEIGHT])
    keep = downsample_keep(ids, min(n0, n1), seed)
    kept = _by_video(spark, ids, "_keep", keep)
    out = frame.join(kept, schema.VIDEO_ID, "left")
    return (
        out.filter(F.col("_keep").isNull() | F.col("_keep"))
        .drop("_keep")
        .withColumn(WEIGHT, F.lit(1.0))
    )


def _parts(frame, seed: int, test_size: float):
    """`frame` with a boolean `_test` column: `partition.held_out`, run on Arrow batches by
    Spark's Python workers (the local engine's function, not a copy of it)."""
    from pyspark.sql.types import BooleanType, StructField, StructType

    def mark(batches):
        import pyarrow as pa

        from tiktok_verified.modeling.partition import held_out

        for batch in batches:
            ids = batch.column(schema.VIDEO_ID).to_numpy(zero_copy_only=False)
            yield batch.append_column("_test", pa.array(held_out(ids, seed, test_size, 0)))

    out = StructType([*frame.schema.fields, StructField("_test", BooleanType(), False)])
    return frame.mapInArrow(mark, out)


def split(spark, features_path: Path, outs: dict[str, Path], params: Params) -> dict:
    """The hash split, caps fitted on train, resampling as weights; split.json."""
    from pyspark.sql import functions as F

    from tiktok_verified.data.features import QUARTILES
    from tiktok_verified.modeling.split import check_parts

    frame = spark.read.parquet(str(features_path))
    seed, test_size = params.base.seed, params.split.test_size
    marked = _parts(frame, seed, test_size).persist()
    by_class = {
        r[0]: (r[1], r[2])
        for r in marked.groupBy(Y).agg(F.count("*"), F.sum(F.col("_test").cast("long"))).collect()
    }
    totals, held = (np.array([by_class.get(k, (0, 0))[j] for k in (0, 1)]) for j in (0, 1))
    shares = check_parts(totals, held, str(features_path))
    train, test = (marked.filter(F.col("_test") == t).drop("_test") for t in (False, True))
    caps = {}
    for c in params.features.cap_iqr:
        # Exact quartiles, interpolated between order statistics as the local engine's
        # (`QUARTILES`: numpy's and polars' "linear", Spark's `percentile`).
        q1, q3 = train.select(F.percentile(F.col(c), F.array(*map(F.lit, QUARTILES)))).first()[0]
        upper = q3 + params.features.iqr_factor * (q3 - q1)
        caps[c] = {
            "q1": q1,
            "q3": q3,
            "upper": upper,
            "train_values_capped": train.filter(F.col(c) > upper).count(),
            "test_values_capped": test.filter(F.col(c) > upper).count(),
        }
        train = train.withColumn(c, F.least(F.col(c).cast("double"), F.lit(upper)))
        test = test.withColumn(c, F.least(F.col(c).cast("double"), F.lit(upper)))
    weighted = _weights(spark, train, params.resample.strategy, seed)
    for name, part in (("train", weighted), ("train_original", train), ("test", test)):
        write_parquet(part.orderBy(schema.VIDEO_ID), outs[name])
    marked.unpersist()
    train, weighted, test = (
        spark.read.parquet(str(outs[n])) for n in ("train_original", "train", "test")
    )
    w = weighted.agg(F.sum(WEIGHT), F.sum(F.col(WEIGHT) * F.col(Y))).first()
    t = test.agg(F.count("*"), F.sum(Y)).first()
    return {
        "resample": params.resample.strategy,
        "test_size": test_size,
        "test_share": shares,
        "rows": {
            "train_before_resample": train.count(),
            "train": round(w[0]),
            "train_distinct": weighted.count(),
            "test": t[0],
        },
        "class_counts": {
            "train": {schema.NEGATIVE: round(w[0] - w[1]), schema.POSITIVE: round(w[1])},
            "test": {schema.NEGATIVE: t[0] - t[1], schema.POSITIVE: t[1]},
        },
        "test_rows_whose_video_is_in_train": test.join(train, schema.VIDEO_ID, "semi").count(),
        "caps": caps,
    }
