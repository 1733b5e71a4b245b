"""The PACE strategy answers for the regression milestone, from reporting.findings."""

from __future__ import annotations

from tiktok_verified.reporting.findings import (
    COURSE_DATA,
    SYNTHETIC_BANNER,
    UNIT_CAVEAT,
    Inputs,
    answer,
    associations,
    beyond_claim_status_sentence,
    calibration_sentence,
    dropped_rows_sentence,
    gain_sentence,
    label,
    left_out_words,
    main_finding,
    pct,
    predictive_gain_check,
    provenance,
    resample_words,
    specification_sentence,
)
from tiktok_verified.reporting.render import Block
from tiktok_verified.reporting.summary import recommendations


def pace_strategy(inp: Inputs) -> list[Block]:
    """The PACE strategy answers for the regression milestone, figures from the pipeline."""
    d, t, cm = inp.data, inp.metrics["test"], inp.confusion
    checks = inp.assumptions["checks"]
    mc = checks["no_severe_multicollinearity"]["figures"]
    caps = inp.split["caps"]
    cap_words = (
        "; ".join(
            f"{label(c)} capped at {v['upper']:,.0f} ({v['train_values_capped']:,} training "
            f"values, {pct(v['train_values_capped'] / inp.split['rows']['train_before_resample'])})"
            for c, v in caps.items()
        )
        or "no capping configured"
    )
    predictor = inp.predictor
    blocks: list[Block] = [("banner", SYNTHETIC_BANNER)] if inp.synthetic else []
    blocks += [
        ("h1", "PACE strategy: regression of verified status"),
        ("small", provenance(inp)),
        ("h2", "Plan"),
        (
            "p",
            "**Who are the stakeholders?** The TikTok data team building the claims "
            "classification model, the operations leads who will act on it, and, through "
            "them, creators whose videos get reviewed.",
        ),
        (
            "p",
            "**What are we trying to accomplish?** Describe how video characteristics relate "
            "to whether the author is verified, with a logistic regression whose outcome is "
            "`verified_status`, and report its accuracy, confusion matrix and odds ratios.",
        ),
        (
            "p",
            f"**Initial observations.** {d['rows_in']:,} rows; {d['rows_dropped']['incomplete']:,} "
            f"lack the claim status, text and counts and were dropped; "
            f"{d['rows_dropped']['duplicate_video_id']:,} duplicates. "
            f"{pct(d['verified_share'])} of the {d['rows_kept']:,} remaining videos have "
            "verified authors"
            + (": an imbalanced outcome. " if d["verified_share"] < 0.2 else ". ")
            + dropped_rows_sentence(inp),
        ),
        (
            "p",
            "**Ethical considerations.** Verified status must not become a proxy for "
            f"trustworthiness in the claims model; errors are reported per class. {COURSE_DATA} "
            f"{UNIT_CAVEAT}",
        ),
        ("h2", "Analyze"),
        (
            "p",
            "**Why explore before modelling?** Two different reasons. Data quality: missing "
            "values and duplicates are not model assumptions, but rows that cannot be used or "
            "would count twice, so they are dropped and counted first. The model's assumptions: "
            "a binary outcome, independent observations, a logit linear in each continuous "
            "predictor, no severe multicollinearity, no overly influential points and enough "
            "events per parameter; exploring shows where they may fail (skewed counts, "
            "correlated counts, outliers).",
        ),
        (
            "ul",
            [
                f"Left out for collinearity: {left_out_words(mc, why=True)}, by the rule "
                "that drops the count with the largest variance inflation factor while any "
                f"exceeds 5; the highest remaining VIF is {mc['max_vif']:.1f}.",
                f"Outliers: {cap_words}, with limits learned from the training part only.",
                f"Class imbalance handled by `{inp.metrics['resample']}` "
                f"({resample_words(inp.metrics['resample'])}).",
            ],
        ),
        ("h2", "Construct"),
        (
            "p",
            f"**Model.** scikit-learn LogisticRegression ({predictor['model']}, "
            f"C = {predictor['C']}) on {len(inp.features['predictors'])} predictors, fitted on "
            f"{inp.split['rows']['train']:,} rows (resampled); inference from an unpenalised "
            f"statsmodels fit on the {inp.coefficients['inference']['rows']:,} training videos "
            "before resampling. " + specification_sentence(inp),
        ),
        (
            "table",
            ["Assumption", "Verdict", "Rule"],
            [[c["name"], c["verdict"], c["rule"]] for c in checks.values()],
        ),
        (
            "p",
            "**Anything odd?** The course exemplar's upsampling before the split put copies "
            "of the same videos in train and test, inflating its metrics; here resampling "
            "touches the fitting rows only. " + calibration_sentence(inp),
        ),
        ("h2", "Execute"),
        ("p", f"**Key insights.** {answer(inp)}"),
        ("ul", associations(inp)),
        ("p", gain_sentence(inp)),
        (
            "p",
            f"**Model performance.** {main_finding(inp)} Confusion matrix: "
            f"{cm['true_negative']:,} true negatives, {cm['false_positive']:,} false "
            f"positives, {cm['false_negative']:,} false negatives, {cm['true_positive']:,} "
            f"true positives; ROC AUC {t['roc_auc']:.3f}.",
        ),
        (
            "p",
            "**Why interpret the coefficients?** Each is the change in the log-odds of a "
            "verified author for one unit of a predictor with the others held fixed: a "
            "conditional statement. As odds ratios with confidence intervals, adjusted for the "
            "number of predictors tested and set beside the predictor's association alone, they "
            "say how strong, in which direction and how certain each association is.",
        ),
        ("p", "**Recommendations.**"),
        ("ul", recommendations(inp)),
        (
            "p",
            "**Could the model improve?** "
            + (
                "Not at prediction with these columns: held out, the model ranks no better than "
                "claim status alone (above). "
                if predictive_gain_check(inp) == "none"
                else "Perhaps with a better specification (above). "
            )
            + beyond_claim_status_sentence(inp)
            + " "
            + "Author-level data (an author id, account age, history) and the transcription "
            "text itself are the next candidates.",
        ),
    ]
    return blocks
