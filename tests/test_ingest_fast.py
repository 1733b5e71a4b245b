"""The fast path of ingest (a streaming scan of the file) against the slow path (the byte-level
reader that explains bad files): for every file the fast path accepts, the same frame, report,
parquet bytes and SHA-256; every file it is not sure of goes to the slow path, which gives its
own result or error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_hostile_input import BASE, BROKEN, VARIANTS, render
from test_hostile_input import records as csv_records
from test_hostile_properties import (
    BASE_ROWS,
    byte_mutation,
    cell_mutation,
    csv_mutant_settings,
    shape_mutation,
)

from tiktok_verified import ingest, schema, synthetic
from tiktok_verified.io import write_json, write_parquet

SRC = "data/raw/tiktok_dataset.csv"


def slow(data: bytes) -> ingest.Ingested | str:
    try:
        return ingest.ingest_bytes(data, SRC)
    except ingest.InputError as exc:
        return str(exc)


def parquet(frame, path: Path) -> bytes:
    write_parquet(path, frame)
    return path.read_bytes()


def compare(data: bytes, tmp_path: Path) -> str:
    """Run both paths on `data`; assert they agree; return the path that decided."""
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    fast = ingest.ingest_fast(path, SRC)
    expected = slow(data)
    if fast is None:
        return "slow"
    assert not isinstance(expected, str), (
        f"fast path accepted what the slow path refuses: {expected}"
    )
    assert fast.result.report == expected.report
    assert fast.result.frame.schema == expected.frame.schema
    assert fast.result.frame.equals(expected.frame)
    assert fast.sha256 == hashlib.sha256(data).hexdigest()
    assert parquet(fast.result.frame, tmp_path / "fast.parquet") == parquet(
        expected.frame, tmp_path / "slow.parquet"
    )
    return "fast"


def rows(data: bytes) -> list[list[str]]:
    return csv_records(data)


def with_duplicates(data: bytes) -> bytes:
    """Rows repeating earlier videos' ids (complete and incomplete ones), with other values."""
    table = rows(data)
    head, body = table[0], table[1:]
    vid, views = head.index(schema.VIDEO_ID), head.index("video_view_count")
    extra = []
    for i, row in enumerate(body[:40]):
        copy = list(row)
        copy[head.index(schema.ROW_NUMBER)] = str(len(body) + i + 1)
        copy[views] = "#N/A" if i % 5 == 0 else str(i)
        extra.append(copy)
    extra.append(list(body[3]))  # an exact repeat
    table = [head, *body[:150], *extra, *body[150:]]
    assert len({r[vid] for r in table[1:]}) < len(table) - 1
    return render(table)


GOOD = {
    "stand-in (CRLF, quoted texts with commas and quotes, #N/A)": BASE,
    "stand-in, LF": BASE.replace(b"\r\n", b"\n"),
    "stand-in, no final newline": BASE.removesuffix(b"\r\n"),
    "duplicate video ids": with_duplicates(BASE),
    "missing as empty cells and NA": BASE.replace(b"#N/A", b"", 5).replace(b"#N/A", b"NA"),
    'missing as quoted "NA"': BASE.replace(b"#N/A", b'"NA"'),
    "negative row number": BASE.replace(b"\r\n1,", b"\r\n-1,", 1),
}


@pytest.mark.parametrize("name", GOOD)
def test_the_fast_path_takes_good_files_and_equals_the_slow_path(name, tmp_path):
    data = GOOD[name]
    assert compare(data, tmp_path) == "fast"


