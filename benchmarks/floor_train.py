"""The floor's one stage (benchmarks/floor.py copies it into a one-stage DVC project as
train.py): the project's fit on the same parquet parts, and nothing else. scikit-learn's
StandardScaler + LogisticRegression (the project's solver, tolerance and iterations, C from
params.yaml, each training video once with its copies as a frequency weight), then held-out
metrics and the confusion matrix as JSON."""

from __future__ import annotations

import json

import polars as pl
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

NUMERIC = [
    "video_duration_sec",
    "video_view_count",
    "video_share_count",
    "video_download_count",
    "video_comment_count",
    "text_length",
]
DESIGN = [
    *(pl.col(c).cast(pl.Float64) for c in NUMERIC),
    (pl.col("claim_status") == "opinion").cast(pl.Float64).alias("opinion"),
    (pl.col("author_ban_status") == "under review").cast(pl.Float64).alias("under_review"),
    (pl.col("author_ban_status") == "banned").cast(pl.Float64).alias("banned"),
]


def main() -> None:
    with open("params.yaml") as f:
        params = yaml.safe_load(f)["model"]
    train = pl.read_parquet("data/train.parquet")
    test = pl.read_parquet("data/test.parquet")
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "classify",
                LogisticRegression(C=params["C"], solver="newton-cholesky", tol=1e-8, max_iter=800),
            ),
        ]
    )
    model.fit(
        train.select(DESIGN).to_numpy(),
        train["y"].to_numpy(),
        classify__sample_weight=train["weight"].to_numpy(),
    )
    y = test["y"].to_numpy()
    p = model.predict_proba(test.select(DESIGN).to_numpy())[:, 1]
    flag = (p >= 0.5).astype(int)
    metrics = {
        "test": {
            "accuracy": round(accuracy_score(y, flag), 6),
            "precision": round(precision_score(y, flag, zero_division=0), 6),
            "recall": round(recall_score(y, flag), 6),
            "roc_auc": round(roc_auc_score(y, p), 6),
            "log_loss": round(log_loss(y, p), 6),
        },
        "C": params["C"],
    }
    with open("metrics.json", "w") as f:
        json.dump(metrics, f, indent=2)
    with open("confusion_matrix.json", "w") as f:
        json.dump({"matrix": confusion_matrix(y, flag).tolist()}, f)


if __name__ == "__main__":
    main()
