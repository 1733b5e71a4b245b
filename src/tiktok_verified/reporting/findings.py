"""What the numbers say, in sentences: every statement the executive summary, the PACE answers
and the notebook make, each built from the metrics files (`Inputs`), so that the three cannot
disagree and no number is typed by hand.

Three rules hold throughout: a score is shown beside its baselines; an association is said to be
conditional (the other predictors held fixed) or marginal (the predictor alone); and only an
association that survives the multiplicity correction (Holm) is claimed.

A sentence that states a conclusion takes its wording from a named check computed from the
inputs, never from a fixed template (the functions named `*_check` below, each returning the
verdict a sentence is chosen by); tests/test_story.py plants data on which each check flips
and asserts that the sentence flips with it."""

from __future__ import annotations

from tiktok_verified.reporting.checks import (  # noqa: F401 (re-exported)
    beyond_claim_status_check,
    calibration_check,
    ci_text,
    claim_status_check,
    dropped_rows_check,
    interval_check,
    predictive_gain_check,
    reversal_check,
    survives_in,
)
from tiktok_verified.reporting.conclusions import (  # noqa: F401 (re-exported)
    _or_key,
    associations,
    beyond_claim_status_sentence,
    calibration_sentence,
    conditional_or,
    correlation_range,
    cv_explained,
    reversal_sentence,
    sensitivity_table,
    specification_sentence,
    threshold_sentence,
)
from tiktok_verified.reporting.inputs import SYNTHETIC_BANNER, Inputs  # noqa: F401 (re-exported)
from tiktok_verified.reporting.words import (  # noqa: F401 (re-exported)
    COURSE_DATA,
    OPINION,
    PREDICTOR_LABELS,
    SHORT_LABELS,
    SPECIFICATION_LABELS,
    UNIT_CAVEAT,
    label,
    p_text,
    pct,
    provenance,
    resample_words,
    words,
)

# --- the answer, first ------------------------------------------------------------------------


def answer(inp: Inputs) -> str:
    """The question answered in one sentence: the claim-status association (its direction
    checked) and what the other columns add to prediction (the held-out gain checked)."""
    by = inp.data.get("by_claim_status", {})
    direction = claim_status_check(inp)
    if direction == "none" or not {"claim", "opinion"} <= set(by):
        first = "No video characteristic goes detectably with a verified author"
    else:
        o, c = by["opinion"]["verified_share"], by["claim"]["verified_share"]
        more = "more" if direction == "higher" else "less"
        first = (
            f"Opinion videos are {more} likely than claim videos to be by a verified author "
            f"({pct(o)} against {pct(c)}, the one association that survives the correction for "
            "multiple tests)"
        )
    gain = predictive_gain_check(inp)
    if gain is None:
        return first + "."
    g = inp.metrics["predictive_gain"]["roc_auc"]
    second = {
        "none": "the other video columns do not improve on claim status alone at telling "
        "verified authors apart",
        "above": "the other video columns improve on claim status alone at telling verified "
        "authors apart",
        "below": "the model with the other video columns tells verified authors apart worse "
        "than claim status alone",
    }[gain]
    return (
        f"{first}; {second} (held-out ROC AUC difference {g['difference']:+.3f}, "
        f"{ci_text(g['ci_low'], g['ci_high'])})."
    )


def share_table(inp: Inputs) -> tuple[list[str], list[list[str]]] | None:
    """The verified share by claim status, for the answer."""
    by = inp.data.get("by_claim_status")
    if not by:
        return None
    d = inp.data
    rows = [
        [status, f"{v['videos']:,}", f"{v['verified']:,}", pct(v["verified_share"])]
        for status, v in by.items()
    ]
    rows.append(
        [
            "all",
            f"{d['rows_kept']:,}",
            f"{d['class_counts']['verified']:,}",
            pct(d["verified_share"]),
        ]  # fmt: skip
    )
    return ["Claim status", "Videos", "By verified authors", "Verified share"], rows


