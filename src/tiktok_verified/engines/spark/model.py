"""The model stage on Spark: MLlib's `LogisticRegression` with scikit-learn's penalty, held-out
metrics, the confusion matrix, the baselines, calibration and the curves computed in Spark,
cross-validation on stratified folds; the fitted model saved as the scikit-learn Pipeline it
equals, so the model file, the report and the notebook are the same for both engines.

The penalty, mapped: scikit-learn minimises C·Σw·loss + l1_ratio·‖β‖₁ + (1 − l1_ratio)/2·‖β‖²
over the standardized columns (mean and population SD, weighted); dividing by C·Σw gives
MLlib's (1/Σw)·Σw·loss + regParam·(α‖β‖₁ + (1 − α)/2·‖β‖²) with
**regParam = 1 / (C·Σw)** and **elasticNetParam = l1_ratio**, fitted here on the same
standardized columns with `standardization=False` (MLlib's own standardization divides by the
unbiased SD, which would shift the penalty by a factor n/(n − 1))."""

from __future__ import annotations

import math

import numpy as np

from tiktok_verified.config import Params
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.engines.spark.inference import design_exprs
from tiktok_verified.modeling.calibration import AUDIT_RECALL, CALIBRATED_GRID, PER
from tiktok_verified.modeling.metrics import THRESHOLD_GRID

EPS = np.finfo(np.float64).eps


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
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    exprs = dict(design_exprs(params.features))
    names = list(exprs)
    means, scales = scaler(frame, names, exprs, params.model.standardize)
    rows = frame.select(
        Y,
        WEIGHT,
        *[((exprs[n] - m) / s).alias(n) for n, m, s in zip(names, means, scales, strict=True)],
    )
    rows = VectorAssembler(inputCols=names, outputCol="features").transform(rows)
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
        tol=1e-10,
        family="binomial",
    ).fit(rows)
    return model, names, means, scales, total


def as_sklearn(model, names, means, scales, total, params: Params):
    """The scikit-learn Pipeline that predicts what the MLlib model predicts."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from tiktok_verified.modeling.fit import build_pipeline

    pipeline = build_pipeline(params.features, params.model, params.base.seed, None)
    scale, classify = pipeline.named_steps["scale"], pipeline.named_steps["classify"]
    feature_names = np.array(names, dtype=object)
    for step in (scale, classify):
        step.n_features_in_, step.feature_names_in_ = len(names), feature_names
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
    return pipeline


def scored(frame, fitted, cfg):
    """Rows with `p`, the model's probability of verified, and the label."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    model, names, means, scales, _ = fitted
    exprs = dict(design_exprs(cfg))
    keep = [c for c in ("claim_status",) if c in frame.columns]
    rows = frame.select(
        Y,
        *keep,
        *[((exprs[n] - m) / s).alias(n) for n, m, s in zip(names, means, scales, strict=True)],
    )
    rows = VectorAssembler(inputCols=names, outputCol="features").transform(rows)
    out = model.transform(rows).select(Y, *keep, vector_to_array("probability")[1].alias("p"))
    return out.withColumn("p", F.col("p").cast("double"))


def counts(frame, flag) -> dict:
    from pyspark.sql import functions as F

    y = F.col(Y) == 1
    row = frame.select(
        F.sum((y & flag).cast("long")).alias("tp"),
        F.sum((~y & flag).cast("long")).alias("fp"),
        F.sum((y & ~flag).cast("long")).alias("fn"),
        F.sum((~y & ~flag).cast("long")).alias("tn"),
    ).first()
    return {k: int(row[k] or 0) for k in ("tp", "fp", "fn", "tn")}


def classification(c: dict) -> dict:
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    n = tp + fp + fn + tn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    present = [
        r for r, d in ((tn / (tn + fp) if tn + fp else None, tn + fp), (recall, tp + fn)) if d
    ]
    return {
        "accuracy": (tp + tn) / n,
        "balanced_accuracy": float(np.mean(present)),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "rows": n,
    }


