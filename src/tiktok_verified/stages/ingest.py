"""Stage ingest: the raw CSV (or the synthetic stand-in where it is absent) -> validated videos
(data/interim/videos.parquet) and where they came from and what was dropped (metrics/data.json)."""

from __future__ import annotations

import sys

from tiktok_verified.data.reader import read_videos
from tiktok_verified.files import write_json, write_parquet
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "raw-dir": "folder holding tiktok_dataset.csv",
    "out": "validated videos (parquet)",
    "metrics": "data report (JSON)",
}


def body(args, params) -> str:
    if params.engine.name == "spark":  # the same stage on Spark DataFrames
        from tiktok_verified.engines.spark import stages as spark

        return spark.ingest(args, params)
    videos = read_videos(
        args.raw_dir, params.data.source, params.data.synthetic_rows, params.base.seed
    )
    write_parquet(args.out, videos.frame)
    write_json(args.metrics, videos.report)
    r = videos.report
    return (
        f"{r['source']} data, {r['rows_in']} rows in, {r['rows_kept']} kept, "
        f"classes {r['class_counts']}"
    )


main = stage_main("ingest", "Ingest the raw CSV into validated parquet.", body, PATHS)


if __name__ == "__main__":
    sys.exit(main())
