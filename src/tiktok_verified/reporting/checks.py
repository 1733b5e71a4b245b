"""The checks a conclusion's wording is chosen by: each returns the verdict a sentence in
reporting.findings or reporting.conclusions is worded from (tests/test_checks.py plants data on
which each flips)."""

from __future__ import annotations

from tiktok_verified.reporting.inputs import Inputs
from tiktok_verified.reporting.words import OPINION

# --- checks: what a sentence may conclude --------------------------------------------------


def ci_text(low: float, high: float, digits: int = 3) -> str:
    return f"95% CI {low:+.{digits}f} to {high:+.{digits}f}"


def interval_check(low: float, high: float) -> str:
    """ "above" when a difference's interval lies above 0, "below" when below, else "none"."""
    return "above" if low > 0 else "below" if high < 0 else "none"


def claim_status_check(inp: Inputs) -> str:
    """The direction of the claim-status association: "higher" (opinion videos have higher
    odds of a verified author, surviving Holm), "lower", or "none" (it does not survive)."""
    found = inp.coefficients["associations"]
    c = inp.coefficients["inference"]["coefficients"].get(OPINION)
    if c is None or OPINION not in found["survive_holm"]:
        return "none"
    return "higher" if c["odds_ratio"] > 1 else "lower"


def beyond_claim_status_check(inp: Inputs) -> dict[str, bool]:
    """For each specification of the sensitivity table: do the predictors besides claim status
    add something detectable (their joint likelihood-ratio test, or any of them surviving
    Holm)?"""
    alpha = inp.coefficients["associations"]["alpha"]
    out = {}
    for key, row in inp.specifications.get("sensitivity", {}).items():
        joint = row["joint_test_besides_claim_status"]
        others = [n for n in row["survive_holm"] if n != OPINION]
        out[key] = bool(others) or (joint is not None and joint["p_value"] < alpha)
    return out


def predictive_gain_check(inp: Inputs) -> str | None:
    """Whether the model ranks held-out videos better ("above"), worse ("below") or no
    detectably differently ("none") than claim status alone: the paired 95% interval of the
    ROC AUC difference; None without claim status."""
    g = inp.metrics.get("predictive_gain")
    if g is None:
        return None
    return interval_check(g["roc_auc"]["ci_low"], g["roc_auc"]["ci_high"])


def calibration_check(inp: Inputs) -> tuple[str, str | None]:
    """("calibrated" | "miscalibrated", by Spiegelhalter's test at 5%) and, against claim
    status alone, the Brier difference's interval: "above" (the model's Brier is worse),
    "below" (better) or "none"; None without claim status."""
    fit = inp.metrics["calibration"]["test_of_fit"]
    verdict = "calibrated" if fit["p_value"] >= 0.05 else "miscalibrated"
    g = inp.metrics.get("predictive_gain")
    if g is None:
        return verdict, None
    return verdict, interval_check(g["brier"]["ci_low"], g["brier"]["ci_high"])


def reversal_check(inp: Inputs, name: str) -> str:
    """Why a predictor's conditional odds ratio points the other way from its marginal one:
    "confounding" when it already does with claim status alone held fixed, "suppression" when
    only the other predictors turn it."""
    adjusted = inp.specifications.get("adjusted_for_claim_status_only", {}).get(name)
    marginal = inp.coefficients["associations"]["marginal"][name]
    if adjusted is None:
        return "suppression"
    return (
        "confounding"
        if (adjusted["odds_ratio"] > 1) != (marginal["odds_ratio"] > 1)
        else ("suppression")
    )


def survives_in(inp: Inputs, name: str) -> dict[str, float]:
    """The specifications of the sensitivity table in which `name` (or its logged form)
    survives Holm, with its Holm p-value there."""
    out = {}
    for key, row in inp.specifications.get("sensitivity", {}).items():
        for n in (name, f"log_{name}"):
            if n in row["survive_holm"]:
                out[key] = row["holm_p"][n]
    return out


def dropped_rows_check(inp: Inputs) -> str | None:
    """Whether the dropped incomplete rows' verified share differs from the kept rows'
    (Fisher's exact test at 5%): "higher", "lower" or "same"; None when none were dropped."""
    d = inp.data.get("incomplete_rows")
    if d is None or d["fisher_exact_p"] is None:
        return None
    if d["fisher_exact_p"] >= 0.05:
        return "same"
    return "higher" if d["verified_share"] > d["kept_verified_share"] else "lower"
