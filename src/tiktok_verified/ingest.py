"""Ingest: parse the raw CSV with an explicit schema, validate it, drop incomplete rows and
duplicates, and write the interim parquet plus `metrics/data.json`.

Every rejection is an `InputError` naming the file, the line (1 = header) and the column.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tiktok_verified import schema, synthetic
from tiktok_verified.config import ConfigError, load_params
from tiktok_verified.io import write_json, write_parquet

RAW_NAME = "tiktok_dataset.csv"
SAMPLE_VALUES = 3


class InputError(ValueError):
    """The input file cannot be used; the message names file, line and column."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: str | None = None
    ):
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Ingested:
    frame: pl.DataFrame
    report: dict


def _line(row_index: int) -> int:
    """File line of a 0-based data row (the header is line 1)."""
    return row_index + 2


def _normalise_header(source: str, header: list[str]) -> list[str]:
    """Accept the pandas index column and other column orders; reject missing/unknown names."""
    names = list(header)
    if names and names[0].startswith("\ufeff"):
        names[0] = names[0].removeprefix("\ufeff")
    expected = set(schema.COLUMNS)
    if names and names[0] in ("", "Unnamed: 0") and set(names[1:]) == expected:
        names[0] = "_pandas_index"
    missing = [c for c in schema.COLUMNS if c not in names]
    unknown = [c for c in names if c not in expected and c != "_pandas_index"]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unknown:
            parts.append(f"unexpected column(s) {unknown}")
        raise InputError(source, "; ".join(parts) + f"; expected {list(schema.COLUMNS)}", line=1)
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        raise InputError(source, f"duplicated column(s) {dupes}", line=1)
    return names


def read_raw(data: bytes, source: str) -> pl.DataFrame:
    """Parse CSV bytes into the course file's columns and dtypes, or raise InputError."""
    if not data.strip():
        raise InputError(source, "the file is empty; expected a CSV with a header row")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            source, f"not UTF-8 text (byte {exc.start}); is this a CSV?", line
        ) from None
    if "\x00" in text:
        raise InputError(source, "contains NUL bytes; this is not a CSV text file")
    try:
        raw = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            null_values=list(schema.NULL_VALUES),
            raise_if_empty=True,
            truncate_ragged_lines=False,
        )
    except pl.exceptions.NoDataError:
        raise InputError(source, "the file is empty; expected a CSV with a header row") from None
    except pl.exceptions.ComputeError as exc:
        raise InputError(source, _ragged_message(text) or f"malformed CSV: {exc}") from None
    raw.columns = _normalise_header(source, raw.columns)
    if raw.height == 0:
        raise InputError(source, "has a header but no data rows", line=2)
    raw = raw.select(list(schema.COLUMNS))
    # polars keeps literal empty strings for "" (quoted) cells; treat them as missing too.
    raw = raw.with_columns(pl.all().replace("", None))
    return _typed(raw, source)


def _ragged_message(text: str) -> str | None:
    """Find the first line whose field count differs from the header's (quote-aware)."""
    import csv

    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return None
    for row in reader:
        if row and len(row) != len(header):
            return f"line {reader.line_num}: has {len(row)} fields, the header has {len(header)}"
    return None


def _first_bad(raw: pl.DataFrame, bad: pl.Expr) -> int | None:
    idx = raw.select(pl.arg_where(bad).first()).item()
    return None if idx is None else int(idx)


