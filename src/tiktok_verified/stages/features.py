"""Stage features: validated videos -> the predictor table (data/processed/features.parquet)
and what it holds (metrics/features.json)."""

from __future__ import annotations

from tiktok_verified.stages import exit_with
from tiktok_verified.stages.dispatch import engine_module
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "videos": "validated videos (parquet)",
    "out": "predictor table (parquet)",
    "summary": "feature summary (JSON)",
}


def body(args, params) -> str:
    return engine_module(params, "features").run(args, params)


main = stage_main("features", "Build the predictor table.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
