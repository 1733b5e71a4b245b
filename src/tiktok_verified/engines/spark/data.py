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

from tiktok_verified.data import reader, schema, standin
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.disclosure import counts_by_claim_status, disclosure
from tiktok_verified.data.reader import (
    INDEX_NAMES,
    WHOLE_NUMBER,
    synthetic_label,
    warn_synthetic,
)
from tiktok_verified.data.schema import Y
from tiktok_verified.data.source import check_readable, course_file, read_course_file
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


def rules(frame) -> tuple[dict, list]:
    """The typed columns (expressions on the text ones) and the rules a row can break:
    (column, bad-row condition, message), in the order that breaks a tie."""
    from pyspark.sql import functions as F

    typed = {
        # try_cast: under Spark's ANSI mode a plain cast raises on a bad value before the
        # rules below can name its row; a failed try_cast is null, and the rules name it.
        c: F.regexp_replace(F.trim(F.col(c)), r"\.0*$", "").try_cast("long")
        if c in schema.NUMERIC_COLUMNS
        else F.col(c)
        for c in schema.COLUMNS
    }
    found = [
        (c, F.col(c).isNotNull() & ~F.trim(F.col(c)).rlike(WHOLE_NUMBER), "is not a whole number")
        for c in schema.NUMERIC_COLUMNS
    ]
    found += [
        (
            c,
            F.col(c).isNotNull() & F.trim(F.col(c)).rlike(WHOLE_NUMBER) & typed[c].isNull(),
            "is too large for a 64-bit integer",
        )
        for c in schema.NUMERIC_COLUMNS
    ]
    found += [
        (c, typed[c] < 0, "is negative; counts and durations must be >= 0")
        for c in schema.NON_NEGATIVE
    ]
    found += [
        (c, F.col(c).isNotNull() & ~F.col(c).isin(*allowed), f"is not one of {list(allowed)}")
        for c, allowed in schema.CATEGORIES.items()
    ]
    found += [
        (c, F.col(c).isNull(), "is missing; it must be filled")
        for c in schema.COLUMNS
        if c not in schema.NULLABLE
    ]
    return typed, found


