"""Ingest: parse the raw CSV with an explicit schema, validate it, drop incomplete rows and
duplicates, and write the interim parquet plus `metrics/data.json`.

Accepted as the same file (same interim parquet, byte for byte): LF, CRLF or CR line endings,
a UTF-8 byte-order mark, missing values written as empty cells, `#N/A`, `NA` or `N/A`, counts
written as floats (`343296.0`), a leading unnamed index column (pandas, R), columns in another
order, blank lines and lines of bare commas (Excel).

Everything else that cannot be read exactly is an `InputError` whose one-line message names the
file, the line (1 = the header) and the column where it can, says what is wrong and what is
allowed. No value is ever guessed, rounded or padded.

A file on disk in the course file's exact layout is read by a streaming fast path
(`ingest_fast`: 10M rows in seconds, the file never held in memory); any other file, and any
file the fast path has the least doubt about, goes through the byte-level reader (the slow
path, `ingest_bytes`), which gives the same frame and report, or the error.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tiktok_verified import schema, synthetic
from tiktok_verified.config import ConfigError, load_params
from tiktok_verified.io import write_json, write_parquet

RAW_NAME = "tiktok_dataset.csv"

#: Internal column carrying each row's line number in the file, for messages.
LINE = "_line"
#: A whole number, optionally written as a float with a zero fraction (pandas writes
#: `343296.0` for a count column that has missing values).
WHOLE_NUMBER = r"^[+-]?[0-9]+(\.0*)?$"
#: Names a leading index column may carry: pandas (`""`, `Unnamed: 0`) and R (`""`).
INDEX_NAMES = ("", "Unnamed: 0")
#: File signatures worth naming when a file is not UTF-8 text.
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or other zip archive, not a CSV; export it as CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls), not a CSV; export it as CSV UTF-8"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\xff\xfe", "UTF-16 text (Excel 'Unicode Text'); save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text; save it as CSV UTF-8"),
)
MAX_SHOWN = 40


class InputError(ValueError):
    """The input file cannot be used; the message names file, line and column."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: str | None = None
    ):
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {_show(column)}"
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.column = source, line, column


@dataclass(frozen=True)
class Ingested:
    frame: pl.DataFrame
    report: dict


def _show(value: object) -> str:
    """A value as it appears in a message: quoted, escaped, and cut to a readable length."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 4] + "...'"


def _names(values: list[str]) -> str:
    shown = ", ".join(_show(v) for v in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


# --- bytes to text ----------------------------------------------------------------------------


def _decoded(data: bytes, source: str) -> bytes:
    """Check the bytes are UTF-8 text; return them without a BOM and with LF or CRLF endings."""
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        what = "0 bytes" if not data else "only blank space"
        raise InputError(
            source, f"the file is empty ({what}); expected a CSV with a header line and data rows"
        )
    for magic, what in SIGNATURES:
        if data.startswith(magic):
            raise InputError(source, f"this looks like {what}", line=1)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            source,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "expected a CSV saved as UTF-8 (Excel: 'CSV UTF-8')",
            line=line,
        ) from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            source,
            "contains a NUL byte; this is not a CSV text file",
            data.count(b"\n", 0, nul) + 1,
        )
    if b"\r" in data and b"\n" not in data:  # classic Mac line endings
        data = data.replace(b"\r", b"\n")
    return data


# --- structure: records, lines and field counts -----------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where each CSV record starts and ends, and how many fields it has (quote-aware)."""

    starts: np.ndarray  # byte offset of each record (0 = the header)
    ends: np.ndarray  # byte offset just past each record's content (before its newline)
    lines: np.ndarray  # file line on which each record starts
    fields: np.ndarray  # number of fields of each record
    blank: np.ndarray  # record is an empty line


def scan(data: bytes, source: str) -> Layout:
    """Split CSV bytes into records the way an RFC 4180 reader does, without parsing values:
    a newline or comma inside double quotes does not count. Vectorised, so it costs little
    even on millions of rows."""
    buf = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    newlines = np.flatnonzero(buf == ord("\n"))
    if len(quotes) % 2:
        line, reason = _quoting_problem(data, quotes, newlines)
        raise InputError(source, reason, line=line)
    # A newline or comma is structural where an even number of quotes precedes it.
    record_breaks = newlines
    commas = np.flatnonzero(buf == ord(","))
    if len(quotes):
        record_breaks = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
        commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    carriage = np.flatnonzero(buf == ord("\r"))
    carriage = carriage[carriage + 1 < len(buf)]  # a CR at the very end ends the last line
    lone = carriage[buf[carriage + 1] != ord("\n")]
    if len(quotes):
        lone = lone[np.searchsorted(quotes, lone) % 2 == 0]
    if len(lone):
        raise InputError(
            source,
            "a carriage return (\\r) inside a line, not as part of a line ending; the file "
            "mixes line-ending styles",
            line=int(np.searchsorted(newlines, lone[0])) + 1,
        )
    starts = np.concatenate(([0], record_breaks + 1))
    ends = np.concatenate((record_breaks, [len(buf)]))
    if starts[-1] == len(buf):  # the file ends with a newline: no record after it
        starts, ends = starts[:-1], ends[:-1]
    # Content ends before a CR of a CRLF ending.
    content_ends = ends - ((ends > starts) & (buf[np.maximum(ends - 1, 0)] == ord("\r")))
    fields = np.searchsorted(commas, content_ends) - np.searchsorted(commas, starts) + 1
    return Layout(
        starts=starts,
        ends=content_ends,
        lines=np.searchsorted(newlines, starts) + 1,
        fields=fields,
        blank=content_ends == starts,
    )


