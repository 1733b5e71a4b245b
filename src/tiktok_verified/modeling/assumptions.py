"""The logistic regression's assumptions, each checked with its figures, the rule, and a verdict
that says what was and was not shown: "met" / "borderline" / "not met" for a condition that is
measured, "not rejected" / "rejected" for one that is tested (failing to reject is no evidence
that it holds), "cannot be checked" where the data cannot tell. Computed on the training part as
split, before resampling (one row per video), except where a check is about the whole table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm

from tiktok_verified.config import Features
from tiktok_verified.data import schema
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling.design import design, encoded, numeric_columns
from tiktok_verified.modeling.inference import fit_logit
from tiktok_verified.modeling.split import stratified_sample

#: |r| above which one of two continuous predictors is dropped (the rule behind dropping likes).
COLLINEAR_R = 0.7
VIF_WARN, VIF_FAIL = 5.0, 10.0
MIN_MINORITY_SHARE = 0.05
EPV_PASS, EPV_FAIL = 20.0, 10.0
ALPHA = 0.05
#: Diagnostics on larger training parts use a stratified sample of this many rows.
MAX_ROWS = 200_000


VERDICTS = ("met", "borderline", "not met", "not rejected", "rejected", "cannot be checked")


def _measured(ok: bool, borderline: bool = False) -> str:
    return "met" if ok else ("borderline" if borderline else "not met")


@dataclass(frozen=True)
class TableFacts:
    """What the outcome and independence checks read of the whole predictor table: videos per
    outcome level and how many video ids repeat (the Spark engine computes them in Spark)."""

    counts: dict[int, int]
    duplicated_video_ids: int

    @classmethod
    def of(cls, features: pl.DataFrame) -> TableFacts:
        counts = features.group_by(Y).len()
        return cls(
            counts=dict(zip(counts[Y].to_list(), counts["len"].to_list(), strict=True)),
            duplicated_video_ids=features.height - features[schema.VIDEO_ID].n_unique(),
        )

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _facts(features: pl.DataFrame | TableFacts) -> TableFacts:
    return features if isinstance(features, TableFacts) else TableFacts.of(features)


def binary_outcome(features: pl.DataFrame | TableFacts) -> dict:
    facts = _facts(features)
    levels = sorted(facts.counts)
    verified = facts.counts.get(1, 0)
    share = verified / facts.rows
    binary = levels == [0, 1]
    return {
        "name": "Binary outcome",
        "verdict": "not met" if not binary else _measured(share >= MIN_MINORITY_SHARE, True),
        "rule": f"exactly two outcome levels; borderline if the rarer class is below "
        f"{MIN_MINORITY_SHARE:.0%} of videos",
        "figures": {
            "levels": [schema.CATEGORIES[schema.OUTCOME][v] for v in levels],
            "verified_share": share,
            "verified": verified,
            "not_verified": facts.rows - verified,
        },
    }


def independence(
    features: pl.DataFrame | TableFacts, train: pl.DataFrame, test_rows_in_train: int
) -> dict:
    facts = _facts(features)
    duplicated_videos = facts.duplicated_video_ids
    duplicated_in_train = train.height - train[schema.VIDEO_ID].n_unique()
    ok = duplicated_videos == 0 and duplicated_in_train == 0 and test_rows_in_train == 0
    return {
        "name": "Independent observations",
        # What the data can show is that no video repeats; what it cannot is whether videos by
        # one author are independent: verified status belongs to the author, and there is no
        # author id. A repeated video is a violation the data does show.
        "verdict": "cannot be checked" if ok else "not met",
        "rule": "shown: each video appears once in the table and in the rows inference uses, "
        "and no test video is among the fitting rows; not shown: verified status is the "
        "author's, authors post many videos and the data has no author id, so videos by one "
        "author cannot be told apart and may not be independent (the standard errors may then "
        "be too small)",
        "figures": {
            "rows": facts.rows,
            "duplicated_video_ids": duplicated_videos,
            "inference_rows": train.height,
            "duplicated_video_ids_in_inference_rows": duplicated_in_train,
            "test_rows_whose_video_is_in_train": test_rows_in_train,
        },
    }


def correlation_matrix(frame: pl.DataFrame, columns: list[str]) -> dict:
    values = frame.select([pl.col(c).cast(pl.Float64) for c in columns]).to_numpy()
    r = np.corrcoef(values, rowvar=False)
    return {a: {b: float(r[i, j]) for j, b in enumerate(columns)} for i, a in enumerate(columns)}


def vifs(X: np.ndarray, names: list[str]) -> dict:
    """statsmodels' `variance_inflation_factor` of each design column, with an intercept in
    the auxiliary regressions: 1 / (1 - R^2) of the column regressed on the others."""
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    exog = np.column_stack([np.ones(len(X)), np.asarray(X, dtype=np.float64)])
    with np.errstate(divide="ignore"):  # an exact dependence gives R^2 = 1: an infinite VIF
        return {name: float(variance_inflation_factor(exog, j + 1)) for j, name in enumerate(names)}


def vif_elimination(
    X: np.ndarray, names: list[str], limit: float = VIF_WARN, keep: tuple[str, ...] = ()
) -> tuple[list[dict], dict]:
    """Backward elimination: while the largest VIF among the droppable columns exceeds
    `limit`, drop that column and recompute. Returns the steps and the final VIFs."""
    names = list(names)
    steps = []
    while True:
        vif = vifs(X, names)
        droppable = {n: v for n, v in vif.items() if n not in keep}
        if not droppable:
            return steps, vif
        worst = max(droppable, key=lambda n: (droppable[n], n))
        if droppable[worst] <= limit:
            return steps, vif
        steps.append({"dropped": worst, "vif": droppable[worst]})
        k = names.index(worst)
        X = np.delete(X, k, axis=1)
        names.pop(k)


def candidate_design(
    train: pl.DataFrame, videos_train: pl.DataFrame, cfg: Features
) -> tuple[np.ndarray, list[str], list[str]]:
    """The model's design plus every count column the feature set leaves out (as in the data,
    uncapped), row for row with `train`: the set the collinearity rule chooses from."""
    X, names = encoded(train, cfg)
    left_out = [c for c in schema.COUNT_COLUMNS if c not in cfg.numeric]
    if not left_out:
        return X, names, left_out
    extra = train.select(schema.VIDEO_ID).join(
        videos_train.select(schema.VIDEO_ID, *left_out),
        on=schema.VIDEO_ID,
        how="left",
        maintain_order="left",
    )
    values = extra.select([pl.col(c).cast(pl.Float64) for c in left_out]).to_numpy()
    if cfg.log_counts:  # as the model's counts enter
        values = np.log1p(values)
    return np.column_stack([X, values]), [*names, *left_out], left_out


def multicollinearity(train: pl.DataFrame, videos_train: pl.DataFrame, cfg: Features) -> dict:
    continuous = numeric_columns(cfg)
    X, names = encoded(train, cfg)
    vif = vifs(X, names)
    worst = max(vif.values())
    all_counts = [schema.DURATION, *schema.COUNT_COLUMNS]
    full = correlation_matrix(videos_train, all_counts)
    pairs = sorted(
        (
            (a, b, full[a][b])
            for i, a in enumerate(all_counts)
            for b in all_counts[i + 1 :]
            if abs(full[a][b]) > COLLINEAR_R
        ),
        key=lambda t: -abs(t[2]),
    )
    X_all, all_names, left_out = candidate_design(train, videos_train, cfg)
    dummies = tuple(n for n in all_names if n not in continuous and n not in left_out)
    steps, _ = vif_elimination(X_all, all_names, VIF_WARN, keep=dummies)
    by_rule = sorted(step["dropped"] for step in steps)
    return {
        "name": "No severe multicollinearity",
        "verdict": "not met" if worst > VIF_FAIL else _measured(worst <= VIF_WARN, True),
        "rule": f"VIF of every predictor in the model <= {VIF_WARN:g} is met, > {VIF_FAIL:g} "
        "not met, between borderline. Which counts enter: starting from all of them, the "
        f"continuous predictor with the largest VIF is dropped while any VIF exceeds {VIF_WARN:g} "
        f"(backward elimination); pairs with |r| > {COLLINEAR_R} are reported, not acted on",
        "figures": {
            "vif": vif,
            "max_vif": worst,
            "correlation_of_predictors": correlation_matrix(design(train, cfg), continuous),
            "pairs_above_threshold_among_all_counts": [
                {"a": a, "b": b, "r": r} for a, b, r in pairs
            ],
            "like_vs_view_r": full["video_like_count"]["video_view_count"],
            "vif_with_every_count": vifs(X_all, all_names),
            "elimination": steps,
            "dropped_by_rule": by_rule,
            "dropped": left_out,
            "configuration_follows_rule": by_rule == sorted(left_out),
        },
    }


def box_tidwell(train: pl.DataFrame, cfg: Features) -> dict:
    """Box-Tidwell in its usual form: x*ln(x) of each continuous predictor, on its own
    (positive) scale, added to the model, all in one fit (0*ln(0) taken as 0); a significant
    term says the logit is not linear in x. Not rejecting linearity is not evidence for it."""
    X, names = encoded(train, cfg)
    continuous = numeric_columns(cfg)
    terms = []
    for c in continuous:
        x = X[:, names.index(c)]
        with np.errstate(divide="ignore", invalid="ignore"):
            terms.append(np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0))
    y = train[Y].to_numpy().astype(np.float64)
    result = fit_logit(
        np.column_stack([X, *terms]), y, [*names, *[f"{c}:x_ln_x" for c in continuous]]
    )
    p = np.asarray(result.pvalues)[-len(continuous) :]
    threshold = ALPHA / len(continuous)
    tests = {
        c: {"p_value": float(pv), "rejected": bool(pv < threshold)}
        for c, pv in zip(continuous, p, strict=True)
    }
    nonlinear = [c for c, t in tests.items() if t["rejected"]]
    smallest = min(tests, key=lambda c: tests[c]["p_value"])
    return {
        "name": "Linearity of the logit (Box-Tidwell)",
        "verdict": "rejected" if nonlinear else "not rejected",
        "rule": "x*ln(x) of each continuous predictor on its own scale, all in one fit; "
        f"linearity rejected where p < {ALPHA}/{len(continuous)} (Bonferroni over the "
        f"{len(continuous)} predictors). Not rejected is not shown to hold: the test has "
        "little power against smooth curvature, and an odds ratio is then an average over "
        "the range",
        "figures": {
            "tests": tests,
            "non_linear": nonlinear,
            "threshold": threshold,
            "smallest_p": {"predictor": smallest, "p_value": tests[smallest]["p_value"]},
            "below_unadjusted_alpha": [c for c, t in tests.items() if t["p_value"] < ALPHA],
        },
    }


def influence_figures(train: pl.DataFrame, cfg: Features) -> dict:
    """Cook's distance, leverage and studentized residuals of the unpenalised GLM fit."""
    X, _ = encoded(train, cfg)
    y = train[Y].to_numpy().astype(np.float64)
    glm = sm.GLM(y, sm.add_constant(X, has_constant="add"), family=sm.families.Binomial())
    infl = glm.fit().get_influence(observed=False)
    cooks = np.asarray(infl.cooks_distance[0])
    leverage = np.asarray(infl.hat_matrix_diag)
    n, p = X.shape[0], X.shape[1] + 1
    resid = np.asarray(infl.resid_studentized)
    return {
        "rows": n,
        "max_cooks_distance": float(cooks.max()),
        "cooks_above_4_over_n": int((cooks > 4 / n).sum()),
        "max_leverage": float(leverage.max()),
        "leverage_above_3p_over_n": int((leverage > 3 * p / n).sum()),
        "abs_studentized_residual_above_3": int((np.abs(resid) > 3).sum()),
    }


