"""The statistics stage on Spark: the unpenalised logit's estimates, standard errors, 95%
intervals and p-values from MLlib's `GeneralizedLinearRegression` (binomial, logit), the same
fit with the resampled rows' weights, and the associations' joint and marginal fits; the
regression assumptions and the specification comparison, which have no Spark counterpart, on a
stratified sample of at most 200k training rows collected to this machine (marked so)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2, norm

from tiktok_verified.config import Features
from tiktok_verified.data import schema
from tiktok_verified.data.schema import WEIGHT, Y
from tiktok_verified.modeling import design as local_design
from tiktok_verified.modeling import inference as local_inference

Z_95 = norm.ppf(0.975)


def design_exprs(cfg: Features) -> list:
    """(name, Spark column) of each design column, as modeling.design builds them."""
    from pyspark.sql import functions as F

    out = [
        (name, (F.col(c) == level).cast("double"))
        for name, c, level in local_design.dummy_columns(cfg)
    ]
    for c in (*cfg.numeric, *cfg.text):
        x = F.col(c).cast("double")
        name = local_design.numeric_name(cfg, c)
        out.append((name, F.log1p(x) if name != c else x))
    exprs = dict(out)
    for name, x in local_design.interaction_columns(cfg):
        out.append((name, exprs[local_design.OPINION] * exprs[x]))
    return out


def assembled(
    frame,
    cfg: Features,
    names: list[str] | None = None,
    keep: list | None = None,
    centre: list[float] | None = None,
    scale: list[float] | None = None,
):
    """Rows with a `features` vector of the design columns (all, or `names`; each centred and
    scaled when `centre`/`scale` are given) and `keep` (default: the label, and the weight
    where there is one)."""
    from pyspark.ml.feature import VectorAssembler

    exprs = dict(design_exprs(cfg))
    names = names or list(exprs)
    if keep is None:
        keep = [Y] + ([WEIGHT] if WEIGHT in frame.columns else [])
    centre = centre or [0.0] * len(names)
    scale = scale or [1.0] * len(names)
    columns = [((exprs[n] - m) / s).alias(n) for n, m, s in zip(names, centre, scale, strict=True)]
    rows = frame.select(*keep, *columns)
    return VectorAssembler(inputCols=names, outputCol="features").transform(rows), names


def design_frame(frame, cfg: Features):
    """The design columns (named as modeling.design names them), the label and the weight
    where there is one, persisted: every fit and summary below passes over it several times
    (the caller unpersists it)."""
    exprs = design_exprs(cfg)
    keep = [Y] + ([WEIGHT] if WEIGHT in frame.columns else [])
    return frame.select(*keep, *[x.alias(n) for n, x in exprs]).persist(), [n for n, _ in exprs]


def glm(frame, cfg: Features, names: list[str] | None = None, weighted: bool = False):
    """MLlib's binomial GLM on `frame`'s design columns (a `design_frame`), all or `names`."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import GeneralizedLinearRegression

    names = names or [n for n, _ in design_exprs(cfg)]
    rows = VectorAssembler(inputCols=names, outputCol="features").transform(frame)
    model = GeneralizedLinearRegression(
        family="binomial",
        link="logit",
        labelCol=Y,
        featuresCol="features",
        maxIter=100,
        tol=1e-10,
        **({"weightCol": WEIGHT} if weighted else {}),
    ).fit(rows)
    return model, names


