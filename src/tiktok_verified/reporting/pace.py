"""The PACE strategy answers for the regression milestone, figures from the pipeline."""

from __future__ import annotations

from tiktok_verified.reporting.render import Block
from tiktok_verified.reporting.summary import (
    SYNTHETIC_BANNER,
    Inputs,
    association_sentence,
    label,
    left_out_words,
    pct,
    provenance,
    resample_words,
    results_paragraph,
    unclear,
    words,
)


def pace_strategy(inp: Inputs) -> list[Block]:
    """The PACE strategy answers for the regression milestone, figures from the pipeline."""
    d, t, cm = inp.data, inp.metrics["test"], inp.confusion
    checks = inp.assumptions["checks"]
    mc = checks["no_severe_multicollinearity"]["figures"]
    caps = inp.split["caps"]
    cap_words = (
        "; ".join(
            f"{label(c)} capped at {v['upper']:,.0f} ({v['train_values_capped']:,} training values)"
            for c, v in caps.items()
        )
        or "no capping configured"
    )
    strongest = inp.coefficients["strongest"]
    predictor = inp.predictor
    blocks: list[Block] = []
    if inp.synthetic:
        blocks.append(("banner", SYNTHETIC_BANNER))
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
            "verified authors" + (": an imbalanced outcome." if d["verified_share"] < 0.2 else "."),
        ),
        (
            "p",
            "**Ethical considerations.** Verified status must not become a proxy for "
            "trustworthiness in the claims model; errors are reported per class, and the "
            "data here are the course's synthetic records, not real users.",
        ),
        ("h2", "Analyze"),
        (
            "p",
            "**Why explore before modelling?** To find missing values, duplicates, outliers "
            "and collinear predictors, each of which breaks a logistic regression assumption.",
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
            f"C = {predictor['C']}) on {len(inp.features['predictors'])} "
            f"predictors, fitted on {inp.split['rows']['train']:,} rows; inference from an "
            f"unpenalised statsmodels fit on the {inp.coefficients['inference']['rows']:,} "
            "training videos before resampling.",
        ),
        (
            "table",
            ["Assumption", "Verdict", "Rule"],
            [[c["name"], c["verdict"].upper(), c["rule"]] for c in checks.values()],
        ),
        (
            "p",
            "**Anything odd?** "
            + (
                f"{words(unclear(inp)).capitalize()} show no clear association once the other "
                "predictors are in the model. "
                if unclear(inp)
                else ""
            )
            + "The course exemplar's upsampling before the split put copies of the same "
            "videos in train and test, inflating its metrics; here resampling touches the "
            "fitting rows only.",
        ),
        ("h2", "Execute"),
        ("p", "**Key insights.** " + " ".join(association_sentence(r) for r in strongest)),
        (
            "p",
            f"**Model performance.** {results_paragraph(inp)} Confusion matrix: "
            f"{cm['true_negative']:,} true negatives, {cm['false_positive']:,} false "
            f"positives, {cm['false_negative']:,} false negatives, {cm['true_positive']:,} "
            f"true positives; ROC AUC {t['roc_auc']:.3f}.",
        ),
        (
            "p",
            "**Why interpret the coefficients?** Each is the change in the log-odds of a "
            "verified author for one unit of a predictor with the others held fixed; as odds "
            "ratios with confidence intervals they say how strong, in which direction, and "
            "how certain each association is.",
        ),
        (
            "p",
            "**Recommendations.** Treat verified status as context, check the claims "
            "classifier's error rates separately for verified authors, and look beyond "
            "engagement counts (text, account history) for better predictors.",
        ),
        (
            "p",
            "**Could the model improve?** Yes: more informative features, a threshold tuned "
            "to the cost of each error, and interaction terms with claim status. Other "
            "questions for the team: does verified status change how claims are reported or "
            "reviewed?",
        ),
    ]
    return blocks
