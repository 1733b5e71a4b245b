"""Stage train: fit the scikit-learn predictor on the (resampled) training part and save it
(models/model.skops); add the statistical inference, statsmodels on the training rows as split,
to its report (metrics/coefficients.json) and the odds-ratio plot data."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.data.schema import WEIGHT
from tiktok_verified.files import write_csv, write_json
from tiktok_verified.modeling import inference, model_file
from tiktok_verified.modeling.fit import coefficient_table, fit
from tiktok_verified.modeling.resampling import as_weighted
from tiktok_verified.stages.runner import run_stage

PATHS = {
    "train": "training part, resampled (parquet)",
    "train-original": "training part as split (parquet)",
    "model": "model file (skops)",
    "report": "coefficients and inference (JSON)",
    "plot": "odds ratios for `dvc plots` (CSV)",
}


def body(args, params) -> str:
    original = pl.read_parquet(args.train_original)
    rows = as_weighted(pl.read_parquet(args.train))  # distinct rows, copies as a weight
    pipeline, info = fit(rows, params)
    stats = inference.coefficient_inference(original, params.features)
    if rows.height != original.height or rows[WEIGHT].max() != 1:
        # The same unpenalised fit on the fitting rows (copies as frequency weights).
        on_fitting_rows = inference.coefficient_inference(
            rows, params.features, weights=rows[WEIGHT].to_numpy()
        )
        stats["resampled_rows_comparison"] = inference.resampled_rows_comparison(
            stats, on_fitting_rows
        )
    model_file.save(pipeline, args.model)
    write_json(
        args.report,
        {
            "predictor": {**info, **coefficient_table(pipeline)},
            "inference": stats,
            "strongest": inference.strongest(stats),
        },
    )
    write_csv(args.plot, inference.plot_rows(stats))
    return (
        f"{info['train_rows']} rows, {info['iterations']} iterations, "
        f"converged={info['converged']}"
    )


def main(argv: list[str] | None = None) -> int:
    return run_stage("train", "Fit the logistic regression.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
