"""The association and probability statements: what survives Holm, how the specifications
agree or disagree (the sensitivity table), reversals told apart (confounding or suppression),
calibration against claim status alone and the threshold for whoever must predict; each worded
by a check in reporting.checks."""

from __future__ import annotations

from tiktok_verified.reporting.checks import (
    beyond_claim_status_check,
    calibration_check,
    ci_text,
    reversal_check,
    survives_in,
)
from tiktok_verified.reporting.inputs import Inputs
from tiktok_verified.reporting.words import (
    OPINION,
    SHORT_LABELS,
    SPECIFICATION_LABELS,
    label,
    p_text,
    pct,
    words,
)

# --- associations -----------------------------------------------------------------------------


def _or_key(c: dict) -> str:
    return "odds_ratio" if c["binary"] else "odds_ratio_per_sd"


def conditional_or(c: dict) -> str:
    key = _or_key(c)
    per = "" if c["binary"] else " per SD"
    return f"OR {c[key]:.2f}{per} (95% CI {c[f'{key}_ci_low']:.2f} to {c[f'{key}_ci_high']:.2f})"


def associations(inp: Inputs) -> list[str]:
    """The association statements: what survives Holm, the joint test of the rest, and the
    marginal associations that vanish or reverse once the others are held fixed."""
    coefs = inp.coefficients["inference"]["coefficients"]
    found = inp.coefficients["associations"]
    adjusted, marginal = found["adjusted_p"], found["marginal"]
    k = len(coefs)
    out = []
    for name in found["survive_holm"]:
        c, m = coefs[name], marginal[name]
        out.append(
            f"**{label(name).capitalize()}**: {conditional_or(c)} with the other predictors "
            f"held fixed (Holm-adjusted {p_text(adjusted[name]['holm'])}); alone, OR "
            f"{m['odds_ratio']:.2f}. It survives the correction for {k} tests."
        )
    joint = found["joint_test_besides_claim_status"]
    rest = [n for n in coefs if n not in found["survive_holm"]]
    if rest:
        near = [n for n in rest if coefs[n]["p_value"] < found["alpha"]]
        text = f"As configured, no other predictor survives the correction for {k} tests"
        if near:
            text += (
                " ("
                + ", ".join(
                    f"{label(n)} unadjusted {p_text(coefs[n]['p_value'])}, "
                    f"Holm {p_text(adjusted[n]['holm'])}"
                    for n in near
                )
                + ")"
            )
        if joint["kept"]:
            text += (
                f"; the {joint['df']} predictors besides claim status, tested together: "
                f"likelihood-ratio χ² = {joint['statistic']:.1f}, {joint['df']} df, "
                f"{p_text(joint['p_value'])}"
            )
        out.append(text + ". " + beyond_claim_status_sentence(inp))
    vanish = [
        n
        for n in rest
        if marginal[n]["p_value"] < found["alpha"] <= coefs[n]["p_value"]
        and not marginal[n]["reversed"]
    ]
    if vanish:
        worst = max(marginal[n]["p_value"] for n in vanish)
        lower = all(marginal[n]["odds_ratio"] < 1 for n in vanish)
        higher = all(marginal[n]["odds_ratio"] > 1 for n in vanish)
        direction = "lower" if lower else "higher" if higher else "different"
        anywhere = [n for n in vanish if survives_in(inp, n)]
        claim_alone = inp.specifications.get("adjusted_for_claim_status_only", {})
        explained = [
            n for n in vanish if n in claim_alone and claim_alone[n]["p_value"] >= found["alpha"]
        ]
        why = (
            "claim status alone accounts for it (none is distinguishable from no association "
            "with claim status alone held fixed)"
            if len(explained) == len(vanish)
            else "what they share with verified status, they share with claim status and with "
            "each other"
        )
        where = (
            "in any specification compared"
            if not anywhere
            else "as configured (but "
            + words(
                [f"{label(n)} survives Holm {spec_words(survives_in(inp, n))}" for n in anywhere]
            )
            + ")"
        )
        out.append(
            "Conditional is not marginal: alone, "
            + words([f"{label(n)} (OR {marginal[n]['odds_ratio']:.2f})" for n in vanish])
            + f" each go with {direction} odds of a verified author "
            f"({p_text(worst).replace('=', '≤')} each); with the others held fixed none survives "
            f"Holm {where}: {why}."
        )
    for n in rest:
        if marginal[n]["reversed"]:
            out.append(reversal_sentence(inp, n))
    return out


def spec_words(where: dict[str, float]) -> str:
    return words(
        [f"with {SPECIFICATION_LABELS.get(k, k)} ({p_text(p, 'Holm')})" for k, p in where.items()]
    )


