"""Stage split: the predictor table -> a seeded stratified train/test split, outlier caps fitted
on train, resampling of the training part only (data/processed/*.parquet, metrics/split.json)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.files import write_json, write_parquet
from tiktok_verified.modeling.split import make_split
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "features": "predictor table (parquet)",
    "train": "training part, resampled: distinct rows with a weight column (parquet)",
    "train-original": "training part as split (parquet)",
    "test": "held-out part (parquet)",
    "report": "split report (JSON)",
}


def body(args, params) -> str:
    if params.engine.name == "spark":  # the same stage on Spark DataFrames
        from tiktok_verified.engines.spark import stages as spark

        return spark.split(args, params)
    result = make_split(pl.read_parquet(args.features), params, str(args.features))
    write_parquet(args.train, result.train)
    write_parquet(args.train_original, result.train_original)
    write_parquet(args.test, result.test)
    write_json(args.report, result.report)
    rows = result.report["rows"]
    return f"train {rows['train']} rows ({result.report['resample']}), test {rows['test']} rows"


main = stage_main("split", "Split, cap outliers, resample train.", body, PATHS)


if __name__ == "__main__":
    sys.exit(main())
