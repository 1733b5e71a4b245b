"""The stand-in: seeded, the course file's schema, similar distributions, streams in chunks."""

from __future__ import annotations

import polars as pl
import pytest

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import schema
from tiktok_verified.data import standin as synthetic


@pytest.fixture(scope="module")
def stand_in() -> bytes:
    return synthetic.csv_bytes(19_382, seed=0)


def test_same_header_and_line_endings_as_the_course_file(stand_in, real_csv):
    header, _, rest = stand_in.partition(b"\r\n")
    assert header.decode().split(",") == list(schema.COLUMNS)
    assert real_csv.read_bytes().partition(b"\r\n")[0] == header
    assert b"#N/A" in rest


def test_seeded(stand_in):
    assert synthetic.csv_bytes(19_382, seed=0) == stand_in
    assert synthetic.csv_bytes(19_382, seed=1) != stand_in


def test_chunked_output_equals_one_chunk(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    synthetic.write_csv(a, 2_500, seed=3, chunk_rows=1_000)
    synthetic.write_csv(b, 2_500, seed=3, chunk_rows=1_000)
    frame = pl.read_csv(a, null_values=["#N/A"])
    assert frame.height == 2_500
    assert frame["#"].to_list() == list(range(1, 2_501))
    assert frame["video_id"].is_unique().all()
    assert frame["video_id"].cast(pl.String).str.len_chars().eq(10).all()
    assert a.read_bytes() == b.read_bytes()


def test_distributions_resemble_the_course_file(stand_in):
    result = ingest.ingest_bytes(stand_in, "stand-in")
    df = result.frame
    report = result.report
    assert 0.05 < report["verified_share"] < 0.08  # course: 6.3%
    assert 250 < report["rows_dropped"]["incomplete"] < 350  # course: 298
    claims = df.filter(pl.col("claim_status") == "claim")
    opinions = df.filter(pl.col("claim_status") == "opinion")
    assert 0.47 < claims.height / df.height < 0.53
    # Claim videos have ~100x the views of opinions; verified authors post more opinions.
    assert claims["video_view_count"].median() > 50 * opinions["video_view_count"].median()
    assert claims["video_view_count"].max() <= 1_000_000
    v = (pl.col(schema.OUTCOME) == schema.POSITIVE).mean()
    assert opinions.select(v).item() > 3 * claims.select(v).item()
    assert claims["video_transcription_text"].str.contains("shared|read|learned|discovered").all()
    assert df["video_duration_sec"].is_between(5, 60).all()
    for c in schema.COUNT_COLUMNS:
        assert df[c].min() >= 0
    assert (df["video_like_count"] <= df["video_view_count"]).all()


def test_texts_pair_claim_openers_with_claims():
    frame = synthetic.generate_chunk(0, 5_000, seed=1).drop_nulls()
    openers = frame[schema.TEXT].cast(pl.String).str.extract(r"^(.*? that) ").to_list()
    for status, opener in zip(
        frame["claim_status"].cast(pl.String).to_list(), openers, strict=True
    ):
        expected = synthetic.CLAIM_OPENERS if status == "claim" else synthetic.OPINION_OPENERS
        assert opener in expected
