"""Stage statistics (statsmodels): the regression assumptions, each with its figures, rule and
verdict (metrics/assumptions.json), and the inference, an unpenalised fit on the training part
as split with standard errors, intervals, p-values and odds ratios (metrics/coefficients.json,
the odds-ratio plot data). Nothing here reads the predictor's params (`model.*`), so an
experiment on them does not rerun it."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.data import schema
from tiktok_verified.files import read_json, write_csv, write_json
from tiktok_verified.modeling import associations, inference, specification
from tiktok_verified.modeling.assumptions import check_all
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "videos": "validated videos (parquet)",
    "features": "predictor table (parquet)",
    "train": "training part, resampled: distinct rows with a weight column (parquet)",
    "train-original": "training part, as split (parquet)",
    "split-report": "split report (JSON)",
    "assumptions": "assumption checks (JSON)",
    "coefficients": "inference (JSON)",
    "specifications": "specifications compared (JSON)",
    "plot": "odds ratios for `dvc plots` (CSV)",
}


def body(args, params) -> str:
    if params.engine.name == "spark":  # the same stage on Spark DataFrames
        from tiktok_verified.engines.spark.statistics import statistics

        return statistics(args, params)
    original = pl.read_parquet(args.train_original)
    videos = pl.read_parquet(
        args.videos, columns=[schema.VIDEO_ID, schema.DURATION, *schema.COUNT_COLUMNS]
    )
    report = check_all(
        # The whole table is needed only for its outcome and its video ids.
        pl.read_parquet(args.features, columns=[schema.VIDEO_ID, schema.Y]),
        original,
        videos,
        params.features,
        read_json(args.split_report),
        params.base.seed,
    )
    specs = specification.compare_for(original, videos, params.features, params.base.seed)
    stats = inference.with_resampled_rows_comparison(
        inference.coefficient_inference(original, params.features),
        pl.read_parquet(args.train),
        params.features,
    )
    found = associations.describe(stats, original, params.features)
    write_json(args.assumptions, report)
    write_json(
        args.coefficients,
        {
            "inference": stats,
            "associations": found,
            "strongest": inference.strongest(stats, found["adjusted_p"]),
        },
    )
    write_json(args.specifications, specs)
    write_csv(args.plot, inference.plot_rows(stats))
    verdicts = ", ".join(f"{c['verdict']} {c['name']}" for c in report["checks"].values())
    return f"inference on {stats['rows']} videos; assumptions: {verdicts}"


main = stage_main("statistics", "Assumptions and inference.", body, PATHS)


if __name__ == "__main__":
    sys.exit(main())
