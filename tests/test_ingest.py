"""Ingest on the course file and on small hand-made inputs."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import schema, source
from tiktok_verified.stages import ingest as ingest_stage
from tiktok_verified.stages import raw as raw_stage

HEADER = ",".join(schema.COLUMNS)


def csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode()


GOOD = [
    "1,claim,7017666017,59,someone said x,not verified,under review,343296,19425,241,1,0",
    "2,opinion,4014381136,32,i think that y,verified,active,140877,77355,19034,1161,684",
    "3,#N/A,9859838091,31,#N/A,not verified,active,#N/A,#N/A,#N/A,#N/A,#N/A",
    "4,claim,7017666017,59,someone said x,not verified,under review,343296,19425,241,1,0",
]


def test_course_file_counts(real_csv):
    result = ingest.ingest_bytes(real_csv.read_bytes(), str(real_csv))
    assert result.report["rows_in"] == 19_382
    assert result.report["rows_kept"] == 19_084
    assert result.report["rows_dropped"] == {"incomplete": 298, "duplicate_video_id": 0}
    assert result.report["class_counts"] == {"not verified": 17_884, "verified": 1_200}
    assert result.frame.schema == pl.Schema(schema.interim_schema())


def test_drops_and_counts_incomplete_rows_and_duplicates():
    result = ingest.ingest_bytes(csv(*GOOD), "mini.csv")
    assert result.report["rows_in"] == 4
    assert result.report["rows_dropped"] == {"incomplete": 1, "duplicate_video_id": 1}
    assert result.frame["#"].to_list() == [1, 2]  # first occurrence kept, order kept
    assert result.report["class_counts"] == {"not verified": 1, "verified": 1}


def test_unknown_category_names_file_line_and_column():
    bad = GOOD[1].replace("active", "under scrutiny")
    with pytest.raises(ingest.InputError) as err:
        ingest.ingest_bytes(csv(GOOD[0], bad), "mini.csv")
    assert str(err.value) == (
        "mini.csv, line 3, column 'author_ban_status': unknown value 'under scrutiny'; "
        "allowed: ['active', 'under review', 'banned']"
    )


def test_text_in_numeric_column_is_rejected():
    bad = GOOD[1].replace("140877", "lots")
    with pytest.raises(ingest.InputError, match=r"line 3, column 'video_view_count'.*'lots'"):
        ingest.ingest_bytes(csv(GOOD[0], bad), "mini.csv")


def test_run_writes_parquet_and_metrics(tmp_path, real_csv):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / ingest.RAW_NAME).write_bytes(real_csv.read_bytes())
    out, metrics = tmp_path / "videos.parquet", tmp_path / "data.json"
    code = ingest_stage.main(
        [
            "--raw-dir",
            str(raw),
            "--out",
            str(out),
            "--metrics",
            str(metrics),
            "--params",
            str(ingest_params(tmp_path)),
        ]
    )
    assert code == 0
    report = json.loads(metrics.read_text())
    assert report["source"] == "real"
    assert report["sha256"] == hashlib.sha256(real_csv.read_bytes()).hexdigest()
    assert pl.read_parquet(out).height == 19_084


def test_absent_file_falls_back_to_synthetic_loudly(tmp_path, capsys):
    out, metrics = tmp_path / "videos.parquet", tmp_path / "data.json"
    code = ingest_stage.main(
        [
            "--raw-dir",
            str(tmp_path),
            "--out",
            str(out),
            "--metrics",
            str(metrics),
            "--params",
            str(ingest_params(tmp_path)),
        ]
    )
    assert code == 0
    assert "SYNTHETIC" in capsys.readouterr().err
    report = json.loads(metrics.read_text())
    assert report["source"] == "synthetic"
    assert report["rows_in"] == 19_382


def ingest_params(tmp_path):
    from conftest import REPO_ROOT

    path = tmp_path / "params.yaml"
    path.write_text((REPO_ROOT / "params.yaml").read_text())
    return path


def test_which_file_a_run_reads(tmp_path):
    """data.source.course_file, the one rule both engines and the raw stage use: whatever is at
    the course path under source `auto` (a folder included, refused when read), nothing under
    `synthetic`."""
    raw = tmp_path / "raw"
    raw.mkdir()
    assert source.course_file(raw, "auto") is None  # absent: the stand-in
    (raw / ingest.RAW_NAME).mkdir()
    assert source.course_file(raw, "auto") == raw / ingest.RAW_NAME
    assert source.course_file(raw, "synthetic") is None
    for refuse in (source.read_course_file, source.check_readable):
        with pytest.raises(
            ingest.InputError, match=r"tiktok_dataset\.csv: cannot read the file \("
        ):
            refuse(raw / ingest.RAW_NAME)


def test_the_raw_stage_says_what_a_run_reads_and_refuses_a_folder(tmp_path, capsys):
    """The raw stage asks the same rule (data.source): the stand-in where nothing stands at the
    course path, the course file where it is, and a folder there refused in one line."""
    raw = tmp_path / "raw"
    args = ["--dir", str(raw), "--params", str(ingest_params(tmp_path))]
    assert raw_stage.main(args) == 0
    assert "is absent: ingest will use the SYNTHETIC stand-in" in capsys.readouterr().out
    (raw / ingest.RAW_NAME).write_bytes(csv(*GOOD))
    assert raw_stage.main(args) == 0
    assert ": the course file (" in capsys.readouterr().out
    (raw / ingest.RAW_NAME).unlink()
    (raw / ingest.RAW_NAME).mkdir()
    assert raw_stage.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"raw: error: {raw / ingest.RAW_NAME}: cannot read the file (")
    # Under source `synthetic` the course path is not read, whatever stands there.
    synthetic = ingest_params(tmp_path)
    synthetic.write_text(synthetic.read_text().replace("source: auto", "source: synthetic"))
    assert "source: synthetic" in synthetic.read_text()
    assert raw_stage.main(["--dir", str(raw), "--params", str(synthetic)]) == 0
    assert "data.source is synthetic" in capsys.readouterr().out
