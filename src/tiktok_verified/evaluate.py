"""Evaluate: held-out metrics, the confusion matrix, and per-row predictions for `dvc plots`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import Pipeline

from tiktok_verified import model as model_lib
from tiktok_verified import schema
from tiktok_verified.config import ConfigError, Params, load_params
from tiktok_verified.io import write_json, write_with

LABELS = (schema.NEGATIVE, schema.POSITIVE)


def predict(pipeline: Pipeline, frame: pl.DataFrame, params: Params, threshold: float):
    proba = pipeline.predict_proba(model_lib.design(frame, params.features))[:, 1]
    return proba, (proba >= threshold).astype(np.int64)


def classification_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, pred, labels=[1], average=None, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision[0]),
        "recall": float(recall[0]),
        "f1": float(f1[0]),
        "rows": int(len(y)),
    }


def confusion(y: np.ndarray, pred: np.ndarray) -> dict:
    matrix = confusion_matrix(y, pred, labels=[0, 1])
    (tn, fp), (fn, tp) = matrix.tolist()
    return {
        "labels": list(LABELS),
        "matrix": matrix.tolist(),
        "rows_are": "actual",
        "columns_are": "predicted",
        "true_negative": tn,
        "false_positive": fp,
        "false_negative": fn,
        "true_positive": tp,
    }


def predictions_table(y: np.ndarray, pred: np.ndarray) -> pl.DataFrame:
    labels = np.asarray(LABELS)
    return pl.DataFrame({"actual": labels[y], "predicted": labels[pred]})


def evaluate(pipeline: Pipeline, train: pl.DataFrame, test: pl.DataFrame, params: Params):
    threshold = params.evaluate.threshold
    results = {}
    for name, frame in (("train", train), ("test", test)):
        y = model_lib.outcome(frame)
        _, pred = predict(pipeline, frame, params, threshold)
        results[name] = (y, pred)
    metrics = {
        "threshold": threshold,
        "resample": params.resample.strategy,
        **{split: classification_metrics(*results[split]) for split in ("train", "test")},
    }
    y_test, pred_test = results["test"]
    return metrics, confusion(y_test, pred_test), predictions_table(y_test, pred_test)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate the model on the held-out part.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--confusion", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
        pipeline = model_lib.load(args.model)
    except (ConfigError, model_lib.ModelFileError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 1
    metrics, matrix, predictions = evaluate(
        pipeline, pl.read_parquet(args.train), pl.read_parquet(args.test), params
    )
    write_json(args.metrics, metrics)
    write_json(args.confusion, matrix)
    write_with(args.predictions, lambda tmp: predictions.write_csv(tmp))
    t = metrics["test"]
    print(
        f"evaluate: test accuracy {t['accuracy']:.4f}, precision {t['precision']:.4f}, "
        f"recall {t['recall']:.4f} on {t['rows']} rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
