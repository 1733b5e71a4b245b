"""Split on the local engine (polars): `modeling.split.make_split`."""

from __future__ import annotations

import polars as pl

from tiktok_verified import contracts
from tiktok_verified.files import write_parquet
from tiktok_verified.modeling.split import make_split


def run(args, params) -> str:
    result = make_split(pl.read_parquet(args.features), params, str(args.features))
    write_parquet(args.train, result.train)
    write_parquet(args.train_original, result.train_original)
    write_parquet(args.test, result.test)
    contracts.write(args.report, result.report, "split.json")
    rows = result.report["rows"]
    return f"train {rows['train']} rows ({result.report['resample']}), test {rows['test']} rows"