def reversal_sentence(inp: Inputs, name: str) -> str:
    """A reversed association, worded by `reversal_check` and by `survives_in`."""
    coefs = inp.coefficients["inference"]["coefficients"]
    marginal = inp.coefficients["associations"]["marginal"][name]
    kind = reversal_check(inp, name)
    adjusted = inp.specifications.get("adjusted_for_claim_status_only", {}).get(name)
    per = "" if coefs[name]["binary"] else " per SD"
    text = (
        f"{label(name).capitalize()} reverses: OR {marginal['odds_ratio']:.2f}{per} alone, "
        f"{conditional_or(coefs[name])} with the others fixed. "
    )
    if kind == "confounding":
        text += (
            f"The reversal is there once claim status alone is held fixed (OR "
            f"{adjusted['odds_ratio']:.2f}{per}, 95% CI {adjusted['ci_low']:.2f} to "
            f"{adjusted['ci_high']:.2f}): confounding by claim status. "
        )
    else:
        text += (
            "With claim status alone held fixed it does not reverse"
            + (f" (OR {adjusted['odds_ratio']:.2f}{per})" if adjusted else "")
            + f": suppression among the correlated counts ({correlation_range(inp)}). "
        )
    where = survives_in(inp, name)
    if not where:
        return text + "Its conditional association survives Holm in no specification compared."
    return text + (
        f"Its conditional association survives Holm {spec_words(where)}, not in the others: "
        "it depends on the specification."
    )


def beyond_claim_status_sentence(inp: Inputs) -> str:
    """Whether the predictors besides claim status add anything, worded to hold in every
    specification of the sensitivity table, or saying where they disagree."""
    check = beyond_claim_status_check(inp)
    if not check:
        return ""
    names = {k: SPECIFICATION_LABELS.get(k, k) for k in check}
    yes = [k for k, v in check.items() if v]
    if not yes:
        return (
            "They add nothing detectable beyond claim status in every specification compared ("
            + ", ".join(names.values())
            + ")."
        )
    no = [k for k, v in check.items() if not v]
    detail = []
    for k in yes:
        row = inp.specifications["sensitivity"][k]
        joint = row["joint_test_besides_claim_status"]
        others = [n for n in row["survive_holm"] if n != OPINION]
        bits = []
        if joint is not None and joint["p_value"] < inp.coefficients["associations"]["alpha"]:
            bits.append(
                f"jointly significant (χ² = {joint['statistic']:.1f}, {p_text(joint['p_value'])})"
            )
        if others:
            bits.append(
                words([f"{label(n)} survives Holm ({p_text(row['holm_p'][n])})" for n in others])
            )
        detail.append(f"{names[k]}, " + " and ".join(bits))
    if not no:
        return "They add something beyond claim status in every specification compared: " + (
            "; ".join(detail) + "."
        )
    return (
        "The specifications disagree on whether they add anything beyond claim status: "
        + "; ".join(detail)
        + "; "
        + words([names[k] for k in no])
        + ", nothing detectable (table below)."
    )


def sensitivity_table(inp: Inputs) -> tuple[list[str], list[list[str]]] | None:
    sens = inp.specifications.get("sensitivity")
    if not sens:
        return None
    rows = []
    for key, row in sens.items():
        joint = row["joint_test_besides_claim_status"]
        others = [n for n in row["survive_holm"] if n != OPINION]
        rows.append(
            [
                SHORT_LABELS.get(key, key),
                "—"
                if joint is None
                else f"χ² = {joint['statistic']:.1f}, {joint['df']} df, {p_text(joint['p_value'])}",
                ", ".join(f"{label(n)} ({p_text(row['holm_p'][n])})" for n in others) or "none",
            ]
        )
    return ["Specification", "Others, jointly (LR)", "Others surviving Holm"], rows


def correlation_range(inp: Inputs) -> str:
    corr = inp.assumptions["checks"]["no_severe_multicollinearity"]["figures"][
        "correlation_of_predictors"
    ]
    counts = [c for c in corr if "count" in c]
    rs = [abs(corr[a][b]) for i, a in enumerate(counts) for b in counts[i + 1 :]]
    return f"|r| = {min(rs):.2f}–{max(rs):.2f} among the counts" if rs else "correlated"


# --- probabilities and the threshold ----------------------------------------------------------