def _record_text(data: bytes, layout: Layout, index: int) -> str:
    return data[layout.starts[index] : layout.ends[index]].decode("utf-8")


def _check_field_counts(data: bytes, layout: Layout, source: str) -> None:
    expected = int(layout.fields[0])
    bad = np.flatnonzero((layout.fields != expected) & ~layout.blank)
    if not len(bad):
        return
    i = int(bad[0])
    n = int(layout.fields[i])
    spans = data.count(b"\n", int(layout.starts[i]), int(layout.ends[i]))
    hint = (
        f"; this record runs over {spans + 1} lines, so a quote is probably unbalanced"
        if spans
        else "; a comma is missing or extra, or a text value holding a comma is not quoted"
    )
    raise InputError(
        source,
        f"{n} field{'s' if n != 1 else ''} where the header has {expected}{hint} "
        "(the column cannot be told from the line)",
        line=int(layout.lines[i]),
    )


# --- header -----------------------------------------------------------------------------------


def _header(data: bytes, layout: Layout, source: str) -> list[str]:
    """Map the header to the schema's names: accept a leading index column and any column
    order; reject missing, unknown or duplicated names."""
    text = _record_text(data, layout, 0)
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
        raise InputError(source, f"the header names column(s) {_names(dupes)} twice", line=1)
    missing = [c for c in expected if c not in names]
    unknown = [n for n in names if n not in expected and n != LINE + "_index"]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {_names(missing)}")
        if unknown:
            parts.append(f"unexpected column(s) {_names(unknown)}")
        raise InputError(
            source, "; ".join(parts) + f"; expected the columns {', '.join(expected)}", line=1
        )
    return names


# --- values -----------------------------------------------------------------------------------


