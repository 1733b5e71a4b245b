"""Diagnose stage: check the regression assumptions and write metrics/assumptions.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from tiktok_verified import assumptions, schema
from tiktok_verified.config import ConfigError, load_params
from tiktok_verified.features import Y
from tiktok_verified.io import read_json, write_json


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the logistic regression's assumptions.")
    parser.add_argument("--videos", type=Path, required=True)
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True, help="training part, as split")
    parser.add_argument("--split-report", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"diagnose: error: {exc}", file=sys.stderr)
        return 1
    report = assumptions.check_all(
        # The whole table is needed only for its outcome and its video ids.
        pl.read_parquet(args.features, columns=[schema.VIDEO_ID, Y]),
        pl.read_parquet(args.train),
        pl.read_parquet(
            args.videos, columns=[schema.VIDEO_ID, schema.DURATION, *schema.COUNT_COLUMNS]
        ),
        params.features,
        read_json(args.split_report),
        params.base.seed,
    )
    write_json(args.out, report)
    for check in report["checks"].values():
        print(f"diagnose: {check['verdict']:>4}  {check['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
