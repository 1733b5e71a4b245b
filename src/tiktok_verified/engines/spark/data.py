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
import tempfile
from pathlib import Path

from tiktok_verified.config import Params
from tiktok_verified.data import schema, standin
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.disclosure import counts_by_claim_status, disclosure
from tiktok_verified.data.reader import INDEX_NAMES, WHOLE_NUMBER
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.engines.spark.files import write_parquet

LINE = "#"


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [n.strip() for n in next(csv.reader(fh), [])]


def read_raw(spark, path: Path, source: str):
    """The CSV as text columns named by the schema, missing values as nulls."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    names = _header(path)
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
            F.when(F.trim(F.col(f"`{c}`")).isin(*schema.NULL_VALUES), None)
            .otherwise(F.col(f"`{c}`"))
            .alias(c)
            for c in schema.COLUMNS
        ]
    )


def validate(frame, source: str):
    """Typed columns, or an InputError naming the first bad row (the smallest `#`; the rules'
    order breaks a tie) and its column. Every rule is checked in one pass over the file."""
    from pyspark.sql import functions as F

    typed = {
        c: F.regexp_replace(F.trim(F.col(c)), r"\.0*$", "").cast("long")
        if c in schema.NUMERIC_COLUMNS
        else F.col(c)
        for c in schema.COLUMNS
    }
    rules = [
        (c, F.col(c).isNotNull() & ~F.trim(F.col(c)).rlike(WHOLE_NUMBER), "is not a whole number")
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


def ingest(spark, raw_dir: Path, out: Path, source_mode: str, rows: int, seed: int) -> dict:
    """metrics/data.json's figures; the cleaned videos written to `out` (a parquet folder)."""
    path = raw_dir / schema.RAW_NAME
    with tempfile.TemporaryDirectory() as tmp:
        if source_mode == "auto" and path.is_file():
            label, where = "real", str(path)
        else:
            path = Path(tmp) / schema.RAW_NAME
            standin.write_csv(path, rows, seed)
            label, where = "synthetic", f"synthetic(rows={rows}, seed={seed})"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        typed = validate(read_raw(spark, path, where), where).persist()  # read the file once
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


def _weights(frame, strategy: str):
    """The resampled training part as a weight column: each row stands for the expected
    number of its copies (upsample: minority rows weigh majority/minority; downsample:
    majority rows minority/majority; class_weight: scikit-learn's "balanced" weights)."""
    from pyspark.sql import functions as F

    counts = dict(frame.groupBy(Y).count().collect())
    n0, n1 = counts.get(0, 0), counts.get(1, 0)
    minority = 1 if n1 <= n0 else 0
    small, large = min(n0, n1), max(n0, n1)
    if strategy == "upsample":
        w = {minority: large / small, 1 - minority: 1.0}
    elif strategy == "downsample":
        w = {minority: 1.0, 1 - minority: small / large}
    elif strategy == "class_weight":
        w = {0: (n0 + n1) / (2 * n0), 1: (n0 + n1) / (2 * n1)}
    elif strategy == "none":
        w = {0: 1.0, 1: 1.0}
    else:
        raise InputError("params", f"resample={strategy} is a local-engine comparison only")
    return frame.withColumn(WEIGHT, F.when(F.col(Y) == 1, w[1]).otherwise(w[0]))


def split(spark, features_path: Path, outs: dict[str, Path], params: Params) -> dict:
    """Seeded stratified split, caps fitted on train, resampling as weights; split.json."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(features_path))
    seed, test_size = params.base.seed, params.split.test_size
    parts = [
        frame.filter(F.col(Y) == c).randomSplit([1 - test_size, test_size], seed=seed + c)
        for c in (0, 1)
    ]
    train, test = parts[0][0].unionByName(parts[1][0]), parts[0][1].unionByName(parts[1][1])
    caps = {}
    for c in params.features.cap_iqr:
        q1, q3 = train.approxQuantile(c, [0.25, 0.75], 0.0)
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
    weighted = _weights(train, params.resample.strategy)
    for name, part in (("train", weighted), ("train_original", train), ("test", test)):
        write_parquet(part.orderBy(schema.VIDEO_ID), outs[name])
    train, weighted, test = (
        spark.read.parquet(str(outs[n])) for n in ("train_original", "train", "test")
    )
    w = weighted.agg(F.sum(WEIGHT), F.sum(F.col(WEIGHT) * F.col(Y))).first()
    t = test.agg(F.count("*"), F.sum(Y)).first()
    return {
        "resample": params.resample.strategy,
        "test_size": test_size,
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
        "engine": "spark",
    }