def _quoting_problem(data: bytes, quotes: np.ndarray, newlines: np.ndarray) -> tuple[int, str]:
    """Line and reason of the first quoting error, for files whose quotes do not pair up."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
    start = 1
    try:
        for _ in reader:
            start = reader.line_num + 1
    except csv.Error as exc:
        if "end of data" in str(exc):
            return start, 'a quoted value is never closed (no matching ")'
        return start, (
            "the quoting of this record is broken: a quoted value is not closed, or a "
            'double quote inside a quoted value is not doubled ("")'
        )
    # A quote in the middle of an unquoted value: neither opening, closing nor doubled.
    before = np.concatenate(([ord(",")], np.frombuffer(data, np.uint8)))[quotes]
    after = np.concatenate((np.frombuffer(data, np.uint8), [ord(",")]))[quotes + 1]
    bare = quotes[~np.isin(before, list(b',\n"')) & ~np.isin(after, list(b',\r\n"'))]
    at = int(bare[0]) if len(bare) else int(quotes[-1])
    return int(np.searchsorted(newlines, at)) + 1, (
        'a double quote (") inside a value that is not itself quoted; quote the whole value '
        'and double the quote ("ab""c")'
    )


def read_raw(data: bytes, source: str) -> pl.DataFrame:
    """Parse CSV bytes into the course file's columns and dtypes, or raise InputError.

    The frame carries each row's file line in column `LINE` (dropped by `clean`)."""
    data = _decoded(data, source)
    layout = scan(data, source)
    names = _header(data, layout, source)
    _check_field_counts(data, layout, source)
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
        line, reason = _quoting_problem(data, quotes, np.flatnonzero(buf == ord("\n")))
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
            _fail_at(raw, row, source, name, f"{_show(given[row])} {message}")
    for name, allowed in schema.CATEGORIES.items():
        bad = pl.col(name).is_not_null() & ~pl.col(name).is_in(list(allowed))
        row = _first_bad(raw, bad)
        if row is not None:
            _fail_at(
                raw,
                row,
                source,
                name,
                f"unknown value {_show(raw[name][row])}; allowed: {list(allowed)}",
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
    return kept, _report(kept, rows_in, incomplete, duplicates, source)


def _report(kept: pl.DataFrame, rows_in: int, incomplete: int, duplicates: int, source: str):
    """The figures of metrics/data.json for the kept rows (both paths); InputError when the
    kept rows hold only one class."""
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


# --- the fast path for good files -------------------------------------------------------------
#
# A good file (the course file, or millions of rows in its exact layout) is read by one
# streaming polars query over the path, never held in memory as bytes or text. The fast path
# only ever *accepts*: a file it is not sure of, for any reason, goes to the code above (the
# slow path), which gives the same result or names file, line and column of what is wrong.
# Every check below is there so that the fast path never accepts a file the slow path would
# refuse, and never keeps a different set of rows.

#: The course file's header line, byte for byte: the only header the fast path takes (a BOM, an
#: index column, another order or spaces around names go to the slow path).
CANONICAL_HEADER = ",".join(schema.COLUMNS).encode()
#: Text columns, and the count columns read as text too: polars reads a blank-only cell of an
#: integer column as missing, where the slow path refuses it, so these are cast here and any
#: cell that is present but not a plain integer sends the file to the slow path.
TEXT_COLUMNS = tuple(c for c, d in schema.COLUMNS.items() if d == pl.String())
READ_AS_TEXT = (*TEXT_COLUMNS, *schema.COUNT_COLUMNS)
BLOCK = 16 << 20
NOT_INTEGER, COMMAS = "_not_integer", "_commas"


@dataclass(frozen=True)
class FileIngest:
    result: Ingested
    sha256: str


@dataclass(frozen=True)
class ByteStats:
    """Whole-file counts taken block by block (nothing holds the file)."""

    sha256: str
    size: int
    quotes: int
    newlines: int
    carriage_returns: int
    crlf: int
    commas: int
    nul: bool
    last: bytes  # the file's last byte


def byte_stats(path: Path, block: int = BLOCK) -> ByteStats:
    digest = hashlib.sha256()
    size = quotes = newlines = crs = crlf = commas = 0
    nul = False
    last = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            digest.update(chunk)
            size += len(chunk)
            quotes += chunk.count(b'"')
            newlines += chunk.count(b"\n")
            cr = chunk.count(b"\r")
            if cr:
                crs += cr
                crlf += chunk.count(b"\r\n")
            if last == b"\r" and chunk[:1] == b"\n":  # a CRLF split across two blocks
                crlf += 1
            commas += chunk.count(b",")
            nul = nul or b"\0" in chunk
            last = chunk[-1:]
    return ByteStats(digest.hexdigest(), size, quotes, newlines, crs, crlf, commas, nul, last)


def _fast_plan(path: Path) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(aggregates over every row, the kept rows) of one streaming scan of the file."""
    raw = pl.scan_csv(
        path,
        has_header=True,
        schema={c: pl.String if c in READ_AS_TEXT else pl.Int64 for c in schema.COLUMNS},
        null_values=list(schema.NULL_VALUES),
        truncate_ragged_lines=False,
        encoding="utf8",
    )
    given = [pl.col(c).is_not_null() & (pl.col(c) != "") for c in schema.COUNT_COLUMNS]
    typed = raw.with_columns(
        # As the slow path's replace("", None), but element-wise, so it streams.
        *[pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in TEXT_COLUMNS],
        *[pl.col(c).cast(pl.Int64, strict=False) for c in schema.COUNT_COLUMNS],
        # A count cell that is there but is not a plain integer (the slow path decides).
        pl.any_horizontal(
            g & pl.col(c).cast(pl.Int64, strict=False).is_null()
            for g, c in zip(given, schema.COUNT_COLUMNS, strict=True)
        ).alias(NOT_INTEGER),
        # Commas inside quoted texts (the other text columns refuse a comma anyway).
        pl.col(schema.TEXT).str.count_matches(",", literal=True).alias(COMMAS),
    )
    required = [c for c in schema.COLUMNS if c not in schema.NULLABLE]
    checks = typed.select(
        rows=pl.len(),
        commas_in_values=pl.col(COMMAS).cast(pl.Int64).sum(),
        not_integer=pl.col(NOT_INTEGER).sum(),
        empty_rows=pl.all_horizontal(pl.col(*schema.COLUMNS).is_null()).sum(),
        complete=pl.all_horizontal(pl.col(*schema.COLUMNS).is_not_null()).sum(),
        # Distinct ids among complete rows: fewer than `complete` means duplicates to drop.
        distinct_ids=pl.col(schema.VIDEO_ID)
        .filter(pl.all_horizontal(pl.col(*schema.COLUMNS).is_not_null()))
        .n_unique(),
        missing_required=pl.sum_horizontal(pl.col(c).is_null().sum() for c in required),
        negative=pl.sum_horizontal((pl.col(c) < 0).sum() for c in schema.NON_NEGATIVE),
        unknown_category=pl.sum_horizontal(
            (pl.col(c).is_not_null() & ~pl.col(c).is_in(list(allowed))).sum()
            for c, allowed in schema.CATEGORIES.items()
        ),
    )
    interim = schema.interim_schema()
    kept = typed.select(
        pl.col(c).cast(interim[c], strict=True) if c in schema.CATEGORIES else pl.col(c)
        for c in schema.COLUMNS
    ).drop_nulls()
    return checks, kept


def _header_is_canonical(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(len(CANONICAL_HEADER) + 2)
    return head.startswith((CANONICAL_HEADER + b"\n", CANONICAL_HEADER + b"\r\n"))


def ingest_fast(path: Path, source: str, scratch_dir: Path | None = None) -> FileIngest | None:
    """The file's result by the fast path, or None where the slow path must decide.

    None for a file that is not in the course file's exact layout (header, commas, LF or CRLF
    line endings, one record per line, plain integers), and for any file the slow path would
    refuse; the result is always the slow path's, frame and report."""
    try:
        if not _header_is_canonical(path):
            return None
        checks, kept = _fast_plan(path)
        with (
            ThreadPoolExecutor(max_workers=1) as pool,
            tempfile.TemporaryDirectory(dir=scratch_dir, prefix=".ingest-") as scratch,
        ):
            stats_job = pool.submit(byte_stats, path)
            try:
                # The kept rows go through a scratch parquet file: collected straight from the
                # scan they would take twice the memory (the reader's buffers), read back from
                # parquet they are compact.
                staged = Path(scratch) / "kept.parquet"
                checks, _ = pl.collect_all(
                    [checks, kept.sink_parquet(staged, compression="lz4", lazy=True)],
                    engine="streaming",
                )
                kept = _read_in_one_chunk(staged)
            finally:
                stats = stats_job.result()
    except Exception:  # noqa: BLE001 - any doubt at all: the slow path decides
        return None
    c = checks.row(0, named=True)
    records = stats.newlines + (stats.last != b"\n") - 1  # lines after the header
    ok = (
        not stats.nul
        and stats.quotes % 2 == 0
        and stats.carriage_returns == stats.crlf  # LF or CRLF endings, no other CR
        and c["rows"] == records > 0  # one record per line: no blank line, no quoted newline
        # 12 fields on every line (polars fills a short line with nulls; a long one is an error)
        and stats.commas - c["commas_in_values"] == (len(schema.COLUMNS) - 1) * (records + 1)
        and c["empty_rows"] == 0
        and c["not_integer"] == 0
        and c["missing_required"] == 0
        and c["negative"] == 0
        and c["unknown_category"] == 0
    )
    if not ok or kept.height != c["complete"]:
        return None
    if c["distinct_ids"] < kept.height:  # rare: an order-keeping unique in memory only then
        kept = kept.unique(subset=[schema.VIDEO_ID], keep="first", maintain_order=True).rechunk()
    kept = kept.cast(schema.interim_schema())
    try:
        report = _report(
            kept, c["rows"], c["rows"] - c["complete"], c["complete"] - kept.height, source
        )
    except InputError:  # one class only: the slow path refuses it, naming what it read
        return None
    return FileIngest(Ingested(kept, report), stats.sha256)