def _typed(raw: pl.DataFrame, source: str) -> pl.DataFrame:
    """Cast text columns to their schema dtypes, naming the first offending cell on failure."""
    casts = []
    for name in schema.NUMERIC_COLUMNS:
        as_float = pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)
        bad = pl.col(name).is_not_null() & (
            as_float.is_null() | as_float.is_nan() | (as_float != as_float.round(0))
        )
        row = _first_bad(raw, bad)
        if row is not None:
            value = raw[name][row]
            raise InputError(
                source, f"value {value!r} is not a whole number", line=_line(row), column=name
            )
        if name in schema.NON_NEGATIVE:
            row = _first_bad(raw, as_float < 0)
            if row is not None:
                raise InputError(
                    source,
                    f"value {raw[name][row]!r} is negative; counts and durations must be >= 0",
                    line=_line(row),
                    column=name,
                )
        casts.append(as_float.cast(pl.Int64).alias(name))
    for name, allowed in schema.CATEGORIES.items():
        bad = pl.col(name).is_not_null() & ~pl.col(name).is_in(list(allowed))
        row = _first_bad(raw, bad)
        if row is not None:
            raise InputError(
                source,
                f"unknown value {raw[name][row]!r}; allowed: {list(allowed)}",
                line=_line(row),
                column=name,
            )
    return raw.with_columns(casts)


def clean(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, dict]:
    """Drop incomplete rows and duplicate videos; check what must hold for the model."""
    for name in schema.COLUMNS:
        if name in schema.NULLABLE:
            continue
        row = _first_bad(frame, pl.col(name).is_null())
        if row is not None:
            raise InputError(source, "missing value in a required column", _line(row), name)
    rows_in = frame.height
    complete = frame.drop_nulls()
    incomplete = rows_in - complete.height
    deduped = complete.unique(subset=[schema.VIDEO_ID], keep="first", maintain_order=True)
    duplicates = complete.height - deduped.height
    kept = deduped.cast(schema.interim_schema())
    counts = dict(kept[schema.OUTCOME].value_counts().iter_rows())
    class_counts = {label: int(counts.get(label, 0)) for label in schema.CATEGORIES[schema.OUTCOME]}
    present = [label for label, n in class_counts.items() if n > 0]
    if len(present) < 2:
        raise InputError(
            source,
            f"only one class left after cleaning ({present or 'none'}); "
            "a logistic regression needs both 'verified' and 'not verified'",
            column=schema.OUTCOME,
        )
    report = {
        "rows_in": rows_in,
        "rows_dropped": {"incomplete": incomplete, "duplicate_video_id": duplicates},
        "rows_kept": kept.height,
        "class_counts": class_counts,
        "verified_share": class_counts[schema.POSITIVE] / kept.height,
    }
    return kept, report


def ingest_bytes(data: bytes, source: str) -> Ingested:
    frame = read_raw(data, source)
    kept, report = clean(frame, source)
    return Ingested(kept, report)


def load_source(raw_dir: Path, source_mode: str, synthetic_rows: int, seed: int):
    """Return (bytes, label, path) of the course file, or of the stand-in where it is absent."""
    path = raw_dir / RAW_NAME
    if source_mode == "auto" and path.exists():
        return path.read_bytes(), "real", str(path)
    if source_mode == "auto":
        print(
            "\n" + "!" * 78 + f"\n!! WARNING: {path} is absent: running on the SYNTHETIC stand-in"
            f"\n!! ({synthetic_rows} seeded rows). Metrics are NOT the course file's."
            "\n!! Place the course file there for real results.\n" + "!" * 78,
            file=sys.stderr,
        )
    data = synthetic.csv_bytes(synthetic_rows, seed)
    return data, "synthetic", f"synthetic(rows={synthetic_rows}, seed={seed})"


def run(raw_dir: Path, out: Path, metrics: Path, source_mode: str, rows: int, seed: int) -> dict:
    data, label, where = load_source(raw_dir, source_mode, rows, seed)
    result = ingest_bytes(data, where)
    report = {
        "source": label,
        "path": where,
        "sha256": hashlib.sha256(data).hexdigest(),
        **result.report,
    }
    write_parquet(out, result.frame)
    write_json(metrics, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingest the raw CSV into validated parquet.")
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
        report = run(
            args.raw_dir,
            args.out,
            args.metrics,
            params.data.source,
            params.data.synthetic_rows,
            params.base.seed,
        )
    except (InputError, ConfigError) as exc:
        print(f"ingest: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"ingest: {report['source']} data, {report['rows_in']} rows in, "
        f"{report['rows_kept']} kept, classes {report['class_counts']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
