"""Side by side: every resampling strategy on the same data, including the course exemplar's
upsample-before-split protocol, to show how much that protocol inflates the metrics.

    python -m tiktok_verified.tools.compare_resampling            # on data/interim/videos.parquet
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import polars as pl

from tiktok_verified.config import RESAMPLE_STRATEGIES, ConfigError, Params, load_params
from tiktok_verified.data.features import build_features
from tiktok_verified.modeling.evaluation import evaluate
from tiktok_verified.modeling.fit import fit
from tiktok_verified.modeling.split import make_split

COLUMNS = ("accuracy", "balanced_accuracy", "roc_auc", "recall", "precision")


def compare(videos: pl.DataFrame, params: Params, strategies=RESAMPLE_STRATEGIES) -> list[dict]:
    features = build_features(videos, params.features).collect()
    rows = []
    for strategy in strategies:
        p = dataclasses.replace(
            params, resample=dataclasses.replace(params.resample, strategy=strategy)
        )
        split = make_split(features, p)
        pipeline, _ = fit(split.train, p)
        metrics, *_ = evaluate(pipeline, split.train_original, split.test, p)
        rows.append(
            {
                "resample": strategy,
                "fit_rows": split.report["rows"]["train"],
                "test_rows": split.test.height,
                "test_rows_seen_in_training": split.report["test_rows_whose_video_is_in_train"],
                **{k: metrics["test"][k] for k in COLUMNS},
            }
        )
    return rows


def to_markdown(rows: list[dict]) -> str:
    header = ["resample", "fit rows", "test rows", "test rows seen in training", *COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append(
            f"| {r['resample']} | {r['fit_rows']:,} | {r['test_rows']:,} | "
            f"{r['test_rows_seen_in_training']:,} | "
            + " | ".join(f"{r[k]:.3f}" for k in COLUMNS)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=Path("data/interim/videos.parquet"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"compare_resampling: error: {exc}", file=sys.stderr)
        return 1
    if not args.videos.exists():
        print(
            f"compare_resampling: error: {args.videos} not found; run `make repro` first",
            file=sys.stderr,
        )
        return 1
    print(to_markdown(compare(pl.read_parquet(args.videos), params)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