def _read_in_one_chunk(path: Path) -> pl.DataFrame:
    """A parquet file as a frame in one chunk, as the slow path's frame is (the parquet
    writer's row groups follow the chunks); read a column at a time, so that at most one
    column is ever held twice."""
    return pl.DataFrame(
        [
            pl.read_parquet(path, columns=[name]).to_series().rechunk()
            for name in pl.read_parquet_schema(path)
        ]
    )


def load_source(raw_dir: Path, source_mode: str, synthetic_rows: int, seed: int):
    """Return (bytes, label, path) of the course file, or of the stand-in where it is absent."""
    path = raw_dir / RAW_NAME
    if source_mode == "auto" and path.exists():
        try:
            return path.read_bytes(), "real", str(path)
        except OSError as exc:
            raise InputError(str(path), f"cannot read the file ({exc.strerror})") from None
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
    path = raw_dir / RAW_NAME
    fast = None
    if source_mode == "auto" and path.is_file():
        # Stage the kept rows beside the output (disk), not in /tmp (RAM on many machines).
        out.parent.mkdir(parents=True, exist_ok=True)
        fast = ingest_fast(path, str(path), scratch_dir=out.parent)
    if fast is not None:
        result, digest, label, where = fast.result, fast.sha256, "real", str(path)
    else:
        data, label, where = load_source(raw_dir, source_mode, rows, seed)
        result = ingest_bytes(data, where)
        digest = hashlib.sha256(data).hexdigest()
        del data
    report = {"source": label, "path": where, "sha256": digest, **result.report}
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
