"""The model stage on Spark: MLlib's `LogisticRegression` with scikit-learn's penalty, held-out
The fitted model is saved as the scikit-learn Pipeline it equals, so the model file, the
report and the notebook are the same for both engines.

Evaluation: Spark scores every row and reduces each part to cells, one per (label, opinion
video or not, probability) with its number of videos; the cells are collected and every metric,
curve, baseline and the confusion matrix is computed by the local engine's code
(`modeling.evaluation`) with the counts as scikit-learn's `sample_weight`, so the two engines
cannot differ in definitions. Cells are exact up to `EXACT_ROWS` rows a part; above that the
probability is floored to a multiple of `CELL` (at most 10⁶ values), which keeps every count at
the decision thresholds exact (they are multiples of `CELL`) and moves threshold-free metrics by
less than the cell width.

Cross-validation fits ≤ `evaluate.cv_max_rows` rows (the local engine's cap): a stratified
sample of that size is collected and cross-validated by `modeling.crossval`, marked so.

The penalty, mapped: scikit-learn minimises C·Σw·loss + l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖²
over the standardized columns (mean and population SD, weighted); dividing by C·Σw gives
MLlib's (1/Σw)·Σw·loss + regParam·(α‖β‖₁ + (1 − α)/2·‖β‖²) with
**regParam = 1 / (C·Σw)** and **elasticNetParam = l1_ratio**, fitted here on the same
standardized columns with `standardization=False` (MLlib's own standardization divides by the
unbiased SD, which would shift the penalty by a factor n/(n − 1))."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from tiktok_verified.config import Params
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.engines.spark.inference import assembled, design_exprs

EXACT_ROWS = 5_000_000
CELL = 1e-6
#: MLlib's convergence tolerance (relative change of the loss); see `fit`.
TOL = 1e-9


def reg_param(C: float, total_weight: float, penalized: bool) -> float:
    return 1.0 / (C * total_weight) if penalized else 0.0


def scaler(frame, names: list[str], exprs: dict, standardize: bool) -> tuple[list, list]:
    """Weighted means and population SDs of the design columns (scikit-learn's scaler)."""
    from pyspark.sql import functions as F

    if not standardize:
        return [0.0] * len(names), [1.0] * len(names)
    w = F.col(WEIGHT)
    row = frame.select(
        F.sum(w).alias("W"),
        *[F.sum(w * exprs[n]).alias(f"s{j}") for j, n in enumerate(names)],
        *[F.sum(w * exprs[n] * exprs[n]).alias(f"q{j}") for j, n in enumerate(names)],
    ).first()
    means = [row[f"s{j}"] / row["W"] for j in range(len(names))]
    sds = [math.sqrt(max(row[f"q{j}"] / row["W"] - means[j] ** 2, 0.0)) for j in range(len(names))]
    return means, [s if s > 0 else 1.0 for s in sds]


def fit(frame, params: Params):
    """(MLlib model, names, means, scales, total weight) on rows with a weight column."""
    from pyspark.ml.classification import LogisticRegression
    from pyspark.sql import functions as F

    exprs = dict(design_exprs(params.features))
    names = list(exprs)
    means, scales = scaler(frame, names, exprs, params.model.standardize)
    if params.resample.strategy == "class_weight":  # scikit-learn's "balanced", in the loss
        counts = dict(frame.groupBy(Y).agg(F.sum(WEIGHT)).collect())
        n = sum(counts.values())
        balanced = {k: n / (2 * v) for k, v in counts.items()}
        w = F.when(F.col(Y) == 1, balanced[1]).otherwise(balanced[0])
        frame = frame.withColumn(WEIGHT, F.col(WEIGHT) * w)
    rows, _ = assembled(frame, params.features, names, [Y, WEIGHT], means, scales)
    total = rows.agg(F.sum(WEIGHT)).first()[0]
    m = params.model
    model = LogisticRegression(
        labelCol=Y,
        featuresCol="features",
        weightCol=WEIGHT,
        standardization=False,
        regParam=reg_param(m.C, total, m.penalized),
        elasticNetParam=m.l1_ratio,
        maxIter=max(m.max_iter, 100),
        tol=TOL,
        family="binomial",
    ).fit(rows)
    return model, names, means, scales, total


def as_sklearn(model, names, means, scales, total, params: Params):
    """The scikit-learn Pipeline that predicts what the MLlib model predicts."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from tiktok_verified.modeling.fit import build_pipeline, settle

    pipeline = build_pipeline(params.features, params.model, params.base.seed, None)
    scale, classify = pipeline.named_steps["scale"], pipeline.named_steps["classify"]
    feature_names = np.array(names, dtype=object)
    # As fitting on a polars frame leaves them: the scaler knows the names, the classifier
    # (which sees the scaler's numpy output) only their number.
    scale.n_features_in_, scale.feature_names_in_ = len(names), feature_names
    classify.n_features_in_ = len(names)
    scale.n_samples_seen_ = np.int64(round(total))
    if params.model.standardize:
        scale.mean_, scale.scale_ = np.array(means), np.array(scales)
        scale.var_ = scale.scale_**2
    else:
        scale.mean_ = scale.scale_ = scale.var_ = None
    classify.classes_ = np.array([0, 1])
    classify.coef_ = model.coefficients.toArray().reshape(1, -1)
    classify.intercept_ = np.array([model.intercept])
    classify.n_iter_ = np.array([model.summary.totalIterations], dtype=np.int32)
    assert isinstance(pipeline, Pipeline) and isinstance(scale, StandardScaler)
    assert isinstance(classify, LogisticRegression)
    return settle(pipeline)


def cells(frame, pipeline, cfg, rows: int):
    """The part's videos as cells (label, opinion flag, probability) -> number of videos,
    scored with the saved model's (settled) numbers, as scikit-learn scores the local engine's
    rows: p = 1 / (1 + exp(-(b0 + sum_j b_j (x_j - mean_j) / scale_j)))."""
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.evaluation import Scored
    from tiktok_verified.modeling.fit import feature_names

    scale, classify = pipeline.named_steps["scale"], pipeline.named_steps["classify"]
    names = feature_names(pipeline)
    centre = scale.mean_ if scale.mean_ is not None else np.zeros(len(names))
    spread = scale.scale_ if scale.scale_ is not None else np.ones(len(names))
    exprs = dict(design_exprs(cfg))
    eta = F.lit(float(classify.intercept_[0]))
    for name, b, m, s in zip(names, classify.coef_[0], centre, spread, strict=True):
        eta = eta + F.lit(float(b)) * ((exprs[name] - F.lit(float(m))) / F.lit(float(s)))
    opinion = "claim_status" in frame.columns
    flag = [(F.col("claim_status") == "opinion").cast("long").alias("opinion")] if opinion else []
    scored = frame.select(
        F.col(Y).cast("long").alias("y"),
        *flag,
        (F.lit(1.0) / (F.lit(1.0) + F.exp(-eta))).alias("p"),
    )
    if rows > EXACT_ROWS:
        scored = scored.withColumn("p", F.floor(F.col("p") / CELL) * CELL)
    keys = ["y", *(["opinion"] if opinion else []), "p"]
    table = pl.from_arrow(scored.groupBy(*keys).count().toArrow()).sort(keys)
    return Scored(
        table["y"].to_numpy(),
        table["p"].to_numpy(),
        table["count"].to_numpy(),
        table["opinion"].to_numpy() if opinion else None,
    )


def cv_sample(frame, params: Params) -> tuple[pl.DataFrame, int]:
    """A stratified sample of the training part (as split) a little above
    `evaluate.cv_max_rows` rows (`modeling.crossval` cuts it to exactly that), collected; and
    how many rows the part has."""

    cap, seed = params.evaluate.cv_max_rows, params.base.seed
    counts = dict(frame.groupBy(Y).count().collect())
    total = sum(counts.values())
    if total > cap:
        fraction = min(1.0, 1.02 * cap / total)  # 9 SDs of margin at 200k rows
        frame = frame.sampleBy(Y, {k: fraction for k in counts}, seed)
    return pl.from_arrow(frame.drop(WEIGHT).toArrow()), total


def results(spark, args, params: Params):
    """(pipeline, predictor info, cv, evaluation) as the local model stage computes them."""
    from tiktok_verified.modeling.crossval import cross_validate
    from tiktok_verified.modeling.evaluation import evaluate_scored

    frames = {}
    for part, path in (
        ("train", args.train),
        ("original", args.train_original),
        ("test", args.test),
    ):
        frames[part] = spark.read.parquet(str(path))
    fitted = fit(frames["train"], params)
    model, total = fitted[0], fitted[4]
    pipeline = as_sklearn(*fitted, params)
    sample, rows = cv_sample(frames["original"], params)  # counts the part on the way
    split_rows = {"original": rows, "test": frames["test"].count()}
    scored = {
        part: cells(frames[part], pipeline, params.features, split_rows[part])
        for part in split_rows
    }
    cv = cross_validate(sample, params)
    cv["subsampled_from"] = rows if rows > params.evaluate.cv_max_rows else None
    cv["computed_on"] = (
        f"a stratified sample of {cv['rows']} rows collected from Spark, fitted with "
        "scikit-learn (the local engine's cap, evaluate.cv_max_rows)"
        if cv["subsampled_from"]
        else "every row of the training part (collected from Spark), fitted with scikit-learn"
    )
    m = params.model
    info = {
        "model": m.name,
        "C": m.C if m.penalized else None,
        "l1_ratio": m.l1_ratio,
        "solver": "spark " + ("owlqn" if m.penalized and m.l1_ratio > 0 else "lbfgs"),
        "resample": params.resample.strategy,
        "class_weight": "balanced" if params.resample.strategy == "class_weight" else None,
        "train_rows": round(total),
        "distinct_rows": frames["train"].count(),
        "iterations": model.summary.totalIterations,
        "converged": model.summary.totalIterations < max(m.max_iter, 100),
        "engine": "spark",
        "reg_param": reg_param(m.C, total, m.penalized),
    }
    return pipeline, info, cv, evaluate_scored(scored["original"], scored["test"], params)


def run(args, params: Params):
    """The model stage's body on Spark: `results` in a session of the configured engine."""
    from tiktok_verified.engines.spark.session import session

    with session(params.engine, "model", inputs=[args.train, args.test]) as spark:
        return results(spark, args, params)
