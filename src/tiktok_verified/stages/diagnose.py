"""Stage diagnose: the regression assumptions, each with its figures, rule and verdict, checked
on the training part as split (metrics/assumptions.json)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.data import schema
from tiktok_verified.files import read_json, write_json
from tiktok_verified.modeling.assumptions import check_all
from tiktok_verified.stages.runner import run_stage

PATHS = {
    "videos": "validated videos (parquet)",
    "features": "predictor table (parquet)",
    "train": "training part, as split (parquet)",
    "split-report": "split report (JSON)",
    "out": "assumption checks (JSON)",
}


def body(args, params) -> str:
    report = check_all(
        # The whole table is needed only for its outcome and its video ids.
        pl.read_parquet(args.features, columns=[schema.VIDEO_ID, schema.Y]),
        pl.read_parquet(args.train),
        pl.read_parquet(
            args.videos, columns=[schema.VIDEO_ID, schema.DURATION, *schema.COUNT_COLUMNS]
        ),
        params.features,
        read_json(args.split_report),
        params.base.seed,
    )
    write_json(args.out, report)
    return ", ".join(f"{c['verdict']} {c['name']}" for c in report["checks"].values())


def main(argv: list[str] | None = None) -> int:
    return run_stage("diagnose", "Check the regression's assumptions.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
