"""The CSV reader of record: parse the raw CSV with an explicit schema, validate it, drop
incomplete rows and duplicates; the course file, or the seeded stand-in where it is absent.

Accepted as the same file (same interim parquet, byte for byte): LF, CRLF or CR line endings,
a UTF-8 byte-order mark, missing values written as empty cells, `#N/A`, `NA` or `N/A`, counts
written as floats (`343296.0`), a leading unnamed index column (pandas, R), columns in another
order, blank lines and lines of bare commas (Excel).

Everything else that cannot be read exactly is an `InputError` whose one-line message names the
file, the line (1 = the header) and the column where it can, says what is wrong and what is
allowed. No value is ever guessed, rounded or padded.

One reader for every file: a vectorised scan of the bytes finds the records (quote-aware)
and checks their structure, polars parses the values as text, and the casts to the schema's
types name the first bad cell. The file is held in memory; at the course file's size that is
3 MB, and 10M rows (1.1 GB) are left to the Spark engine.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tiktok_verified.data import schema, standin
from tiktok_verified.data.csv_structure import (
    InputError,
    Layout,
    check_field_counts,
    decoded,
    quoting_problem,
    record_text,
    scan,
    show,
    show_names,
)
from tiktok_verified.data.disclosure import counts_by_claim_status, disclosure
from tiktok_verified.data.schema import RAW_NAME
from tiktok_verified.data.source import course_file, read_course_file

#: Internal column carrying each row's line number in the file, for messages.
LINE = "_line"
#: A whole number, optionally written as a float with a zero fraction (pandas writes
#: `343296.0` for a count column that has missing values).
WHOLE_NUMBER = r"^[+-]?[0-9]+(\.0*)?$"
#: Names a leading index column may carry: pandas (`""`, `Unnamed: 0`) and R (`""`).
INDEX_NAMES = ("", "Unnamed: 0")


@dataclass(frozen=True)
class Ingested:
    frame: pl.DataFrame
    report: dict


# --- header -----------------------------------------------------------------------------------


def _header(data: bytes, layout: Layout, source: str) -> list[str]:
    """Map the header to the schema's names: accept a leading index column and any column
    order; reject missing, unknown or duplicated names."""
    text = record_text(data, layout, 0)
    names = [n.strip() for n in next(csv.reader([text]), [])]
    expected = list(schema.COLUMNS)
    if len(names) == 1:
        for sep, label in ((";", "semicolons"), ("\t", "tabs")):
            if sep in names[0]:
                raise InputError(
                    source,
                    f"the header is separated by {label}; expected commas (Excel: save as "
                    "'CSV UTF-8 (comma delimited)')",
                    line=1,
                )
    if names and names[0] in INDEX_NAMES and set(names[1:]) == set(expected):
        names[0] = LINE + "_index"  # a row index written by pandas or R: ignored
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(source, f"the header names column(s) {show_names(dupes)} twice", line=1)
    missing = [c for c in expected if c not in names]
    unknown = [n for n in names if n not in expected and n != LINE + "_index"]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {show_names(missing)}")
        if unknown:
            parts.append(f"unexpected column(s) {show_names(unknown)}")
        raise InputError(
            source, "; ".join(parts) + f"; expected the columns {', '.join(expected)}", line=1
        )
    return names


# --- values -----------------------------------------------------------------------------------


def read_raw(data: bytes, source: str) -> pl.DataFrame:
    """Parse CSV bytes into the course file's columns and dtypes, or raise InputError.

    The frame carries each row's file line in column `LINE` (dropped by `clean`)."""
    data = decoded(data, source)
    layout = scan(data, source)
    names = _header(data, layout, source)
    check_field_counts(data, layout, source)
    try:
        raw = pl.read_csv(
            data,
            has_header=True,
            new_columns=names,
            infer_schema=False,
            null_values=list(schema.NULL_VALUES),
            truncate_ragged_lines=False,
        )
    except pl.exceptions.PolarsError as exc:
        buf = np.frombuffer(data, np.uint8)
        quotes = np.flatnonzero(buf == ord('"'))
        if not len(quotes):
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(source, f"not a readable CSV ({first})") from None
        line, reason = quoting_problem(data, quotes, np.flatnonzero(buf == ord("\n")))
        raise InputError(source, reason, line=line) from None
    if raw.height != len(layout.starts) - 1:  # polars and the scan must agree on the records
        raise InputError(
            source,
            f"not a readable CSV: {raw.height} rows parsed but {len(layout.starts) - 1} "
            "records found; check the quoting",
        )
    raw = raw.select(list(schema.COLUMNS)).with_columns(
        pl.Series(LINE, layout.lines[1:], dtype=pl.Int64),
        # polars keeps quoted empty cells ("") as empty strings: missing too.
        pl.col(*schema.COLUMNS).replace("", None),
    )
    # Blank lines and lines of bare commas (Excel leaves them) carry no data.
    raw = raw.filter(~pl.all_horizontal(pl.col(*schema.COLUMNS).is_null()))
    if raw.height == 0:
        raise InputError(
            source,
            "the header is the only line with data; expected rows of videos after it",
            line=1,
        )
    return _typed(raw, source)


def _first_bad(raw: pl.DataFrame, bad: pl.Expr) -> int | None:
    idx = raw.select(pl.arg_where(bad).first()).item()
    return None if idx is None else int(idx)


def _fail_at(raw: pl.DataFrame, row: int, source: str, column: str, message: str):
    raise InputError(source, message, line=int(raw[LINE][row]), column=column)