def validated(raw, source: str, scratch: Path):
    """The typed columns, written once to `scratch` (parquet) in the one pass over the text
    that also checks every rule (observed on that pass, not a second read); an InputError
    naming the first bad row (the smallest `#`; the rules' order breaks a tie) and its column.
    Returns (typed frame read back, the pass's counts)."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    typed, found = rules(raw)
    line = F.col(LINE).cast("long")
    incomplete = F.lit(False)
    for c in schema.NULLABLE:
        incomplete = incomplete | F.col(c).isNull()
    seen = Observation("checks")
    checked = raw.observe(
        seen,
        F.count(F.lit(1)).alias("rows_in"),
        F.sum(F.col(LINE).isNull().cast("long")).alias("unnumbered"),
        *[
            F.sum((incomplete & (F.col(schema.OUTCOME) == k)).cast("long")).alias(f"inc_{j}")
            for j, k in enumerate(schema.CATEGORIES[schema.OUTCOME])
        ],
        *[F.min(F.when(bad, line)).alias(f"r{i}") for i, (_, bad, _) in enumerate(found)],
    )
    # lz4: a scratch copy read once or twice, not kept.
    checked.select(*[typed[c].alias(c) for c in schema.COLUMNS]).write.option(
        "compression", "lz4"
    ).parquet(str(scratch))
    got = seen.get
    if got["unnumbered"]:  # the local reader refuses it too (a required column)
        first = raw.filter(F.col(LINE).isNull()).select(schema.VIDEO_ID).first()
        raise InputError(
            source,
            f"the row of video_id {first[0]!r} has no '#': missing value; this column "
            f"must be filled in every row (only {', '.join(schema.NULLABLE)} may be missing)",
            column=LINE,
        )
    hits = [(got[f"r{i}"], i) for i in range(len(found)) if got[f"r{i}"] is not None]
    if hits:
        row, i = min(hits)
        column, _, message = found[i]
        value = raw.filter(line == row).select(column).first()[column]
        raise InputError(source, f"row #{row}: {value!r} {message}", column=column)
    return raw.sparkSession.read.parquet(str(scratch)), got


#: Duplicated video ids up to this many are broadcast to drop the later rows without a shuffle
#: of the table (and in the file's order); more, and the table is joined and sorted by `#`.
BROADCAST_DUPLICATES = 1_000_000


def clean(typed, source: str, got: dict, out: Path) -> dict:
    """Drop the incomplete rows, then each duplicated video id's later rows (the smallest `#`
    kept: a grouped minimum over the complete rows' ids, no window), and write the rest to
    `out`; the figures of metrics/data.json, counted on that write."""
    from pyspark.sql import Observation
    from pyspark.sql import functions as F

    rows_in = got["rows_in"]
    complete = typed.dropna()
    firsts = (
        complete.groupBy(schema.VIDEO_ID)
        .agg(F.count(F.lit(1)).alias("_n"), F.min(LINE).alias("_first"))
        .filter("_n > 1")
        .select(schema.VIDEO_ID, "_first")
    )
    n_duplicated = firsts.count()
    if n_duplicated == 0:
        kept = complete
    else:
        small = n_duplicated <= BROADCAST_DUPLICATES
        joined = complete.join(F.broadcast(firsts) if small else firsts, schema.VIDEO_ID, "left")
        kept = joined.filter(F.col("_first").isNull() | (F.col(LINE) == F.col("_first")))
        kept = kept.drop("_first") if small else kept.drop("_first").orderBy(LINE)
    outcomes, claims = schema.CATEGORIES[schema.OUTCOME], schema.CATEGORIES["claim_status"]
    seen = Observation("kept")
    kept = kept.observe(
        seen,
        F.count(F.lit(1)).alias("n"),
        *[
            F.sum(((F.col("claim_status") == a) & (F.col(schema.OUTCOME) == b)).cast("long")).alias(
                f"c{i}_{j}"
            )
            for i, a in enumerate(claims)
            for j, b in enumerate(outcomes)
        ],
    )
    counts = {}

    def check(_) -> None:  # before the file moves into place: a refused file leaves the last one
        got_kept = seen.get
        by_claim = [
            (a, b, got_kept[f"c{i}_{j}"] or 0)
            for i, a in enumerate(claims)
            for j, b in enumerate(outcomes)
        ]
        counts.update({"n": got_kept["n"], "by_claim": by_claim})
        class_counts = {b: sum(n for _, o, n in by_claim if o == b) for b in outcomes}
        if sum(n > 0 for n in class_counts.values()) < 2:
            raise InputError(source, "only one class in the complete rows", column=schema.OUTCOME)

    write_parquet(kept, out, check)
    n_kept, by_claim = counts["n"], counts["by_claim"]
    class_counts = {b: sum(n for _, o, n in by_claim if o == b) for b in outcomes}
    incomplete = {k: got[f"inc_{j}"] or 0 for j, k in enumerate(outcomes)}
    n_incomplete = sum(incomplete.values())
    present = [r for r in by_claim if r[2]]  # as a groupBy lists them: no empty groups
    disclosed = disclosure(
        {k: n for k, n in incomplete.items() if n}, counts_by_claim_status(present)
    )
    return {
        "rows_in": rows_in,
        "rows_dropped": {
            "incomplete": n_incomplete,
            "duplicate_video_id": rows_in - n_incomplete - n_kept,
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
    path = course_file(raw_dir, source_mode)
    with tempfile.TemporaryDirectory() as tmp:
        if path is not None:
            check_readable(path)  # a folder or an unreadable file, whatever its size
            label, where = "real", str(path)
        else:
            if source_mode == "auto":
                warn_synthetic(raw_dir / schema.RAW_NAME, rows)
            path = Path(tmp) / schema.RAW_NAME
            standin.write_csv(path, rows, seed)
            label, where = "synthetic", synthetic_label(rows, seed)
        if path.stat().st_size <= LOCAL_CHECK_BYTES:
            data = read_course_file(path)
            digest = hashlib.sha256(data).hexdigest()
            # The reader of record checks the file first: every refusal (encoding, quoting,
            # field counts, header, values) is the local engine's, with its line and column.
            reader.ingest_bytes(data, where)
        else:  # not held in memory: hashed as it is read
            digest = sha256_file(path)
        with malformed_records_refused(where):
            typed, got = validated(read_raw(spark, path, where), where, Path(tmp) / "typed")
            report = clean(typed, where, got, out)
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