def coefficient_inference(frame, cfg: Features, weighted: bool = False) -> dict:
    """The local engine's `inference.coefficient_inference` dict, from Spark's GLM (fitted on
    the design columns persisted once; the null model's log-likelihood from the counts, as
    the intercept-only fit's optimum is the observed share)."""
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.associations import null_llf

    design, names = design_frame(frame, cfg)
    try:
        stats = design.select(
            *[F.stddev_samp(n).alias(f"sd{j}") for j, n in enumerate(names)],
            *[F.max(~F.col(n).isin(0.0, 1.0)).alias(f"nb{j}") for j, n in enumerate(names)],
            (F.sum(F.col(WEIGHT)) if weighted else F.count("*")).alias("rows"),
            (F.sum(F.col(WEIGHT) * F.col(Y)) if weighted else F.sum(Y)).alias("events"),
        ).first()
        model, names = glm(design, cfg, names, weighted=weighted)
        s = model.summary
        # Spark puts the intercept last in the summary's arrays.
        se = np.array(s.coefficientStandardErrors)
        llf = -s.deviance / 2
    finally:
        design.unpersist()
    params = np.concatenate([[model.intercept], model.coefficients.toArray()])
    se = np.concatenate([[se[-1]], se[:-1]])
    z = params / se
    p = 2 * norm.sf(np.abs(z))
    llnull = null_llf(float(stats["rows"]), float(stats["events"]))
    coefficients = {}
    for j, name in enumerate(names, start=1):
        b = float(params[j])
        lo, hi = b - Z_95 * se[j], b + Z_95 * se[j]
        coefficients[name] = local_inference.coefficient_row(
            b, float(se[j]), float(z[j]), float(p[j]), float(lo), float(hi),
            float(stats[f"sd{j - 1}"] or 0.0), not stats[f"nb{j - 1}"],
        )  # fmt: skip
    k = len(names)
    return {
        "method": "Spark GeneralizedLinearRegression (binomial, logit)"
        + (" with the resampled rows' weights" if weighted else "")
        + ", maximum likelihood, no penalty, Wald 95% intervals",
        "rows": int(round(stats["rows"])),
        "rows_used": "training part as split, before resampling (one row per video)",
        "why_these_rows": local_inference.WHY_THESE_ROWS,
        "events": int(round(stats["events"])),
        "converged": True,
        "log_likelihood": llf,
        "pseudo_r2_mcfadden": 1.0 - llf / llnull,
        "llr_p_value": float(chi2.sf(2.0 * (llf - llnull), k)),
        "aic": 2.0 * (k + 1) - 2.0 * llf,
        "intercept": {"coef": float(params[0]), "std_err": float(se[0]), "p_value": float(p[0])},
        "coefficients": coefficients,
        "engine": "spark",
    }


def _binary_llf(counts) -> float:
    """Log-likelihood at the optimum of a logit on one 0/1 predictor (and the intercept): each
    of its two groups at its observed share, i.e. the intercept-only optimum (`null_llf`) per
    group; `counts` are (rows, positives) per group, a group of one class adding 0."""
    from tiktok_verified.modeling.associations import null_llf

    return sum(null_llf(rows, positives) for rows, positives in counts if 0 < positives < rows)


def joint_test(frame, cfg: Features, full_llf: float) -> dict:
    """The local engine's joint test (`associations.lr_test`), the restricted model fitted on
    Spark (or, when claim status is not a predictor, the intercept-only model)."""
    from pyspark.sql import functions as F

    from tiktok_verified.modeling.associations import lr_test, null_llf

    exprs = design_exprs(cfg)
    names = [n for n, _ in exprs]
    kept = [n for n in names if n == local_design.OPINION]
    if kept:  # one 0/1 column: its optimum is the share in each group, from two counts
        x = dict(exprs)[kept[0]]
        by = frame.groupBy(x.alias("x")).agg(F.count("*"), F.sum(Y)).collect()
        llf = _binary_llf([(float(r[1]), float(r[2])) for r in by])
    else:
        rows, positives = frame.agg(F.count("*"), F.sum(Y)).first()
        llf = null_llf(rows, positives)
    return lr_test(full_llf, llf, kept, [n for n in names if n not in kept])


def sample(frame, rows: int, seed: int):
    """A stratified sample of at most `rows` rows, collected as a polars frame."""
    import polars as pl

    total = frame.count()
    if total > rows:
        fraction = rows / total
        frame = frame.sampleBy(Y, {0: fraction, 1: fraction}, seed=seed)
    return pl.from_arrow(frame.orderBy(schema.VIDEO_ID).toArrow()), (
        total if total > rows else None
    )
