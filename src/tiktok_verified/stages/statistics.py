"""Stage statistics (statsmodels): the regression assumptions, each with its figures, rule and
verdict (metrics/assumptions.json), and the inference, an unpenalised fit on the training part
as split with standard errors, intervals, p-values and odds ratios (metrics/coefficients.json,
the odds-ratio plot data). Nothing here reads the predictor's params (`model.*`), so an
experiment on them does not rerun it."""

from __future__ import annotations

from tiktok_verified.stages import exit_with
from tiktok_verified.stages.dispatch import engine_module
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
    return engine_module(params, "statistics").run(args, params)


main = stage_main("statistics", "Assumptions and inference.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
