"""Cross-validation: stratified k-fold on the training part (as split), resampling applied
inside each fold's fitting rows only, so that no validation row is ever duplicated into fitting.
Reports each fold and the mean and spread of every metric."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedKFold

from tiktok_verified.config import Params
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import metrics, resampling
from tiktok_verified.modeling.fit import fit
from tiktok_verified.modeling.split import stratified_sample


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
        fit_rows = resampling.apply(data[fit_idx], strategy, seed + k)
        pipeline, info = fit(fit_rows, params)
        val = data[val_idx]
        proba = metrics.predict_proba(pipeline, val, params)
        per_fold.append(
            {
                "fold": k,
                "fit_rows": fit_rows.height,
                "validation_rows": val.height,
                "validation_verified": int(val[Y].sum()),
                "converged": info["converged"],
                **metrics.all_metrics(val[Y].to_numpy(), proba, cfg.threshold),
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