def dropped_rows_sentence(inp: Inputs) -> str:
    d = inp.data
    n = d["rows_dropped"]["incomplete"]
    check = dropped_rows_check(inp)
    if check is None:
        return "No incomplete rows were dropped."
    x = d["incomplete_rows"]
    verdict = {
        "same": "no detectable difference",
        "higher": "the kept videos under-represent verified authors",
        "lower": "the kept videos over-represent verified authors",
    }[check]
    return (
        f"The {n:,} rows dropped as incomplete (no claim status, text or counts) are "
        f"{pct(x['verified_share'])} by verified authors against {pct(x['kept_verified_share'])} "
        f"of the kept ({p_text(x['fisher_exact_p'], 'Fisher exact')}); {verdict}."
    )


# --- the main finding: the model against its baselines ---------------------------------------


def main_finding(inp: Inputs) -> str:
    """What the model does, against the no-skill and the opinion-only baselines."""
    t, m = inp.metrics["test"], inp.metrics
    rule = m["opinion_rule"]["test"]
    none = m["no_skill"]["test"]
    n, share = t["rows"], inp.data["verified_share"]
    cm = inp.confusion
    flagged = cm["true_positive"] + cm["false_positive"]
    top = m["calibration"]["test_of_fit"]["max_probability"]
    lead = (
        f"At its threshold of {m['threshold']:g} the model flags {flagged:,} of {n:,} held-out "
        f"videos; {pct(t['precision'])} of them are by verified authors (the highest calibrated "
        f"probability it gives any video is {top:.3f}). "
    )
    if rule is None:
        return lead + _scores_sentence(t, none, share)
    agree = rule["agrees_with_model"]
    if agree >= 0.95 * n:
        lead += (
            f"**In effect it flags the opinion videos:** its flags agree with the rule "
            f'"flag every opinion video" on {agree:,} of the {n:,}, and that rule scores the '
            f"same (accuracy {pct(rule['accuracy'])} vs the model's {pct(t['accuracy'])}, "
            f"recall {pct(rule['recall'], 0)} vs {pct(t['recall'], 0)}, precision "
            f"{pct(rule['precision'])} vs {pct(t['precision'])}). "
        )
    else:
        lead += (
            f'Its flags agree with the rule "flag every opinion video" on {agree:,} of the '
            f"{n:,} (that rule: accuracy {pct(rule['accuracy'])}, recall "
            f"{pct(rule['recall'], 0)}, precision {pct(rule['precision'])}). "
        )
    return lead + _scores_sentence(t, none, share)


def _scores_sentence(t: dict, none: dict, share: float) -> str:
    return (
        f"For scale: only {pct(share)} of videos are by verified authors, so calling every "
        f'video "not verified" is right {pct(none["accuracy"])} of the time (and finds none); '
        f"the model's {pct(t['accuracy'])} accuracy is the price of finding "
        f"{pct(t['recall'], 0)} of the videos by verified authors."
    )


def gain_sentence(inp: Inputs) -> str:
    """The predictive gain over claim status alone: held out with its paired interval, and
    cross-validated on the training part (the one cross-validated ROC AUC the reports give)."""
    g = inp.metrics.get("predictive_gain")
    if g is None:
        return ""
    a = g["roc_auc"]
    words_ = {
        "none": "no detectable gain",
        "above": "a gain",
        "below": "a loss",
    }[predictive_gain_check(inp)]
    text = (
        f"**Predictive gain over claim status alone: {words_}.** Held out, ROC AUC "
        f"{a['model']:.3f} against {a['claim_status_alone']:.3f}, difference "
        f"{a['difference']:+.3f} ({ci_text(a['ci_low'], a['ci_high'])}, paired bootstrap, "
        f"{g['replicates']:,} replicates)"
    )
    cv = inp.specifications.get("cv_gain_over_claim_status")
    if cv:
        specs = inp.specifications
        text += (
            f"; cross-validated on the training part ({specs['folds']} folds, unpenalised fits "
            f"on the same folds), {specs['specifications']['configured']['cv_roc_auc']:.3f} "
            f"against {specs['claim_status_alone']['cv_roc_auc']:.3f}, difference "
            f"{cv['mean']:+.3f} (± {cv['std']:.3f} across folds)"
        )
    return text + "."


# --- assumptions and the forest plot -----------------------------------------------------------


