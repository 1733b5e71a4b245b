"""The statistics stage on the local engine (statsmodels): assumptions, inference,
associations and the specification comparison."""

from __future__ import annotations

import polars as pl

from tiktok_verified import contracts
from tiktok_verified.data import schema
from tiktok_verified.files import write_csv
from tiktok_verified.modeling import associations, inference, specification
from tiktok_verified.modeling.assumptions import check_all


def run(args, params) -> str:
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
        contracts.read(args.split_report, "split.json"),
        params.base.seed,
    )
    specs = specification.compare_for(original, videos, params.features, params.base.seed)
    del videos  # the full-data fits below hold the design: nothing else stays in memory
    stats = inference.inference_with_comparison(
        original, pl.read_parquet(args.train), params.features
    )
    found = associations.describe(stats, original, params.features, params.base.seed)
    contracts.write(args.assumptions, report, "assumptions.json")
    contracts.write(
        args.coefficients,
        {
            "inference": stats,
            "associations": found,
            "strongest": inference.strongest(stats, found["adjusted_p"]),
        },
        "coefficients.json",
    )
    contracts.write(args.specifications, specs, "specifications.json")
    write_csv(args.plot, inference.plot_rows(stats))
    verdicts = ", ".join(f"{c['verdict']} {c['name']}" for c in report["checks"].values())
    return f"inference on {stats['rows']} videos; assumptions: {verdicts}"
