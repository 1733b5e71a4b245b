"""Stage crossval: stratified k-fold cross-validation on the training part as split, resampling
inside each fold's fitting rows only (metrics/cv.json)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.files import write_json
from tiktok_verified.modeling.crossval import cross_validate
from tiktok_verified.stages.runner import run_stage

PATHS = {"train": "training part, as split (parquet)", "report": "cross-validation (JSON)"}


def body(args, params) -> str:
    report = cross_validate(pl.read_parquet(args.train), params)
    write_json(args.report, report)
    m, s = report["mean"], report["std"]
    return (
        f"{report['folds']} folds, ROC AUC {m['roc_auc']:.4f} ± {s['roc_auc']:.4f}, "
        f"recall {m['recall']:.4f} ± {s['recall']:.4f}"
    )


def main(argv: list[str] | None = None) -> int:
    return run_stage("crossval", "Stratified k-fold CV on the training part.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
