"""CSV structure, before any value is read: the bytes are UTF-8 text, records are found the way
an RFC 4180 reader finds them (a newline or comma inside double quotes does not count), every
record has the header's number of fields, and quoting problems are located. Each problem is an
`InputError` naming file and line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from tiktok_verified.errors import PipelineError

#: File signatures worth naming when a file is not UTF-8 text.
SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook or other zip archive, not a CSV; export it as CSV UTF-8"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls), not a CSV; export it as CSV UTF-8"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\xff\xfe", "UTF-16 text (Excel 'Unicode Text'); save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text; save it as CSV UTF-8"),
)
MAX_SHOWN = 40


class InputError(PipelineError):
    """The input file cannot be used; the message names file, line and column."""

    def __init__(
        self, source: str, message: str, line: int | None = None, column: str | None = None
    ):
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {show(column)}"
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.column = source, line, column


def show(value: object) -> str:
    """A value as it appears in a message: quoted, escaped, and cut to a readable length."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 4] + "...'"


def show_names(values: list[str]) -> str:
    shown = ", ".join(show(v) for v in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")


# --- bytes to text ----------------------------------------------------------------------------


def decoded(data: bytes, source: str) -> bytes:
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
        line, reason = quoting_problem(data, quotes, newlines)
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


def record_text(data: bytes, layout: Layout, index: int) -> str:
    return data[layout.starts[index] : layout.ends[index]].decode("utf-8")


def check_field_counts(data: bytes, layout: Layout, source: str) -> None:
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


def quoting_problem(data: bytes, quotes: np.ndarray, newlines: np.ndarray) -> tuple[int, str]:
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