def assumption_rows(assumptions: dict) -> list[dict]:
    """One line per check: name, verdict and its headline figure."""
    rows = []
    for key, check in assumptions["checks"].items():
        f = check["figures"]
        headline = {
            "binary_outcome": lambda f: f"{pct(f['verified_share'])} verified",
            "independent_observations": lambda f: (
                f"{f['duplicated_video_ids']} repeated videos; no author id, so videos by one "
                "author cannot be told apart"
            ),
            "no_severe_multicollinearity": lambda f: (
                f"highest VIF {f['max_vif']:.1f}; left out: {left_out_words(f)}"
            ),
            "linearity_of_the_logit": lambda f: (
                f"smallest p = {f['smallest_p']['p_value']:.3f} "
                f"({label(f['smallest_p']['predictor'])}) against {f['threshold']:.4f}; "
                "not shown to hold"
                if not f["non_linear"]
                else "non-linear: " + ", ".join(label(c) for c in f["non_linear"])
            ),
            "no_extreme_outliers_or_overly_influential_points": lambda f: (
                f"largest Cook's distance {f['max_cooks_distance']:.3f}"
            ),
            "sample_size": lambda f: f"{f['events_per_parameter']:.0f} events per parameter",
        }.get(key, lambda f: "")(f)
        rows.append(
            {
                "name": check["name"],
                "verdict": check["verdict"],
                "figure": headline,
                "rule": check["rule"],
            }  # fmt: skip
        )
    return rows


def left_out_words(mc: dict, why: bool = False) -> str:
    """The counts the model leaves out, with their VIF among all counts (the rule's figure)."""
    if not mc["dropped"]:
        return "no count"
    vif = mc["vif_with_every_count"]
    out = ", ".join(f"{label(c)} (VIF {vif[c]:.1f})" for c in mc["dropped"])
    if why and "video_like_count" in mc["dropped"]:
        out += f", which move with views (r = {mc['like_vs_view_r']:.2f})"
    if not mc["configuration_follows_rule"]:
        out += ", not what the VIF rule would leave out"
    return out


def forest_rows(inp: Inputs) -> list[dict]:
    """Conditional odds ratios (grey where they do not survive Holm) with the marginal ones."""
    found = inp.coefficients["associations"]
    rows = []
    for name, c in inp.coefficients["inference"]["coefficients"].items():
        key, m = _or_key(c), found["marginal"][name]
        rows.append(
            {
                "label": label(name) + ("" if c["binary"] else " (per SD)"),
                "odds_ratio": c[key],
                "ci_low": c[f"{key}_ci_low"],
                "ci_high": c[f"{key}_ci_high"],
                "survives": name in found["survive_holm"],
                "marginal_odds_ratio": m["odds_ratio"],
                "marginal_ci_low": m["ci_low"],
                "marginal_ci_high": m["ci_high"],
            }
        )
    return rows


def skew_sentence(ratios: list[dict], tolerance: float = 0.1) -> str:
    """Where each count's skew comes from, worded by a check on its mean / median ratios
    (`ratios`: one dict per count, "count" naming it, "<claim status>: mean / median" keys and
    "all videos: mean / median"): about symmetric within each claim status (ratio within
    `tolerance` of 1) but skewed over all videos means the skew comes from mixing the groups."""
    mixing, within, symmetric = [], [], []
    for r in ratios:
        overall = r["all videos: mean / median"]
        groups = [v for k, v in r.items() if k.endswith("mean / median") and k.startswith(
            ("claim", "opinion"))]  # fmt: skip
        name = label(r["count"])
        if all(abs(v - 1) <= tolerance for v in groups):
            (mixing if overall > 1 + tolerance else symmetric).append(name)
        else:
            within.append(name)
    out = []
    if mixing:
        out.append(
            f"{words(mixing).capitalize()}: about symmetric within each claim status (mean within "
            f"{tolerance:.0%} of the median), skewed over all videos: that skew comes from mixing "
            "claims and opinions, whose engagement differs greatly."
        )
    if within:
        out.append(
            f"{words(within).capitalize()}: skewed within each claim status too (mean above the "
            "median), which is one reason the specification with log counts is compared below."
        )
    if symmetric:
        out.append(f"{words(symmetric).capitalize()}: about symmetric, within and over all.")
    return " ".join(out)
