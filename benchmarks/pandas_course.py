"""The baseline: the course notebook's steps, written its way, in one pandas process.

    python benchmarks/pandas_course.py data/raw/tiktok_dataset.csv --json out.json

`pd.read_csv` of every column, `dropna`, `drop_duplicates`, IQR capping of the like and comment
counts with `quantile`, text length with `.str.len()`, `train_test_split(stratify=...)`,
`sklearn.utils.resample` upsampling of the minority class, `OneHotEncoder(drop='first')` on the
categoricals and the outcome, `LogisticRegression(max_iter=800)`, then predictions and the
confusion matrix on the held-out part.

Two departures from the notebook keep the work equal to the pipeline's, so that times compare
like with like: upsampling happens after the split (on the training part only, as the pipeline
does), and the predictors are the pipeline's `exemplar` feature set (the notebook's predictors
plus the transcription length), standardized when `params.yaml` says `model.standardize: true`
(`--standardize/--no-standardize`; the notebook does not scale, and lbfgs then needs hundreds
of iterations instead of about twenty). Prints and writes (``--json``) the time of each step.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import resample

NUMERIC = [
    "video_duration_sec",
    "video_view_count",
    "video_share_count",
    "video_download_count",
    "video_comment_count",
    "text_length",
]
CATEGORICAL = ["claim_status", "author_ban_status"]
OUTCOME = "verified_status"


class Steps:
    """Wall time of each named step, in order."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._t = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = now - self._t
        self._t = now


def run(csv: Path, standardize: bool, seed: int = 0, test_size: float = 0.25) -> dict:
    steps = Steps()
    data = pd.read_csv(csv)
    rows_read = len(data)
    steps.done("read_csv")

    data = data.dropna(axis=0)
    data = data.drop_duplicates()
    steps.done("dropna_drop_duplicates")

    # The notebook caps the like and comment counts at q3 + 1.5 IQR of the whole table.
    for column in ("video_like_count", "video_comment_count"):
        q1 = data[column].quantile(0.25)
        q3 = data[column].quantile(0.75)
        upper = q3 + 1.5 * (q3 - q1)
        data.loc[data[column] > upper, column] = upper
    steps.done("iqr_capping")

    data["text_length"] = data["video_transcription_text"].str.len()
    X = data[NUMERIC + CATEGORICAL]
    y = data[OUTCOME]
    steps.done("text_length_select")

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed
    )
    steps.done("train_test_split")

    train = pd.concat([X_train, y_train], axis=1)
    counts = train[OUTCOME].value_counts()
    majority = train[train[OUTCOME] == counts.index[0]]
    minority = train[train[OUTCOME] == counts.index[1]]
    minority_up = resample(minority, replace=True, n_samples=len(majority), random_state=seed)
    train = pd.concat([majority, minority_up]).reset_index(drop=True)
    X_train, y_train = train[NUMERIC + CATEGORICAL], train[OUTCOME]
    steps.done("upsample")

    encoder = OneHotEncoder(drop="first", sparse_output=False)
    scaler = StandardScaler() if standardize else None

    def design(frame: pd.DataFrame, fit: bool) -> pd.DataFrame:
        cats = frame[CATEGORICAL]
        encoded = encoder.fit_transform(cats) if fit else encoder.transform(cats)
        numeric = frame[NUMERIC].to_numpy(dtype=np.float64)
        if scaler is not None:
            numeric = scaler.fit_transform(numeric) if fit else scaler.transform(numeric)
        return pd.concat(
            [
                pd.DataFrame(numeric, columns=NUMERIC),
                pd.DataFrame(encoded, columns=encoder.get_feature_names_out()),
            ],
            axis=1,
        )

    y_encoder = OneHotEncoder(drop="first", sparse_output=False)
    X_train_final = design(X_train, fit=True)
    y_train_final = y_encoder.fit_transform(y_train.to_frame()).ravel()
    steps.done("encode_train")

    model = LogisticRegression(random_state=seed, max_iter=800).fit(X_train_final, y_train_final)
    steps.done("fit")

    X_test_final = design(X_test, fit=False)
    y_test_final = y_encoder.transform(y_test.to_frame()).ravel()
    y_pred = model.predict(X_test_final)
    matrix = confusion_matrix(y_test_final, y_pred)
    report = classification_report(y_test_final, y_pred, output_dict=True, zero_division=0)
    steps.done("predict_evaluate")

    return {
        "rows_read": rows_read,
        "rows_kept": int(len(data)),
        "train_rows_fitted": int(len(y_train_final)),
        "test_rows": int(len(y_test_final)),
        "standardize": standardize,
        "iterations": int(np.max(model.n_iter_)),
        "test_accuracy": float(report["accuracy"]),
        "confusion_matrix": matrix.tolist(),
        "steps_s": steps.times,
        "total_s": sum(steps.times.values()),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--json", type=Path, help="write the step times and results here")
    parser.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(args.csv, args.standardize, args.seed)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in result["steps_s"].items())
    print(
        f"pandas_course: {result['rows_kept']} rows kept, fit on {result['train_rows_fitted']}, "
        f"{result['iterations']} iterations, test accuracy {result['test_accuracy']:.4f}; {steps}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