def test_duplicates_are_really_dropped_by_the_fast_path(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(with_duplicates(BASE))
    report = ingest.ingest_fast(path, SRC).result.report
    assert report["rows_dropped"]["duplicate_video_id"] > 30
    assert report["rows_dropped"]["incomplete"] > 0


def test_the_course_file_takes_the_fast_path_with_the_same_result(real_csv, tmp_path):
    assert compare(real_csv.read_bytes(), tmp_path) == "fast"


def test_many_rows_give_the_same_parquet_row_groups(tmp_path):
    # More rows than one parquet row group, and than one polars read chunk.
    data = synthetic.csv_bytes(300_000, seed=3)
    assert compare(with_duplicates(data), tmp_path) == "fast"


@pytest.mark.parametrize("name", VARIANTS)
def test_harmless_variants_agree(name, tmp_path):
    compare(VARIANTS[name](BASE), tmp_path)


@pytest.mark.parametrize("name", BROKEN)
def test_broken_files_go_to_the_slow_path(name, tmp_path):
    assert compare(BROKEN[name][0](BASE), tmp_path) == "slow"


def cell(line: int, column: str, value: str):
    def edit(data: bytes) -> bytes:
        table = rows(data)
        table[line - 1][table[0].index(column)] = value
        return render(table)

    return edit


#: Files the fast path must leave to the slow path (accepted or refused there), by cause.
FALLBACK = {
    "byte-order mark": lambda d: b"\xef\xbb\xbf" + d,
    "index column": VARIANTS["pandas to_csv() defaults (index column, floats, empty cells, LF)"],
    "columns reordered": VARIANTS["columns in reverse order"],
    "spaces in the header": VARIANTS["spaces around header names"],
    "CR line endings": VARIANTS["CR line endings (Excel for Mac)"],
    "bare CR inside a quoted text": cell(5, schema.TEXT, "two\rlines"),
    "bare CR before a count": cell(5, "video_view_count", "\r12"),
    "bare CR after a count": cell(5, "video_view_count", "12\r"),
    "newline inside a quoted text": cell(5, schema.TEXT, "two\nlines"),
    "blank line": VARIANTS["blank lines and bare-comma lines (Excel)"],
    "count written as a float": cell(5, "video_like_count", "12.0"),
    "count with a leading space": cell(5, "video_like_count", " 12"),
    "count of blanks only": cell(5, "video_like_count", "  "),
    "id of blanks only": cell(5, schema.VIDEO_ID, " "),
    "short line missing only counts": lambda d: render(
        [*rows(d)[:4], rows(d)[4][:-2], *rows(d)[5:]]
    ),
    "odd number of quotes": lambda d: d.replace(b"a friend read in", b'a friend "read in', 1),
    "NUL byte": lambda d: d.replace(b"a friend", b"a fri\x00end", 1),
    "negative count": cell(6, "video_comment_count", "-3"),
    "unknown category in an incomplete row": lambda d: cell(
        rows(d).index(next(r for r in rows(d) if "#N/A" in r)) + 1, "author_ban_status", "x"
    )(d),
    "one class only": BROKEN["verified_status with one class only"][0],
    "header only": BROKEN["header only"][0],
}


@pytest.mark.parametrize("name", FALLBACK)
def test_each_doubt_sends_the_file_to_the_slow_path(name, tmp_path):
    data = FALLBACK[name](BASE)
    assert data != BASE
    assert compare(data, tmp_path) == "slow"


def test_the_short_line_case_really_has_a_short_line():
    data = FALLBACK["short line missing only counts"](BASE)
    assert any(len(r) == len(schema.COLUMNS) - 2 for r in rows(data))


def run_stage(raw: Path, tmp_path: Path, monkeypatch) -> tuple[bytes, bytes, int]:
    calls = []
    slow_path = ingest.ingest_bytes
    monkeypatch.setattr(ingest, "ingest_bytes", lambda *a: calls.append(1) or slow_path(*a))
    out, metrics = tmp_path / "videos.parquet", tmp_path / "data.json"
    ingest.run(raw, out, metrics, "auto", 100, 0)
    return metrics.read_bytes(), out.read_bytes(), len(calls)


@pytest.mark.parametrize("name", ["good", "CR line endings", "count written as a float"])
def test_the_stage_output_is_the_slow_paths_either_way(name, tmp_path, monkeypatch):
    data = BASE if name == "good" else FALLBACK[name](BASE)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / ingest.RAW_NAME).write_bytes(data)
    metrics, parquet_bytes, slow_calls = run_stage(raw, tmp_path, monkeypatch)
    assert slow_calls == (0 if name == "good" else 1)
    expected = ingest.ingest_bytes(data, str(raw / ingest.RAW_NAME))
    write_json(
        tmp_path / "expected.json",
        {
            "source": "real",
            "path": str(raw / ingest.RAW_NAME),
            "sha256": hashlib.sha256(data).hexdigest(),
            **expected.report,
        },
    )
    assert metrics == (tmp_path / "expected.json").read_bytes()
    assert parquet_bytes == parquet(expected.frame, tmp_path / "expected.parquet")


def test_an_error_on_the_fast_path_falls_back_to_the_slow_paths_error(tmp_path, monkeypatch):
    def broken(*_, **__):
        raise ingest.pl.exceptions.ComputeError("boom")

    monkeypatch.setattr(ingest.pl, "collect_all", broken)
    path = tmp_path / "in.csv"
    path.write_bytes(BASE)
    assert ingest.ingest_fast(path, SRC) is None


@pytest.mark.parametrize("block", [1, 2, 7, 4096])
def test_byte_stats_do_not_depend_on_the_block_size(block, tmp_path):
    data = BASE + b'"\r\r\n\x00' + BASE[:100] + b"\r"
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    stats = ingest.byte_stats(path, block=block)
    assert stats == ingest.ByteStats(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        quotes=data.count(b'"'),
        newlines=data.count(b"\n"),
        carriage_returns=data.count(b"\r"),
        crlf=data.count(b"\r\n"),
        commas=data.count(b","),
        nul=True,
        last=b"\r",
    )


#: The property tests' mutations, of a base the fast path takes (theirs has a multi-line text).
ONE_LINE_ROWS = [r for r in BASE_ROWS if not any("\n" in v for v in r)]
mutants = st.one_of(
    byte_mutation(render(ONE_LINE_ROWS)),
    cell_mutation(ONE_LINE_ROWS),
    shape_mutation(ONE_LINE_ROWS),
    cell_mutation(ONE_LINE_ROWS).flatmap(byte_mutation),
)


def test_the_mutants_start_from_a_file_the_fast_path_takes(tmp_path):
    assert compare(render(ONE_LINE_ROWS), tmp_path) == "fast"


@csv_mutant_settings(150)
@given(mutants)
def test_a_mutated_csv_gets_the_same_answer_on_both_paths(tmp_path_factory, data):
    compare(data, tmp_path_factory.mktemp("m"))
