"""Stage evaluate: the saved model on the held-out part: metrics beyond accuracy, the confusion
matrix, the no-skill reference, and the plot data (metrics/metrics.json,
metrics/confusion_matrix.json, metrics/plots/*.csv)."""

from __future__ import annotations

import sys

import polars as pl

from tiktok_verified.files import write_csv, write_json
from tiktok_verified.modeling import model_file
from tiktok_verified.modeling.metrics import evaluate
from tiktok_verified.stages.runner import run_stage

PATHS = {
    "model": "model file (skops)",
    "train": "training part, as split (parquet)",
    "test": "held-out part (parquet)",
    "metrics": "held-out metrics (JSON)",
    "confusion": "confusion matrix (JSON)",
    "plots-dir": "folder for the plot data (CSV)",
}


def body(args, params) -> str:
    pipeline = model_file.load(args.model)
    metrics, matrix, predictions, curves = evaluate(
        pipeline, pl.read_parquet(args.train), pl.read_parquet(args.test), params
    )
    write_csv(args.plots_dir / "predictions.csv", predictions)
    for name, frame in curves.items():
        write_csv(args.plots_dir / f"{name}.csv", frame)
    write_json(args.confusion, matrix)
    write_json(args.metrics, metrics)
    t = metrics["test"]
    return (
        f"test accuracy {t['accuracy']:.4f}, precision {t['precision']:.4f}, "
        f"recall {t['recall']:.4f}, ROC AUC {t['roc_auc']:.4f} on {t['rows']} rows"
    )


def main(argv: list[str] | None = None) -> int:
    return run_stage("evaluate", "Evaluate the model on the held-out part.", body, PATHS, argv)


if __name__ == "__main__":
    sys.exit(main())
