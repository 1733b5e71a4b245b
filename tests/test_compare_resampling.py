"""The side-by-side comparison of resampling strategies."""

from __future__ import annotations

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import standin as synthetic
from tiktok_verified.tools import compare_resampling


def test_only_the_exemplar_protocol_sees_test_rows_and_inflates_precision(params):
    videos = ingest.ingest_bytes(synthetic.csv_bytes(19_382, seed=7), "stand-in").frame
    rows = {r["resample"]: r for r in compare_resampling.compare(videos, params)}
    assert set(rows) == {"none", "upsample", "downsample", "class_weight", "exemplar"}
    for name, row in rows.items():
        assert (row["test_rows_seen_in_training"] > 0) is (name == "exemplar")
    honest = rows["upsample"]
    assert rows["none"]["test_rows"] == honest["test_rows"] == rows["downsample"]["test_rows"]
    # The exemplar's test set is balanced and leaky: precision far above any honest protocol.
    assert rows["exemplar"]["precision"] > 2 * max(
        r["precision"] for n, r in rows.items() if n != "exemplar"
    )
    assert rows["none"]["recall"] < honest["recall"]
    table = compare_resampling.to_markdown(list(rows.values()))
    assert table.count("\n") == 2 + len(rows)
    assert f"| exemplar | {rows['exemplar']['fit_rows']:,} |" in table
