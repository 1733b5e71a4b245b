"""Cross-validation: stratified k-fold on the training part (as split), resampling applied
inside each fold's fitting rows only, so that no validation row is ever duplicated into fitting.
Reports each fold and the mean and spread of every metric."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedKFold

from tiktok_verified import evaluate, resample
from tiktok_verified.config import ConfigError, Params, load_params
from tiktok_verified.features import Y
from tiktok_verified.io import write_json
from tiktok_verified.model import fit
from tiktok_verified.split import stratified_sample


def fold_indices(y: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def cross_validate(train: pl.DataFrame, params: Params) -> dict:
    cfg = params.evaluate
    seed = params.base.seed
    data = stratified_sample(train, cfg.cv_max_rows, seed)
    y = data[Y].to_numpy()
    # Inside a fold the exemplar protocol cannot leak (its leak is upsampling before the
    # split), so it is cross-validated as plain upsampling of the fold's fitting rows.
    strategy = "upsample" if params.resample.strategy == "exemplar" else params.resample.strategy
    per_fold = []
    for k, (fit_idx, val_idx) in enumerate(fold_indices(y, cfg.cv_folds, seed)):
        fit_rows = resample.apply(data[fit_idx], strategy, seed + k)
        pipeline, info = fit(fit_rows, params)
        val = data[val_idx]
        proba = evaluate.predict_proba(pipeline, val, params)
        per_fold.append(
            {
                "fold": k,
                "fit_rows": fit_rows.height,
                "validation_rows": val.height,
                "validation_verified": int(val[Y].sum()),
                "converged": info["converged"],
                **evaluate.all_metrics(val[Y].to_numpy(), proba, cfg.threshold),
            }
        )
    names = [
        k
        for k in per_fold[0]
        if k
        not in ("fold", "fit_rows", "validation_rows", "validation_verified", "converged", "rows")
    ]
    return {
        "folds": cfg.cv_folds,
        "rows": data.height,
        "subsampled_from": train.height if data.height < train.height else None,
        "resample_inside_folds": strategy,
        "threshold": cfg.threshold,
        "mean": {n: float(np.mean([f[n] for f in per_fold])) for n in names},
        "std": {n: float(np.std([f[n] for f in per_fold], ddof=1)) for n in names},
        "per_fold": per_fold,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stratified k-fold CV on the training part.")
    parser.add_argument("--train", type=Path, required=True, help="training part, as split")
    parser.add_argument("--report", type=Path, required=True)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
    except ConfigError as exc:
        print(f"crossval: error: {exc}", file=sys.stderr)
        return 1
    report = cross_validate(pl.read_parquet(args.train), params)
    write_json(args.report, report)
    m, s = report["mean"], report["std"]
    print(
        f"crossval: {report['folds']} folds, ROC AUC {m['roc_auc']:.4f} ± {s['roc_auc']:.4f}, "
        f"recall {m['recall']:.4f} ± {s['recall']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