def ranking(frame, score: str = "p") -> dict:
    """ROC AUC (ties count one half), average precision (scikit-learn's definition), log loss
    and Brier score, exactly, from one aggregation per distinct score."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by = frame.groupBy(score).agg(F.sum(F.col(Y)).alias("pos"), F.sum(1 - F.col(Y)).alias("neg"))
    down = Window.orderBy(F.col(score).desc()).rowsBetween(Window.unboundedPreceding, 0)
    cum = by.select(
        score,
        "pos",
        "neg",
        F.sum("pos").over(down).alias("tp"),
        F.sum("neg").over(down).alias("fp"),
    ).toPandas()
    P, N = cum["pos"].sum(), cum["neg"].sum()
    # AUC: each positive beats the negatives below it, half the tied ones.
    below = N - cum["fp"]
    auc = float((cum["pos"] * (below + cum["neg"] / 2)).sum() / (P * N))
    precision = cum["tp"] / (cum["tp"] + cum["fp"])
    ap = float((cum["pos"] / P * precision).sum())
    p = F.least(F.greatest(F.col(score), F.lit(EPS)), F.lit(1 - EPS))
    row = frame.select(
        F.mean(-(F.col(Y) * F.log(p) + (1 - F.col(Y)) * F.log(1 - p))).alias("ll"),
        F.mean((F.col(score) - F.col(Y)) ** 2).alias("brier"),
    ).first()
    return {"roc_auc": auc, "average_precision": ap, "log_loss": row["ll"], "brier": row["brier"]}


def all_metrics(frame, threshold: float, score: str = "p") -> dict:
    from pyspark.sql import functions as F

    return {**classification(counts(frame, F.col(score) >= threshold)), **ranking(frame, score)}


def prior_shift(fitted_share: float, true_share: float) -> float:
    return math.log(true_share / (1 - true_share)) - math.log(fitted_share / (1 - fitted_share))


def calibrated(frame, shift: float):
    from pyspark.sql import functions as F

    p = F.least(F.greatest(F.col("p"), F.lit(1e-15)), F.lit(1 - 1e-15))
    return frame.withColumn("q", 1 / (1 + F.exp(-(F.log(p / (1 - p)) + F.lit(shift)))))


def at_threshold(frame, threshold: float, score: str = "q") -> dict:
    from pyspark.sql import functions as F

    c = counts(frame, F.col(score) >= threshold)
    m, n = classification(c), sum(c.values())
    return {
        "threshold": threshold,
        "precision": m["precision"],
        "recall": m["recall"],
        "flagged_per_10k": PER * (c["tp"] + c["fp"]) / n,
        "hits_per_10k": PER * c["tp"] / n,
        "misses_per_10k": PER * c["fn"] / n,
    }


def threshold_row(frame, threshold: float) -> dict:
    from pyspark.sql import functions as F

    c = counts(frame, F.col("p") >= threshold)
    m = classification(c)
    return {
        "threshold": threshold,
        "precision": m["precision"],
        "recall": m["recall"],
        "f1": m["f1"],
        "flagged_share": (c["tp"] + c["fp"]) / m["rows"],
    }


def curve_tables(frame) -> dict:
    """ROC, precision-recall and the threshold table of the held-out part, from one
    aggregation per distinct probability (collected: one row per distinct value)."""
    import polars as pl
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.metrics import _thin

    cum = (
        frame.groupBy("p")
        .agg(F.sum(F.col(Y)).alias("pos"), F.sum(1 - F.col(Y)).alias("neg"))
        .orderBy(F.col("p").desc())
        .toPandas()
    )
    tp, fp = cum["pos"].cumsum().to_numpy(), cum["neg"].cumsum().to_numpy()
    P, N = tp[-1], fp[-1]
    p = cum["p"].to_numpy()
    roc = pl.DataFrame(
        {"fpr": np.r_[0, fp / N], "tpr": np.r_[0, tp / P], "threshold": np.r_[1.0, p]}
    )
    pr = pl.DataFrame(
        {
            "recall": np.r_[tp / P, 0][::-1],
            "precision": np.r_[tp / (tp + fp), 1][::-1],
            "threshold": np.r_[p, 1.0][::-1],
        }
    )
    return {"roc": _thin(roc), "precision_recall": _thin(pr)}


def evaluate(fitted, train, test, params: Params):
    """metrics.json, confusion_matrix.json, predictions and curves, as the local engine's."""
    import polars as pl
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.metrics import LABELS, fitted_share

    cfg, t = params.features, params.evaluate.threshold
    tr, te = scored(train, fitted, cfg), scored(test, fitted, cfg)
    share = tr.agg(F.mean(Y)).first()[0]
    fit_share = fitted_share(params.resample.strategy, np.array([share]))
    metrics = {
        "threshold": t,
        "resample": params.resample.strategy,
        "train": all_metrics(tr, t),
        "test": all_metrics(te, t),
        "no_skill": {"test": all_metrics(te.withColumn("c", F.lit(share)), t, "c")},
    }
    c = counts(te, F.col("p") >= t)
    if "claim_status" in test.columns:
        opinion = F.col("claim_status") == "opinion"
        rule = te.withColumn("o", opinion.cast("double"))
        agree = te.filter((F.col("p") >= t) == opinion).count()
        metrics["opinion_rule"] = {
            "test": {
                **classification(counts(rule, opinion)),
                "roc_auc": ranking(rule, "o")["roc_auc"],
                "agrees_with_model": agree,
            }
        }
    else:
        metrics["opinion_rule"] = {"test": None}
    shift = prior_shift(fit_share, share)
    q_tr, q_te = calibrated(tr, shift), calibrated(te, shift)
    for part, q in (("train", q_tr), ("test", q_te)):
        r = ranking(q, "q")
        metrics[part]["log_loss_prior_corrected"] = r["log_loss"]
        metrics[part]["brier_prior_corrected"] = r["brier"]
    fits = [g for g in CALIBRATED_GRID if at_threshold(q_tr, g)["recall"] >= AUDIT_RECALL]
    chosen = max(fits) if fits else CALIBRATED_GRID[0]
    metrics["calibration"] = {
        "fitted_share": fit_share,
        "true_share": share,
        "recommended": {
            "use": "bias audit of the claims classifier: find at least 80% of the videos by "
            "verified authors, flagging as few videos as possible",
            "chosen_on": "training part, as split",
            "threshold": chosen,
            "train": at_threshold(q_tr, chosen),
            "test": at_threshold(q_te, chosen),
        },
    }
    matrix = {
        "labels": list(LABELS),
        "matrix": [[c["tn"], c["fp"]], [c["fn"], c["tp"]]],
        "rows_are": "actual",
        "columns_are": "predicted",
        "true_negative": c["tn"],
        "false_positive": c["fp"],
        "false_negative": c["fn"],
        "true_positive": c["tp"],
    }
    labels = te.select(
        F.when(F.col(Y) == 1, LABELS[1]).otherwise(LABELS[0]).alias("actual"),
        F.when(F.col("p") >= t, LABELS[1]).otherwise(LABELS[0]).alias("predicted"),
    )
    predictions = pl.from_arrow(labels.toArrow())
    grid = sorted({*THRESHOLD_GRID, t})
    curves = curve_tables(te)
    curves["thresholds"] = pl.DataFrame([threshold_row(te, g) for g in grid])
    curves["calibration_raw"] = calibration_curve(te, "p")
    curves["calibration"] = calibration_curve(q_te, "q")
    curves["calibrated_thresholds"] = pl.DataFrame([at_threshold(q_te, g) for g in CALIBRATED_GRID])
    return metrics, matrix, predictions, curves


