"""Ingest on the local engine: the reader of record (polars), the stand-in where the course file
is absent."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.data.reader import read_videos
from tiktok_verified.files import write_parquet


def run(args, params) -> str:
    videos = read_videos(
        args.raw_dir, params.data.source, params.data.synthetic_rows, params.base.seed
    )
    write_parquet(args.out, videos.frame)
    contracts.write(args.metrics, videos.report, "data.json")
    r = videos.report
    return (
        f"{r['source']} data, {r['rows_in']} rows in, {r['rows_kept']} kept, "
        f"classes {r['class_counts']}"
    )