def uncapped(train: pl.DataFrame, videos_train: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The training rows with the capped columns restored to their values in the data."""
    if not columns:
        return train
    raw = train.select(schema.VIDEO_ID).join(
        videos_train.select(schema.VIDEO_ID, *columns),
        on=schema.VIDEO_ID,
        how="left",
        maintain_order="left",
    )
    return train.with_columns(raw[c].cast(pl.Float64).alias(c) for c in columns)


def influence(train: pl.DataFrame, cfg: Features, caps: dict, before: pl.DataFrame | None = None):
    """Influence of the rows as modelled; with `before` (the same rows without capping), the
    same figures before capping, to show what the capping changed."""
    figures = influence_figures(train, cfg)
    max_cook = figures["max_cooks_distance"]
    n = figures["rows"]
    figures["capping"] = {
        c: {
            "upper": v["upper"],
            "train_values_capped": v["train_values_capped"],
            "train_share_capped": v["train_values_capped"] / n if n else 0.0,
            "test_values_capped": v["test_values_capped"],
        }
        for c, v in caps.items()
    }
    if before is not None and caps:
        figures["before_capping"] = influence_figures(before, cfg)
    return {
        "name": "No extreme outliers or overly influential points",
        "verdict": "not met" if max_cook > 1.0 else _measured(max_cook <= 0.5, True),
        "rule": "no point with Cook's distance > 1 (met), or > 0.5 (borderline); counts "
        "above 4/n and leverage above 3p/n are reported, after and before capping the "
        f"configured counts at q3 + {cfg.iqr_factor:g} IQR of the training part",
        "figures": figures,
    }


def sample_size(train: pl.DataFrame, cfg: Features) -> dict:
    _, names = encoded(train.head(1), cfg) if train.height else ([], [])
    events = int(min(train[Y].sum(), train.height - train[Y].sum()))
    epv = events / max(len(names), 1)
    return {
        "name": "Sample size (events per predictor)",
        "verdict": "not met" if epv < EPV_FAIL else _measured(epv >= EPV_PASS, True),
        "rule": f"events of the rarer class per model parameter: >= {EPV_PASS:g} is met, "
        f"< {EPV_FAIL:g} not met",
        "figures": {"events": events, "parameters": len(names), "events_per_parameter": epv},
    }


def check_all(
    features: pl.DataFrame | TableFacts,
    train: pl.DataFrame,
    videos: pl.DataFrame,
    cfg: Features,
    split_report: dict,
    seed: int = 0,
) -> dict:
    sampled_from = train.height if train.height > MAX_ROWS else None
    train = stratified_sample(train, MAX_ROWS, seed)
    videos_train = videos.join(train.select(schema.VIDEO_ID).unique(), on=schema.VIDEO_ID)
    caps = split_report["caps"]
    # Keyed by the stable keys of `contracts.ASSUMPTION_KEYS`, not by the display titles.
    checks = {
        "binary_outcome": binary_outcome(features),
        "independent_observations": independence(
            features, train, split_report["test_rows_whose_video_is_in_train"]
        ),
        "no_severe_multicollinearity": multicollinearity(train, videos_train, cfg),
        "linearity_of_the_logit": box_tidwell(train, cfg),
        "no_extreme_outliers_or_overly_influential_points": influence(
            train, cfg, caps, uncapped(train, videos_train, list(caps))
        ),
        "sample_size": sample_size(train, cfg),
    }
    verdicts = [c["verdict"] for c in checks.values()]
    return {
        "resample": split_report["resample"],
        "rows": train.height,
        "rows_used": "training part as split, one row per video (before any resampling)",
        "sampled_from": sampled_from,
        "summary": {v: verdicts.count(v) for v in VERDICTS if v in verdicts},
        "checks": checks,
    }