def _typed(raw: pl.DataFrame, source: str) -> pl.DataFrame:
    """Cast text columns to their schema dtypes, naming the first offending cell on failure.

    Whole numbers are parsed exactly as integers (never through a float), so a 19-digit id
    keeps every digit."""
    parsed = raw.select(
        pl.col(LINE),
        *[
            expr
            for name in schema.NUMERIC_COLUMNS
            for expr in (
                pl.col(name)
                .str.strip_chars()
                .str.replace(r"\.0*$", "")
                .cast(pl.Int64, strict=False)
                .alias(name),
                pl.col(name).str.strip_chars().str.contains(WHOLE_NUMBER).alias(name + "\0ok"),
            )
        ],
    )
    for name in schema.NUMERIC_COLUMNS:
        given, value, ok = raw[name], parsed[name], parsed[name + "\0ok"]
        for bad, message in (
            (
                given.is_not_null() & ~ok,
                "is not a whole number; expected digits such as 343296 (343296.0 is accepted too)",
            ),
            (given.is_not_null() & value.is_null(), "is too large for a 64-bit integer"),
            (
                (value < 0) if name in schema.NON_NEGATIVE else None,
                "is negative; counts and durations must be >= 0",
            ),
        ):
            if bad is None or not bad.any():
                continue
            row = int(bad.arg_true()[0])
            _fail_at(raw, row, source, name, f"{show(given[row])} {message}")
    for name, allowed in schema.CATEGORIES.items():
        bad = pl.col(name).is_not_null() & ~pl.col(name).is_in(list(allowed))
        row = _first_bad(raw, bad)
        if row is not None:
            _fail_at(
                raw,
                row,
                source,
                name,
                f"unknown value {show(raw[name][row])}; allowed: {list(allowed)}",
            )
    return raw.with_columns(parsed.select(schema.NUMERIC_COLUMNS))


def clean(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, dict]:
    """Drop incomplete rows and duplicate videos; check what must hold for the model."""
    for name in schema.COLUMNS:
        if name in schema.NULLABLE:
            continue
        row = _first_bad(frame, pl.col(name).is_null())
        if row is not None:
            _fail_at(
                frame,
                row,
                source,
                name,
                "missing value; this column must be filled in every row (only "
                f"{', '.join(schema.NULLABLE)} may be missing)",
            )
    frame = frame.drop(LINE)
    rows_in = frame.height
    complete = frame.drop_nulls()
    incomplete = rows_in - complete.height
    deduped = complete.unique(subset=[schema.VIDEO_ID], keep="first", maintain_order=True)
    duplicates = complete.height - deduped.height
    kept = deduped.cast(schema.interim_schema())
    report = _report(kept, rows_in, incomplete, duplicates, source)
    dropped = frame.filter(pl.any_horizontal(pl.all().is_null()))[schema.OUTCOME]
    by_claim = kept.group_by("claim_status", schema.OUTCOME).len().iter_rows()
    report |= disclosure(
        dict(dropped.value_counts().iter_rows()),
        counts_by_claim_status([(str(c), str(o), n) for c, o, n in by_claim]),
    )
    return kept, report


def _report(kept: pl.DataFrame, rows_in: int, incomplete: int, duplicates: int, source: str):
    """The figures of metrics/data.json for the kept rows; InputError when the kept rows hold
    only one class."""
    counts = dict(kept[schema.OUTCOME].value_counts().iter_rows())
    class_counts = {label: int(counts.get(label, 0)) for label in schema.CATEGORIES[schema.OUTCOME]}
    present = [label for label, n in class_counts.items() if n > 0]
    if len(present) < 2:
        raise InputError(
            source,
            f"only one class in the {kept.height} complete rows ({present or 'none'}); "
            "a logistic regression needs both 'verified' and 'not verified'",
            column=schema.OUTCOME,
        )
    return {
        "rows_in": rows_in,
        "rows_dropped": {"incomplete": incomplete, "duplicate_video_id": duplicates},
        "rows_kept": kept.height,
        "class_counts": class_counts,
        "verified_share": class_counts[schema.POSITIVE] / kept.height,
    }


def ingest_bytes(data: bytes, source: str) -> Ingested:
    frame = read_raw(data, source)
    kept, report = clean(frame, source)
    return Ingested(kept, report)


def load_source(raw_dir: Path, source_mode: str, synthetic_rows: int, seed: int):
    """Return (bytes, label, path) of the course file, or of the stand-in where it is absent."""
    path = course_file(raw_dir, source_mode)
    if path is not None:
        return read_course_file(path), "real", str(path)
    if source_mode == "auto":
        warn_synthetic(raw_dir / RAW_NAME, synthetic_rows)
    data = standin.csv_bytes(synthetic_rows, seed)
    return data, "synthetic", synthetic_label(synthetic_rows, seed)


def synthetic_label(rows: int, seed: int) -> str:
    """metrics/data.json's `path` for the stand-in (both engines)."""
    return f"synthetic(rows={rows}, seed={seed})"


def warn_synthetic(path: Path, rows: int) -> None:
    """The loud warning of a run on the stand-in because the course file is absent (both
    engines print it)."""
    print(
        "\n" + "!" * 78 + f"\n!! WARNING: {path} is absent: running on the SYNTHETIC stand-in"
        f"\n!! ({rows} seeded rows). Metrics are NOT the course file's."
        "\n!! Place the course file there for real results.\n" + "!" * 78,
        file=sys.stderr,
    )


def read_videos(raw_dir: Path, source_mode: str, synthetic_rows: int, seed: int) -> Ingested:
    """The cleaned videos and the figures of metrics/data.json: where the data came from
    (course file or stand-in, path, sha256), rows in, dropped and kept, class counts."""
    data, label, where = load_source(raw_dir, source_mode, synthetic_rows, seed)
    result = ingest_bytes(data, where)
    digest = hashlib.sha256(data).hexdigest()
    report = {"source": label, "path": where, "sha256": digest, **result.report}
    return Ingested(result.frame, report)