def calibration_sentence(inp: Inputs) -> str:
    """What the probabilities are worth, worded by `calibration_check`."""
    t, none = inp.metrics["test"], inp.metrics["no_skill"]["test"]
    cal = inp.metrics["calibration"]
    fit = cal["test_of_fit"]
    verdict, against = calibration_check(inp)
    raw = (
        ""
        if cal["fitted_share"] == cal["true_share"]
        else f"Fitted on balanced rows, the model's probabilities are those of a world where "
        f"{pct(cal['fitted_share'], 0)} of videos are by verified authors (Brier "
        f"{t['brier']:.3f}); moved back to the real {pct(cal['true_share'])} (prior "
        "correction) "
    )
    state = (
        "they are consistent with calibration"
        if verdict == "calibrated"
        else "they are not calibrated"
    )
    text = (
        (raw or "The probabilities: ")
        + f"{state} (Spiegelhalter {p_text(fit['p_value'])}; {fit['observed_verified']:,.0f} "
        f"verified videos held out, {fit['expected_verified']:,.0f} expected), Brier "
        f"{t['brier_prior_corrected']:.4f}, log loss {t['log_loss_prior_corrected']:.3f} "
        f"(a constant: {none['brier']:.4f}, {none['log_loss']:.3f})"
    )
    if against is None:
        return text + "."
    b = inp.metrics["predictive_gain"]["brier"]
    compared = {
        "none": "no more accurate than",
        "below": "more accurate than",
        "above": "less accurate than",
    }[against]
    return text + (
        f", but {compared} claim status alone (Brier {b['claim_status_alone']:.4f}; difference "
        f"{ci_text(b['ci_low'], b['ci_high'], 5)})."
    )


def threshold_sentence(inp: Inputs) -> str:
    """The calibrated threshold for an audit that must predict verified status, with what it
    achieves held out: whether it meets its target, and whether the rule "flag every opinion
    video" does as well (the checks `meets_target_held_out`, `opinion_rule_as_good`)."""
    r = inp.metrics["calibration"]["recommended"]
    h = r["test"]
    text = (
        f"If verified status had to be predicted: the calibrated threshold "
        f"{r['threshold']:g}, chosen on the training part to find at least "
        f"{pct(r['target_recall'], 0)} of verified-author videos, flags "
        f"{h['flagged_per_10k']:,.0f} of every 10,000 held-out videos, finds "
        f"{pct(h['recall'])} of them"
    )
    text += (
        " (it meets the target held out)"
        if r["meets_target_held_out"]
        else " (it misses the target held out)"
    )
    text += f", precision {pct(h['precision'])}."
    rule = inp.metrics["opinion_rule"]["test"]
    if r["opinion_rule_as_good"]:
        text += (
            f' The rule "flag every opinion video" does at least as well on both (recall '
            f"{pct(rule['recall'])}, precision {pct(rule['precision'])})."
        )
    return text


def specification_sentence(inp: Inputs) -> str:
    s = inp.specifications
    specs = s["specifications"]
    conf, log = specs["configured"], specs["log_counts"]
    text = (
        f"Specification: the reports use the configured one ({conf['features']}; counts "
        f"{'logged' if conf['log_counts'] else 'raw'}). With the counts as log(1 + count) the fit "
        f"changes AIC by {log['aic'] - conf['aic']:+.1f} and cross-validated ROC AUC from "
        f"{conf['cv_roc_auc']:.3f} to {log['cv_roc_auc']:.3f} (± {conf['cv_roc_auc_std']:.3f} "
        "across folds)"
    )
    lr = s.get("interactions_lr_test")
    if lr:
        earns = lr["p_value"] < 0.05
        text += (
            f"; claim-status × count interactions {'earn' if earns else 'do not earn'} their "
            f"place (likelihood-ratio χ² = {lr['statistic']:.1f}, {lr['df']} df, "
            f"{p_text(lr['p_value'])})"
        )
    same = abs(log["cv_roc_auc"] - conf["cv_roc_auc"]) < conf["cv_roc_auc_std"]
    return text + (
        ". No specification predicts better beyond fold-to-fold noise."
        if same
        else ". The log specification predicts better beyond fold-to-fold noise."
    )


def cv_explained(inp: Inputs) -> str:
    """Why the reports quote one cross-validated ROC AUC, and which (for the notebook, where
    metrics/cv.json's is shown too)."""
    ours = inp.specifications["specifications"]["configured"]["cv_roc_auc"]
    theirs, spread = inp.cv["mean"]["roc_auc"], inp.cv["std"]["roc_auc"]
    close = abs(ours - theirs) < spread
    return (
        f"The reports quote one cross-validated ROC AUC, {ours:.3f}: unpenalised fits on the "
        f"same {inp.specifications['folds']} folds of the training part, so that every "
        "specification and claim status alone are compared fold by fold. The predictor's own "
        f"cross-validation (penalised, resampled inside folds; metrics/cv.json) gives "
        f"{theirs:.3f} ± {spread:.3f}, "
        + ("within fold-to-fold noise of it." if close else "more than fold-to-fold noise away.")
    )
