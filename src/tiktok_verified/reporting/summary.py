"""The executive summary for leadership, one printed page: the answer in one sentence with the
verified share by claim status, the recommendations, then the results (what the model does
against its baselines, its predictive gain over claim status alone, the associations that
survive the multiplicity correction and the specification sensitivity table), and an appendix
for analysts (method, probabilities, specification, assumptions, provenance). Every sentence
comes from reporting.findings."""

from __future__ import annotations

from tiktok_verified.reporting import figures
from tiktok_verified.reporting.findings import (
    COURSE_DATA,
    SYNTHETIC_BANNER,
    UNIT_CAVEAT,
    Inputs,
    answer,
    associations,
    assumption_rows,
    calibration_sentence,
    claim_status_check,
    dropped_rows_sentence,
    forest_rows,
    gain_sentence,
    label,
    left_out_words,
    main_finding,
    pct,
    predictive_gain_check,
    provenance,
    resample_words,
    sensitivity_table,
    share_table,
    specification_sentence,
)
from tiktok_verified.reporting.render import Block


def recommendations(inp: Inputs) -> list[str]:
    """What a leader acts on; each figure and each conclusion from a check in findings."""
    rule = inp.metrics["opinion_rule"]["test"]
    gain = predictive_gain_check(inp)
    by = inp.data.get("by_claim_status", {})
    out = []
    if rule is not None and rule["agrees_with_model"] >= 0.95 * rule["rows"] and gain != "above":
        out.append(
            "**Do not use this model to tell whether an author is verified**: its flags are the "
            'rule "opinion video", it ranks no better than claim status alone, and most of its '
            f"flags are wrong (precision {pct(rule['precision'])})."
        )
    within = (
        f" (verified share: {pct(by['claim']['verified_share'])} of claims, "
        f"{pct(by['opinion']['verified_share'])} of opinions)"
        if claim_status_check(inp) != "none" and {"claim", "opinion"} <= set(by)
        else ""
    )
    out.append(
        "**Audit the claims classifier's errors by the recorded verified status, within each "
        "claim status**: compare its error rates for videos by verified and unverified authors "
        f"among claims and among opinions separately{within}. `verified_status` is in the "
        "data, so nothing needs predicting; compared overall, a difference by verified status "
        "would partly be one by claim status."
    )
    out.append(
        "**Collect an author id and author-level data** (account age, posting history): "
        "verified status belongs to the author; without an id the analysis cannot tell one "
        "author's videos apart"
        + (
            ", and the video columns here do not predict it beyond claim status."
            if gain == "none"
            else "."
        )
    )
    return out


def executive_summary(inp: Inputs) -> list[Block]:
    d, t, cm = inp.data, inp.metrics["test"], inp.confusion
    inf = inp.coefficients["inference"]
    verdicts = inp.assumptions["summary"]
    mc = inp.assumptions["checks"]["no_severe_multicollinearity"]["figures"]
    sens = sensitivity_table(inp)
    blocks: list[Block] = [("banner", SYNTHETIC_BANNER)] if inp.synthetic else []
    blocks += [("h1", "What goes with a verified author? Executive summary")]
    blocks += [("p", f"**Answer.** {answer(inp)}")]
    table = share_table(inp)
    caveats = ("small", f"{COURSE_DATA} {UNIT_CAVEAT} {dropped_rows_sentence(inp)}")
    blocks.append(("cols", [("table", *table)], [caveats], 400) if table else caveats)
    blocks += [
        ("h2", "Recommendations"),
        ("ul", recommendations(inp)),
        ("h2", "Results"),
        (
            "cols",
            [("p", main_finding(inp)), ("p", gain_sentence(inp))],
            [
                (
                    "figure",
                    "confusion_matrix.svg",
                    figures.confusion_svg(cm["matrix"], cm["labels"], width=215),
                    f"Held-out videos: actual (rows) against predicted (columns), threshold "
                    f"{inp.metrics['threshold']:g}.",
                )
            ],
            220,
        ),
        (
            "cols",
            [
                (
                    "p",
                    "**Associations** (statsmodels, unpenalised, on the "
                    f"{inf['rows']:,} training videos; 95% CIs; p-values adjusted by Holm):",
                ),
                ("ul", associations(inp)),
            ],
            [
                (
                    "figure",
                    "odds_ratios.svg",
                    figures.forest_svg(forest_rows(inp), width=300, row_height=13),
                    "Odds ratios, 95% CI (binary 0→1, continuous per SD). Filled: others held "
                    "fixed (grey: does not survive Holm); hollow: the predictor alone.",
                ),
                *([("table", *sens)] if sens else []),
            ],
            300,
        ),
    ]
    blocks += [
        ("h2", "Appendix: method, probabilities, specification, assumptions"),
        (
            "small",
            f"Data and method: outcome: the author is verified, "
            f"{d['class_counts']['verified']:,} of {d['rows_kept']:,} videos. Predictors "
            f"({len(inp.features['predictors'])}): "
            + ", ".join(label(c) for c in inp.features["predictors"])
            + f"; left out: {left_out_words(mc, why=True)}. Logistic regression fitted on "
            f"{pct(1 - inp.split['test_size'], 0)} of videos (verified videos "
            f"{resample_words(inp.metrics['resample'])}), tested on {t['rows']:,} held out. "
            f"Probabilities: {calibration_sentence(inp)} {specification_sentence(inp)}",
        ),
        (
            "table",
            ["Assumption", "Verdict", "What was and was not shown"],
            [[c["name"], c["verdict"], c["figure"]] for c in assumption_rows(inp.assumptions)],
        ),
        (
            "small",
            ", ".join(f"{n} {v}" for v, n in verdicts.items())
            + ". Rules and every figure: metrics/assumptions.json. "
            + provenance(inp),
        ),
    ]
    return blocks
