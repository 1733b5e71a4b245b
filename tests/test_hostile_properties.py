"""Property-based: mutate a valid CSV at random (bytes, cells, lines, columns) and check that
ingest either accepts it with exactly the rows an independent reader finds, or rejects it with
one clear line; never a traceback, never a silently different table."""

from __future__ import annotations

import csv
import io
import re

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import schema
from tiktok_verified.data import standin as synthetic

SOURCE = "mutant.csv"
INT64 = (-(2**63), 2**63 - 1)
#: A small valid file: stand-in rows with quoted texts and #N/A rows, plus edge cases.
BASE_ROWS = list(csv.reader(io.StringIO(synthetic.csv_bytes(40, seed=3).decode(), newline="")))
BASE_ROWS += [
    ["41", "opinion", "1234567890", "10", 'i think that "quotes", commas', "verified", "active"]
    + ["1", "0", "0", "0", "0"],
    ["42", "claim", "2234567890", "0", "multi\nline text", "not verified", "banned"]
    + ["0", "0", "0", "0", "0"],
]


def render(rows: list[list[str]], eol: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=eol).writerows(rows)
    return out.getvalue().encode("utf-8")


BASE = render(BASE_ROWS)


# --- an independent reference reader (Python's csv module, plain Python rules) -------------


class Rejected(Exception):
    pass


