"""Stage features: validated videos -> the predictor table (data/processed/features.parquet)
and what it holds (metrics/features.json)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.data.features import build_features, summarise
from tiktok_verified.files import write_json, write_parquet
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "videos": "validated videos (parquet)",
    "out": "predictor table (parquet)",
    "summary": "feature summary (JSON)",
}


def body(args, params) -> str:
    if params.engine.name == "spark":  # the same stage on Spark DataFrames
        from tiktok_verified.engines.spark import stages as spark

        return spark.features(args, params)
    features = build_features(pl.scan_parquet(args.videos), params.features).collect()
    write_parquet(args.out, features)
    write_json(args.summary, summarise(features, params.features))
    return f"{features.height} rows, predictors {list(params.features.columns)}"


main = stage_main("features", "Build the predictor table.", body, PATHS)


if __name__ == "__main__":
    sys.exit(main())
