"""Hostile input, table-driven: every harmless variant of the raw CSV gives the canonical file's
interim parquet byte for byte; every broken input is rejected by the ingest stage with exit code
1, one line naming file, line and column, and no output touched."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import schema
from tiktok_verified.data import standin as synthetic
from tiktok_verified.files import temp_files, write_parquet
from tiktok_verified.stages import ingest as ingest_stage

from conftest import REPO_ROOT

SRC = "data/raw/tiktok_dataset.csv"  # as the stage names it (dvc.yaml: --raw-dir data/raw)
EXPECTED = ", ".join(schema.COLUMNS)
NULLABLE = ", ".join(schema.NULLABLE)
#: A stand-in with quoted texts (commas, doubled quotes), #N/A rows and both classes; CRLF.
BASE = synthetic.csv_bytes(300, seed=11)
#: Where the first texts the broken cases edit sit in BASE (whatever the generator writes).
COMPLETE_ROWS = ingest.ingest_bytes(BASE, "base").report["rows_kept"]


def line_of(needle: bytes) -> int:
    at = BASE.find(needle)
    assert at >= 0, needle
    return BASE[:at].count(b"\n") + 1


# --- building inputs ----------------------------------------------------------------------


def records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def render(rows: list[list[str]], eol: str = "\r\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=eol).writerows(rows)
    return out.getvalue().encode("utf-8")


def with_cell(line: int, column: str, value: str) -> Callable[[bytes], bytes]:
    """Set one cell, by file line (1 = header) and column name; the rest is unchanged."""

    def edit(data: bytes) -> bytes:
        rows = records(data)
        rows[line - 1][rows[0].index(column)] = value
        return render(rows)

    return edit


def with_line(line: int, text: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        lines = data.split(b"\r\n")
        lines[line - 1] = text.encode() if isinstance(text, str) else text
        return b"\r\n".join(lines)

    return edit


def replace_bytes(old: bytes, new: bytes, count: int = 1) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, count)

    return edit


def without_column(column: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        rows = records(data)
        i = rows[0].index(column)
        return render([r[:i] + r[i + 1 :] for r in rows])

    return edit


def only_class(label: str) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        rows = records(data)
        i = rows[0].index(schema.OUTCOME)
        return render([rows[0], *[[*r[:i], label, *r[i + 1 :]] for r in rows[1:]]])

    return edit


def const(data: bytes) -> Callable[[bytes], bytes]:
    return lambda _: data


def pandas_csv(**kwargs) -> Callable[[bytes], bytes]:
    """The file as pandas writes it after reading it with its defaults (counts with missing
    values become floats: 343296.0)."""

    reverse = kwargs.pop("reverse", False)
    shuffle = kwargs.pop("shuffle", False)

    def edit(data: bytes) -> bytes:
        frame = pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=["#N/A"])
        if reverse:
            frame = frame[frame.columns[::-1]]
        if shuffle:
            frame = frame[np.random.default_rng(0).permutation(frame.columns)]
        return frame.to_csv(**kwargs).encode("utf-8")

    return edit


def r_style_index(data: bytes) -> bytes:
    """write.csv() in R: a quoted empty first header cell and quoted row names 1..n."""
    lines = data.removesuffix(b"\r\n").split(b"\r\n")
    numbered = [b'"%d",' % i + line for i, line in enumerate(lines[1:], start=1)]
    return b"\r\n".join([b'"",' + lines[0], *numbered]) + b"\r\n"


# --- harmless variants ----------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"

VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "LF line endings": lambda d: d.replace(b"\r\n", b"\n"),
    "CRLF line endings, final newline added or removed": lambda d: (
        d[:-2] if d.endswith(b"\r\n") else d + b"\r\n"
    ),
    "CR line endings (Excel for Mac)": lambda d: d.replace(b"\r\n", b"\r"),
    "UTF-8 byte-order mark": lambda d: BOM + d,
    "Excel 'CSV UTF-8' (BOM + CRLF)": lambda d: BOM + d.removesuffix(b"\r\n") + b"\r\n",
    "missing as empty cells": lambda d: d.replace(b"#N/A", b""),
    "missing as NA": lambda d: d.replace(b"#N/A", b"NA"),
    "missing as N/A": lambda d: d.replace(b"#N/A", b"N/A"),
    'missing as quoted empty ""': lambda d: d.replace(b"#N/A", b'""'),
    "counts written as floats (pandas)": pandas_csv(index=False, na_rep="#N/A"),
    "pandas to_csv() defaults (index column, floats, empty cells, LF)": pandas_csv(),
    "R write.csv() index column": r_style_index,
    "columns in reverse order": pandas_csv(index=False, reverse=True),
    "columns shuffled": pandas_csv(index=False, shuffle=True),
    "blank lines and bare-comma lines (Excel)": lambda d: (
        d.removesuffix(b"\r\n") + b"\r\n\r\n" + b"," * (len(schema.COLUMNS) - 1) + b"\r\n\r\n"
    ),
    "spaces around header names": lambda d: d.replace(b"video_id,", b" video_id ,", 1),
}


@pytest.fixture(scope="module", params=["course file", "stand-in"])
def canonical(request) -> bytes:
    if request.param == "stand-in":
        return BASE
    return request.getfixturevalue("real_csv").read_bytes()


def parquet_bytes(frame: pl.DataFrame, tmp_path: Path) -> bytes:
    path = tmp_path / "videos.parquet"
    write_parquet(path, frame)
    return path.read_bytes()


@pytest.mark.parametrize("name", VARIANTS)
def test_harmless_variant_gives_the_canonical_parquet(name, canonical, tmp_path):
    variant = VARIANTS[name](canonical)
    assert variant != canonical
    expected = ingest.ingest_bytes(canonical, "canonical.csv")
    got = ingest.ingest_bytes(variant, "variant.csv")
    assert got.report == expected.report
    assert got.frame.equals(expected.frame)
    assert parquet_bytes(got.frame, tmp_path / "a") == parquet_bytes(expected.frame, tmp_path / "b")


def test_float_counts_really_are_floats_in_the_pandas_variant(real_csv):
    text = pandas_csv(index=False, na_rep="#N/A")(real_csv.read_bytes()).decode()
    assert ",343296.0,19425.0,241.0,1.0,0.0" in text.splitlines()[1]
    assert pandas_csv()(real_csv.read_bytes()).startswith(b",#,claim_status,")


def test_whole_numbers_are_parsed_exactly_not_through_floats():
    # 2**53 + 1 is the first integer a float64 cannot hold.
    big = str(2**53 + 1)
    data = with_cell(2, "video_id", big + ".0")(BASE)
    frame = ingest.ingest_bytes(data, "x").frame
    assert frame["video_id"][0] == 2**53 + 1


# --- broken inputs --------------------------------------------------------------------------

RAGGED_HINT = (
    "a comma is missing or extra, or a text value holding a comma is not quoted "
    "(the column cannot be told from the line)"
)

#: name -> (how to break the stand-in, the message after "ingest: error: ")
BROKEN: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "missing column": (
        without_column("video_view_count"),
        f"{SRC}, line 1: missing column(s) 'video_view_count'; expected the columns {EXPECTED}",
    ),
    "renamed column": (
        replace_bytes(b"video_view_count", b"views"),
        f"{SRC}, line 1: missing column(s) 'video_view_count'; unexpected column(s) 'views'; "
        f"expected the columns {EXPECTED}",
    ),
    "column named twice": (
        replace_bytes(b"video_like_count", b"video_view_count"),
        f"{SRC}, line 1: the header names column(s) 'video_view_count' twice",
    ),
    "text in a numeric column": (
        with_cell(6, "video_view_count", "lots"),
        f"{SRC}, line 6, column 'video_view_count': 'lots' is not a whole number; "
        "expected digits such as 343296 (343296.0 is accepted too)",
    ),
    "fractional count": (
        with_cell(6, "video_share_count", "56.5"),
        f"{SRC}, line 6, column 'video_share_count': '56.5' is not a whole number; "
        "expected digits such as 343296 (343296.0 is accepted too)",
    ),
    "count in scientific notation": (
        with_cell(6, "video_view_count", "7.492e3"),
        f"{SRC}, line 6, column 'video_view_count': '7.492e3' is not a whole number; "
        "expected digits such as 343296 (343296.0 is accepted too)",
    ),
    "count beyond 64 bits": (
        with_cell(6, "video_view_count", "99999999999999999999"),
        f"{SRC}, line 6, column 'video_view_count': '99999999999999999999' is too large for a "
        "64-bit integer",
    ),
    "negative count": (
        with_cell(6, "video_comment_count", "-3"),
        f"{SRC}, line 6, column 'video_comment_count': '-3' is negative; counts and durations "
        "must be >= 0",
    ),
    "negative duration": (
        with_cell(7, "video_duration_sec", "-7"),
        f"{SRC}, line 7, column 'video_duration_sec': '-7' is negative; counts and durations "
        "must be >= 0",
    ),
    "unknown claim_status": (
        with_cell(9, "claim_status", "Claim"),
        f"{SRC}, line 9, column 'claim_status': unknown value 'Claim'; "
        "allowed: ['claim', 'opinion']",
    ),
    "unknown verified_status": (
        with_cell(9, "verified_status", "unverified"),
        f"{SRC}, line 9, column 'verified_status': unknown value 'unverified'; "
        "allowed: ['not verified', 'verified']",
    ),
    "unknown author_ban_status": (
        with_cell(9, "author_ban_status", "suspended"),
        f"{SRC}, line 9, column 'author_ban_status': unknown value 'suspended'; "
        "allowed: ['active', 'under review', 'banned']",
    ),
    "category with a trailing space": (
        with_cell(9, "author_ban_status", "active "),
        f"{SRC}, line 9, column 'author_ban_status': unknown value 'active '; "
        "allowed: ['active', 'under review', 'banned']",
    ),
    "missing required value": (
        with_cell(12, "video_id", ""),
        f"{SRC}, line 12, column 'video_id': missing value; this column must be filled in "
        f"every row (only {NULLABLE} may be missing)",
    ),
    "missing verified_status": (
        with_cell(12, "verified_status", "#N/A"),
        f"{SRC}, line 12, column 'verified_status': missing value; this column must be filled "
        f"in every row (only {NULLABLE} may be missing)",
    ),
    "empty file": (
        const(b""),
        f"{SRC}: the file is empty (0 bytes); expected a CSV with a header line and data rows",
    ),
    "blank file": (
        const(b"\r\n \r\n\t\r\n"),
        f"{SRC}: the file is empty (only blank space); expected a CSV with a header line and "
        "data rows",
    ),
    "header only": (
        lambda d: d.split(b"\r\n")[0] + b"\r\n",
        f"{SRC}, line 1: the header is the only line with data; expected rows of videos after it",
    ),
    "header and blank lines only": (
        lambda d: d.split(b"\r\n")[0] + b"\r\n,,,,,,,,,,,\r\n\r\n",
        f"{SRC}, line 1: the header is the only line with data; expected rows of videos after it",
    ),
    "random bytes": (
        const(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()),
        f"{SRC}, line 1: not UTF-8 text (byte 0x8b at offset 0); expected a CSV saved as UTF-8 "
        "(Excel: 'CSV UTF-8')",
    ),
    "a web page instead of the CSV": (
        const(b"<!DOCTYPE html>\n<html><body>Not found</body></html>\n"),
        f"{SRC}, line 1: missing column(s) '#', 'claim_status', 'video_id', "
        "'video_duration_sec', 'video_transcription_text' and 7 more; unexpected column(s) "
        f"'<!DOCTYPE html>'; expected the columns {EXPECTED}",
    ),
    "too many fields": (
        with_line(8, "7,claim,7926614566,54,a text,with a comma,not verified,active,1,2,3,4,5"),
        f"{SRC}, line 8: 13 fields where the header has 12; {RAGGED_HINT}",
    ),
    "too few fields": (
        with_line(8, "7,claim,7926614566,54,a text,not verified,active,1,2,3,4"),
        f"{SRC}, line 8: 11 fields where the header has 12; {RAGGED_HINT}",
    ),
    "a truncated last line": (
        lambda d: d[: d.rindex(b",not verified,") + 5],
        f"{SRC}, line 301: 6 fields where the header has 12; {RAGGED_HINT}",
    ),
    "verified_status with one class only": (
        only_class("not verified"),
        f"{SRC}, column 'verified_status': only one class in the {COMPLETE_ROWS} complete rows "
        "(['not verified']); a logistic regression needs both 'verified' and 'not verified'",
    ),
    "NUL byte": (
        replace_bytes(b"\r\n1,claim,", b"\r\n1,cl\x00aim,"),
        f"{SRC}, line 2: contains a NUL byte; this is not a CSV text file",
    ),
    "Latin-1 text": (
        replace_bytes(b"a friend", "a fri\u00e9nd".encode("latin-1")),
        f"{SRC}, line {line_of(b'a friend')}: not UTF-8 text (byte 0xe9 at offset "
        f"{BASE.find(b'a friend') + 5}); expected a CSV saved as "
        "UTF-8 (Excel: 'CSV UTF-8')",
    ),
    "UTF-16 (Excel 'Unicode Text')": (
        lambda d: d.decode().encode("utf-16"),
        f"{SRC}, line 1: this looks like UTF-16 text (Excel 'Unicode Text'); save it as CSV UTF-8",
    ),
    "an Excel workbook": (
        const(b"PK\x03\x04\x14\x00\x06\x00" + bytes(64)),
        f"{SRC}, line 1: this looks like an Excel workbook or other zip archive, not a CSV; "
        "export it as CSV UTF-8",
    ),
    "semicolon separated": (
        lambda d: d.replace(b",", b";"),
        f"{SRC}, line 1: the header is separated by semicolons; expected commas (Excel: save as "
        "'CSV UTF-8 (comma delimited)')",
    ),
    "unclosed quote": (
        with_line(
            5, '4,claim,8963307283,55,"someone learned on a podcast,not verified,active,1,2,3,4,5'
        ),
        f"{SRC}, line 5: the quoting of this record is broken: a quoted value is not closed, or "
        'a double quote inside a quoted value is not doubled ("")',
    ),
    "stray quote inside a value": (
        replace_bytes(b"a friend read in", b'a friend "read in'),
        f'{SRC}, line {line_of(b"a friend read in")}: a double quote (") inside a value that '
        "is not itself quoted; quote the "
        'whole value and double the quote ("ab""c")',
    ),
    "bare carriage return inside a line": (
        replace_bytes(b"a friend read", b"a friend\rread"),
        f"{SRC}, line {line_of(b'a friend read')}: a carriage return (\\r) inside a line, "
        "not as part of a line ending; "
        "the file mixes line-ending styles",
    ),
}


@pytest.fixture
def stage_dir(tmp_path, monkeypatch):
    """A working directory laid out like the repository, holding last good outputs."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/raw").mkdir(parents=True)
    (tmp_path / "params.yaml").write_bytes((REPO_ROOT / "params.yaml").read_bytes())
    for rel in ("data/interim/videos.parquet", "metrics/data.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"last good " + rel.encode())
    return tmp_path


def run_ingest() -> int:
    return ingest_stage.main(
        [
            "--raw-dir",
            "data/raw",
            "--out",
            "data/interim/videos.parquet",
            "--metrics",
            "metrics/data.json",
        ]
    )


@pytest.mark.parametrize("name", BROKEN)
def test_broken_input_is_rejected_with_one_clear_line(name, stage_dir, capsys):
    mutate, message = BROKEN[name]
    data = mutate(BASE)
    assert data != BASE
    (stage_dir / SRC).write_bytes(data)
    assert run_ingest() == 1
    captured = capsys.readouterr()
    assert captured.err == f"ingest: error: {message}\n"
    assert captured.out == ""
    # Nothing written: the last good outputs are untouched and no temporary file is left.
    for rel in ("data/interim/videos.parquet", "metrics/data.json"):
        assert (stage_dir / rel).read_bytes() == b"last good " + rel.encode()
        assert temp_files(stage_dir / rel) == []


def test_the_base_of_the_broken_cases_is_itself_accepted(stage_dir, capsys):
    (stage_dir / SRC).write_bytes(BASE)
    assert run_ingest() == 0
    assert pl.read_parquet(stage_dir / "data/interim/videos.parquet").height == COMPLETE_ROWS


def test_unreadable_path_is_a_clear_error(stage_dir, capsys):
    (stage_dir / SRC).mkdir()  # a directory where the file should be
    assert run_ingest() == 1
    assert capsys.readouterr().err.startswith(f"ingest: error: {SRC}: cannot read the file (")
