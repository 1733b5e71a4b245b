"""Stage features: validated videos -> the predictor table (data/processed/features.parquet)
and what it holds (metrics/features.json)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.data.features import build_features, summarise
from tiktok_verified.files import write_json, write_parquet
from tiktok_verified.stages.runner import run_stage

PATHS = {
    "videos": "validated videos (parquet)",
    "out": "predictor table (parquet)",
    "summary": "feature summary (JSON)",
}


def body(args, params) -> str:
    features = build_features(pl.scan_parquet(args.videos), params.features).collect()
    write_parquet(args.out, features)
    write_json(args.summary, summarise(features, params.features))
    return f"{features.height} rows, predictors {list(params.features.columns)}"


def main(argv: list[str] | None = None) -> int:
    return run_stage("features", "Build the predictor table.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
