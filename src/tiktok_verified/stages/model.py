"""Stage model (scikit-learn): fit the predictor on the (resampled) training part and save it
(models/model.skops, metrics/predictor.json); cross-validate it on the training part as split,
resampling inside each fold (metrics/cv.json); evaluate it on the held-out part
(metrics/metrics.json, metrics/confusion_matrix.json, metrics/plots/*.csv).

One process for the three, so that an experiment on `model.*`, `resample.*` or `evaluate.*`
pays scikit-learn's import once, not three times (benchmarks/FINDINGS.md)."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.files import write_csv
from tiktok_verified.modeling import model_file
from tiktok_verified.modeling.fit import coefficient_table
from tiktok_verified.stages import exit_with
from tiktok_verified.stages.dispatch import engine_module
from tiktok_verified.stages.runner import stage_main

PATHS = {
    "train": "training part, resampled: distinct rows with a weight column (parquet)",
    "train-original": "training part, as split (parquet)",
    "test": "held-out part (parquet)",
    "model": "model file (skops)",
    "predictor": "the fitted predictor's coefficients (JSON)",
    "cv": "cross-validation (JSON)",
    "metrics": "held-out metrics (JSON)",
    "confusion": "confusion matrix (JSON)",
    "plots-dir": "folder for the plot data (CSV)",
}


def body(args, params) -> str:
    pipeline, info, cv, evaluated = engine_module(params, "model").run(args, params)
    metrics, matrix, predictions, curves = evaluated
    model_file.save(pipeline, args.model)
    contracts.write(
        args.predictor, {"predictor": {**info, **coefficient_table(pipeline)}}, "predictor.json"
    )
    contracts.write(args.cv, cv, "cv.json")
    write_csv(args.plots_dir / "predictions.csv", predictions)
    for name, frame in curves.items():
        write_csv(args.plots_dir / f"{name}.csv", frame)
    contracts.write(args.confusion, matrix, "confusion_matrix.json")
    contracts.write(args.metrics, metrics, "metrics.json")
    t = metrics["test"]
    return (
        f"fitted on {info['train_rows']} rows (converged={info['converged']}); CV ROC AUC "
        f"{cv['mean']['roc_auc']:.4f} ± {cv['std']['roc_auc']:.4f}; held out: accuracy "
        f"{t['accuracy']:.4f}, precision {t['precision']:.4f}, recall {t['recall']:.4f}, "
        f"ROC AUC {t['roc_auc']:.4f} on {t['rows']} rows"
    )


main = stage_main("model", "Fit, cross-validate and evaluate the predictor.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
