"""Stage split: the predictor table -> a seeded stratified train/test split, outlier caps fitted
on train, resampling of the training part only (data/processed/*.parquet, metrics/split.json)."""

from __future__ import annotations

from tiktok_verified.stages import exit_with
from tiktok_verified.stages.dispatch import engine_module
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "features": "predictor table (parquet)",
    "train": "training part, resampled: distinct rows with a weight column (parquet)",
    "train-original": "training part as split (parquet)",
    "test": "held-out part (parquet)",
    "report": "split report (JSON)",
}


def body(args, params) -> str:
    return engine_module(params, "split").run(args, params)


main = stage_main("split", "Split, cap outliers, resample train.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
