"""Stage ingest: the raw CSV (or the synthetic stand-in where it is absent) -> validated videos
(data/interim/videos.parquet) and where they came from and what was dropped (metrics/data.json)."""

from __future__ import annotations

from tiktok_verified.stages import exit_with
from tiktok_verified.stages.dispatch import engine_module
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "raw-dir": "folder holding tiktok_dataset.csv",
    "out": "validated videos (parquet)",
    "metrics": "data report (JSON)",
}


def body(args, params) -> str:
    return engine_module(params, "ingest").run(args, params)


main = stage_main("ingest", "Ingest the raw CSV into validated parquet.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