def calibration_curve(frame, score: str, bins: int = 10):
    """Observed verified share against the mean probability in `bins` bins of equal counts
    (edges: exact quantiles of the scores)."""
    import polars as pl
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F

    edges = frame.approxQuantile(score, [k / bins for k in range(bins + 1)], 0.0)
    edges = sorted(set(edges))
    edges[0], edges[-1] = -float("inf"), float("inf")
    binned = Bucketizer(splits=edges, inputCol=score, outputCol="bin").transform(frame)
    rows = binned.groupBy("bin").agg(F.mean(score).alias("predicted"), F.mean(Y).alias("observed"))
    return pl.from_arrow(rows.orderBy("bin").select("predicted", "observed").toArrow())


def cross_validate(spark, train, params: Params) -> dict:
    """Stratified k-fold CV on the training part as split (≤ cv_max_rows, sampled), the
    resampling weights computed inside each fold's fitting rows only."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from tiktok_verified.engines.spark.data import _weights

    cfg, k, seed = params.evaluate, params.evaluate.cv_folds, params.base.seed
    total = train.count()
    data = (
        train.sampleBy(
            Y, {0: min(1.0, cfg.cv_max_rows / total), 1: min(1.0, cfg.cv_max_rows / total)}, seed
        )
        if total > cfg.cv_max_rows
        else train
    )  # noqa: E501
    order = Window.partitionBy(Y).orderBy(F.rand(seed))
    data = data.withColumn("fold", (F.row_number().over(order) - 1) % k).cache()
    strategy = "upsample" if params.resample.strategy == "exemplar" else params.resample.strategy
    per_fold = []
    for f in range(k):
        fit_rows = _weights(data.filter(F.col("fold") != f).drop(WEIGHT), strategy)
        val = data.filter(F.col("fold") == f)
        fitted = fit(fit_rows, params)
        m = all_metrics(scored(val, fitted, params.features), cfg.threshold)
        per_fold.append(
            {
                "fold": f,
                "fit_rows": round(fitted[4]),
                "validation_rows": m["rows"],
                "validation_verified": val.filter(F.col(Y) == 1).count(),
                "converged": True,
                **m,
            }
        )
    names = [
        n
        for n in per_fold[0]
        if n
        not in ("fold", "fit_rows", "validation_rows", "validation_verified", "converged", "rows")
    ]
    return {
        "folds": k,
        "rows": data.count(),
        "subsampled_from": total if total > cfg.cv_max_rows else None,
        "resample_inside_folds": strategy,
        "threshold": cfg.threshold,
        "mean": {n: float(np.mean([f[n] for f in per_fold])) for n in names},
        "std": {n: float(np.std([f[n] for f in per_fold], ddof=1)) for n in names},
        "per_fold": per_fold,
        "engine": "spark",
    }