def reference(data: bytes) -> list[dict] | None:
    """The kept rows as ingest must produce them, or None where the file must be rejected."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    if "\x00" in text or not text.strip():
        return None
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    if lone_carriage_return(text):
        return None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return None
    if not rows:
        return None
    header = [name.strip() for name in rows[0]]
    expected = list(schema.COLUMNS)
    if header and header[0] in ("", "Unnamed: 0") and sorted(header[1:]) == sorted(expected):
        header[0] = None
    if sorted(n for n in header if n is not None) != sorted(expected):
        return None
    out = []
    try:
        for row in rows[1:]:
            if row == []:
                continue  # blank line
            if len(row) != len(header):
                raise Rejected
            values = {
                name: (None if value in schema.NULL_VALUES else value)
                for name, value in zip(header, row, strict=True)
                if name is not None
            }
            if all(v is None for v in values.values()):
                continue  # a line of bare commas
            out.append(typed(values))
    except Rejected:
        return None
    if not out:
        return None
    complete = [r for r in out if all(v is not None for v in r.values())]
    seen, kept = set(), []
    for r in complete:
        if r[schema.VIDEO_ID] not in seen:
            seen.add(r[schema.VIDEO_ID])
            kept.append(r)
    if len({r[schema.OUTCOME] for r in kept}) < 2:
        return None
    return kept


def lone_carriage_return(text: str) -> bool:
    """A CR outside quotes that does not end a line (CRLF) or the file."""
    quoted = False
    for i, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\r" and not quoted and i + 1 < len(text) and text[i + 1] != "\n":
            return True
    return False


def typed(values: dict) -> dict:
    for name in schema.NUMERIC_COLUMNS:
        value = values[name]
        if value is None:
            continue
        match = re.fullmatch(r"([+-]?[0-9]+)(\.0*)?", value.strip())
        if not match or not INT64[0] <= int(match.group(1)) <= INT64[1]:
            raise Rejected
        values[name] = int(match.group(1))
        if name in schema.NON_NEGATIVE and values[name] < 0:
            raise Rejected
    for name, allowed in schema.CATEGORIES.items():
        if values[name] is not None and values[name] not in allowed:
            raise Rejected
    required = [c for c in schema.COLUMNS if c not in schema.NULLABLE]
    if any(values[c] is None for c in required):
        raise Rejected
    return {c: values[c] for c in schema.COLUMNS}


# --- mutations ------------------------------------------------------------------------------

SPECIAL = [b",", b'"', b"\n", b"\r", b"\r\n", b" ", b"-", b".", b"0", b"9", b"a", b"\x00"]
SPECIAL += [b"\xff", b"\xef\xbb\xbf", b"#N/A", b"NA", b'""', b"\xe2\x80\x99"]
CELL_VALUES = ["", "NA", "N/A", "#N/A", "-1", "0", "1.0", "1.5", "1e3", "abc", " 7 ", "+5"]
CELL_VALUES += ["verified", "not verified", "claim", "opinion", "banned", "Active", "9" * 20]
CELL_VALUES += ['a "quoted" word', "x,y", "two\nlines", "\u00e9t\u00e9"]


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at]
    chunk = draw(st.sampled_from(SPECIAL) | st.binary(min_size=1, max_size=3))
    if kind == "insert":
        return data[:at] + chunk + data[at:]
    end = min(len(data), at + draw(st.integers(1, 40)))
    return data[:at] + (chunk if kind == "replace" else b"") + data[end:]


@st.composite
def cell_mutation(draw, rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(rows) - 1))
        j = draw(st.integers(0, len(rows[i]) - 1))
        rows[i][j] = draw(st.sampled_from(CELL_VALUES) | st.text(max_size=6))
    return render(rows, eol=draw(st.sampled_from(["\r\n", "\n"])))


@st.composite
def shape_mutation(draw, rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    kind = draw(
        st.sampled_from(["drop_col", "swap_cols", "dup_row", "drop_row", "short_row", "blank"])
    )
    n = len(rows[0])
    if kind == "drop_col":
        j = draw(st.integers(0, n - 1))
        rows = [r[:j] + r[j + 1 :] for r in rows]
    elif kind == "swap_cols":
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        for r in rows:
            r[a], r[b] = r[b], r[a]
    elif kind == "dup_row":
        i = draw(st.integers(1, len(rows) - 1))
        rows.insert(draw(st.integers(1, len(rows))), list(rows[i]))
    elif kind == "drop_row":
        del rows[draw(st.integers(1, len(rows) - 1))]
    elif kind == "short_row":
        i = draw(st.integers(1, len(rows) - 1))
        rows[i] = rows[i][: draw(st.integers(0, n - 1))]
    else:
        rows.insert(draw(st.integers(1, len(rows))), [""] * draw(st.sampled_from([1, n])))
    return render(rows)


mutants = st.one_of(
    byte_mutation(BASE),
    cell_mutation(BASE_ROWS),
    shape_mutation(BASE_ROWS),
    cell_mutation(BASE_ROWS).flatmap(byte_mutation),
)


def rows_of(frame: pl.DataFrame) -> list[dict]:
    return [
        {c: (str(v) if c in schema.CATEGORIES and v is not None else v) for c, v in r.items()}
        for r in frame.to_dicts()
    ]


def csv_mutant_settings(max_examples: int):
    """Hypothesis settings for the mutated-CSV properties: reproducible (derandomized), no
    deadline, and no health check about slow or large examples (whole files are)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@csv_mutant_settings(400)
@given(mutants)
def test_a_mutated_csv_is_read_exactly_or_rejected_clearly(data):
    expected = reference(data)
    try:
        result = ingest.ingest_bytes(data, SOURCE)
    except ingest.InputError as exc:
        message = str(exc)
        assert message.startswith(SOURCE)
        assert "\n" not in message and len(message) < 600, message
        assert "Traceback" not in message and "polars" not in message.lower(), message
        return
    # Accepted: must be exactly what the independent reader keeps, in the interim schema.
    assert expected is not None, "accepted a file the reference reader rejects"
    assert result.frame.schema == pl.Schema(schema.interim_schema())
    assert rows_of(result.frame) == expected
    assert result.report["rows_kept"] == len(expected)


def test_the_reference_reader_agrees_on_the_unmutated_file():
    assert rows_of(ingest.ingest_bytes(BASE, SOURCE).frame) == reference(BASE)
