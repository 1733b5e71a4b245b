"""Features on the local engine (polars)."""

from __future__ import annotations

import polars as pl

from tiktok_verified import contracts
from tiktok_verified.data.features import build_features, summarise
from tiktok_verified.files import write_parquet


def run(args, params) -> str:
    features = build_features(pl.scan_parquet(args.videos), params.features).collect()
    write_parquet(args.out, features)
    contracts.write(args.summary, summarise(features, params.features), "features.json")
    return f"{features.height} rows, predictors {list(params.features.columns)}"
