"""What data.json discloses beyond the counts, the same on every engine: the verified share of
the incomplete rows that were dropped, against the kept rows' (Fisher's exact test, scipy), and
the verified share by claim status in the kept rows, the table a reader sees first."""

from __future__ import annotations

from tiktok_verified.data import schema


def disclosure(dropped_by_class: dict, kept_by_claim_status: dict) -> dict:
    """`dropped_by_class`: incomplete rows per outcome label; `kept_by_claim_status`: kept
    rows per claim status, then per outcome label."""
    from scipy.stats import fisher_exact

    pos, neg = schema.POSITIVE, schema.NEGATIVE
    kept = {c: sum(by[c] for by in kept_by_claim_status.values()) for c in (neg, pos)}
    dropped = {c: int(dropped_by_class.get(c, 0)) for c in (neg, pos)}
    n_dropped = dropped[pos] + dropped[neg]
    out: dict = {
        "incomplete_rows": {
            "by_class": dropped,
            "verified_share": dropped[pos] / n_dropped if n_dropped else None,
            "kept_verified_share": kept[pos] / (kept[pos] + kept[neg]),
            "fisher_exact_p": None,
        },
        "by_claim_status": {
            status: {
                "videos": by[pos] + by[neg],
                "verified": by[pos],
                "verified_share": by[pos] / (by[pos] + by[neg]) if by[pos] + by[neg] else None,
            }
            for status, by in sorted(kept_by_claim_status.items())
        },
    }
    if n_dropped:
        table = [[dropped[pos], dropped[neg]], [kept[pos], kept[neg]]]
        out["incomplete_rows"]["fisher_exact_p"] = float(fisher_exact(table)[1])
    return out


def counts_by_claim_status(rows: list[tuple[str, str, int]]) -> dict:
    """(claim status, outcome label, count) triples as {claim status: {label: count}}."""
    out: dict = {}
    for status, label, n in rows:
        by = out.setdefault(status, {schema.NEGATIVE: 0, schema.POSITIVE: 0})
        by[label] += int(n)
    return out
