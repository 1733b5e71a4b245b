"""The pull-request report's sections, from hand-made diffs (no git, no dvc)."""

from __future__ import annotations

import pytest

from tiktok_verified.tools.pr_diffs import (
    default_remote_in,
    metrics_changes,
    remotes_in,
    static_spec,
)
from tiktok_verified.tools.pr_report import COMMENT_LIMIT, build_report
from tiktok_verified.tools.pr_sections import (
    Context,
    all_metrics_section,
    confusion_section,
    data_section,
    fmt_delta,
    header_section,
    headline_section,
    params_section,
    verdict,
)

REAL = {"source": "real", "path": "data/raw/tiktok_dataset.csv", "sha256": "ab" * 32,
        "rows_in": 19382, "rows_kept": 19084}  # fmt: skip
SYNTHETIC = {"source": "synthetic", "path": "synthetic(seed=0, rows=19382)", "rows_kept": 19090}


def context(**changes) -> Context:
    values = dict(
        base="main",
        base_rev="main",
        base_short="aaaa1111",
        head_short="bbbb2222",
        dirty=False,
        stale_outputs=False,
        base_data=REAL,
        committed_base_data=REAL,
        new_data=REAL,
        rebaselined=False,
        data_origin=None,
        remotes={},
        default_remote=None,
        status={},
        files=["conf/model/l2.yaml", "params.yaml"],
    )
    return Context(**(values | changes))


@pytest.mark.parametrize(
    "old, new, shown",
    [
        (1.0, 0.1, "-0.9"),
        (0.618985, 0.619006, "+0.000021"),
        (0.671335, 0.671276, "-0.000059"),
        (2402, 2410, "+8"),
        (56, 50, "-6"),
        (0.5, 0.5, "0"),
        (None, 0.3, "new"),
        (0.3, None, "removed"),
        ("pass", "warn", "changed"),
        ("pass", "pass", "="),
    ],
)
def test_delta_has_the_sign_of_new_minus_old(old, new, shown):
    assert fmt_delta(dvc(old, new)) == shown


def dvc(old, new) -> dict:
    """An entry as `dvc metrics diff --json` gives it: `diff` (unrounded new - old) for two
    numbers (booleans too, as DVC does; metrics_changes drops those)."""
    entry = {"old": old, "new": new}
    if isinstance(old, int | float) and isinstance(new, int | float):
        entry["diff"] = new - old
    return entry


def test_verdict_knows_which_way_is_better():
    assert verdict("test.roc_auc", dvc(0.60, 0.61)) == "better"
    assert verdict("test.recall", dvc(0.80, 0.70)) == "worse"
    assert verdict("test.log_loss", dvc(0.60, 0.61)) == "worse"
    assert verdict("brier", dvc(0.22, 0.21)) == "better"
    assert verdict("test.log_loss_prior_corrected", dvc(0.2196, 0.2197)) == "worse"
    assert verdict("test.rows", dvc(10, 12)) == ""
    assert verdict("test.accuracy", dvc(0.5, 0.5)) == ""


def test_params_section_lists_each_change():
    text = params_section([("model.C", 1.0, 0.1), ("model", "l2", "l1")])
    assert "| `model.C` | 1 | 0.1 |" in text
    assert "| `model` | l2 | l1 |" in text
    assert "No parameter changed." in params_section([])


def test_headline_shows_held_out_metrics_with_cv_spread():
    metrics = {
        "metrics/metrics.json": {
            "test.accuracy": dvc(0.55, 0.6),
            "test.log_loss": dvc(0.62, 0.64),
            "test.rows": dvc(4771, 4771),
            "train.accuracy": dvc(0.5, 0.5),
        },
        "metrics/cv.json": {"std.accuracy": dvc(0.01, 0.0123)},
    }
    text = headline_section(metrics)
    assert "| accuracy | 0.55 | 0.6 | +0.05 | better | ± 0.012 |" in text
    assert "| log_loss | 0.62 | 0.64 | +0.02 | worse | — |" in text
    assert "rows" not in text and "train" not in text


def test_confusion_before_after_and_change():
    old = {"labels": ["not verified", "verified"], "matrix": [[2402, 2069], [56, 244]]}
    new = {"labels": ["not verified", "verified"], "matrix": [[2500, 1971], [60, 240]]}
    text = confusion_section(old, new)
    before, after = text.index("**Before**"), text.index("**After**")
    change = text.index("**Change**")
    assert "| **not verified** | 2,402 | 2,069 |" in text[before:after]
    assert "| **verified** | 60 | 240 |" in text[after:change]
    assert "| **not verified** | +98 | -98 |" in text[change:]
    assert "| **verified** | +4 | -4 |" in text[change:]


def test_every_metric_is_listed_changed_in_a_table_unchanged_with_its_value():
    metrics = {
        "metrics/metrics.json": {
            "test.accuracy": dvc(0.5, 0.5),
            "test.f1": dvc(0.2, 0.25),
        },
        "metrics/assumptions.json": {
            "checks.vif.verdict": dvc("pass", "warn"),
            "rows": dvc(100, 100),
        },
    }
    text = all_metrics_section(metrics)
    # metrics.json: every value in the table, changed or not
    assert "| `test.accuracy` | 0.5 | 0.5 | 0 |" in text
    assert "| `test.f1` | 0.2 | 0.25 | +0.05 |" in text
    # other files: changes in the table, the rest listed with their values
    assert "| `checks.vif.verdict` | pass | warn | changed |" in text
    assert "Unchanged (Δ 0): `rows` 100" in text
    assert "2 values, 1 changed" in text
    assert "1 values unchanged" in all_metrics_section(metrics, compact=True)


def test_data_section_says_where_the_numbers_come_from():
    text = data_section(context(data_origin="pulled with `dvc pull` from the DVC remote `s`"))
    assert "the course file `data/raw/tiktok_dataset.csv` (sha256 `abababababab…`" in text
    assert "from the DVC remote `s`" in text
    assert "SYNTHETIC" not in text and "WARNING" not in text

    synthetic = data_section(context(new_data=SYNTHETIC, base_data=SYNTHETIC))
    assert "**SYNTHETIC stand-in**" in synthetic and "> **SYNTHETIC DATA.**" in synthetic
    assert "was absent, so the pipeline ran on the synthetic stand-in" in synthetic

    mixed = data_section(context(new_data=SYNTHETIC, base_data=REAL))
    assert "ran on different data" in mixed

    rebased = data_section(
        context(
            new_data=SYNTHETIC,
            base_data=SYNTHETIC,
            committed_base_data=REAL,
            rebaselined=True,
            base_rev="c0ffee00" * 5,
            remotes={"storage": "/srv/dvc"},
            default_remote="storage",
        )
    )
    assert "BASE's committed metrics came from the course file" in rebased
    assert "re-run here on this PR's data (commit `c0ffee00`" in rebased
    assert "ran on different data" not in rebased
    assert "`storage` (/srv/dvc)" in rebased


def test_report_stays_under_the_comment_limit():
    many = {f"checks.c{i}.figures.value": {"old": i, "new": i} for i in range(3000)}
    metrics = {"metrics/metrics.json": {}, "metrics/assumptions.json": many}
    text = build_report(context(), [], metrics, None, None, "## Plots")
    assert len(text) <= COMMENT_LIMIT
    assert "3000 values unchanged (omitted for length)" in text


def test_static_spec_shows_counts_and_puts_base_first():
    spec = {
        "params": [{"name": "showValues", "bind": {"input": "checkbox"}}],
        "data": {"values": [{"rev": "workspace", "x": 1}, {"rev": "main", "x": 2}]},
    }
    out = static_spec(spec, ["main", "workspace"])
    assert out["params"] == [{"name": "showValues", "value": True}]
    assert [v["rev"] for v in out["data"]["values"]] == ["main", "workspace"]
    assert spec["data"]["values"][0]["rev"] == "workspace"  # the input is left alone


def test_metrics_changes_orders_keys_as_in_the_file(tmp_path, monkeypatch):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics/metrics.json").write_text('{"b": 1, "a": {"y": 2, "x": 3}}')
    diff = {
        "metrics/assumptions.json": {
            "z": {"old": 1, "new": 1, "diff": 0},
            "ok": {"old": True, "new": False, "diff": -1},  # DVC subtracts booleans
        },
        "metrics/metrics.json": {
            "a.x": {"old": 3, "new": 3, "diff": 0},
            "b": {"old": 0, "new": 1, "diff": 1},
            "a.y": {"old": 2, "new": 2, "diff": 0},
        },
    }
    monkeypatch.setattr("tiktok_verified.tools.pr_diffs.dvc_json", lambda args, cwd: diff)
    out = metrics_changes("main", tmp_path)
    assert list(out) == ["metrics/metrics.json", "metrics/assumptions.json"]
    assert list(out["metrics/metrics.json"]) == ["b", "a.y", "a.x"]
    # DVC's own diff is what the Δ column shows; a boolean's is dropped ("changed").
    assert out["metrics/metrics.json"]["b"] == {"old": 0, "new": 1, "diff": 1}
    assert out["metrics/assumptions.json"]["ok"] == {"old": True, "new": False}
    assert fmt_delta(out["metrics/assumptions.json"]["ok"]) == "changed"


def test_header_flags_unreproduced_work_and_stale_committed_results():
    assert "reports every stage up to date" in header_section(context())
    assert "not reproduced** (`dvc status dvc.yaml` lists train)" in header_section(
        context(status={"train": [{"changed deps": {}}]})
    )
    assert "(bbbb2222 + uncommitted changes)" in header_section(context(dirty=True))
    assert "are stale" in header_section(context(stale_outputs=True))
    # On the stand-in, the reproduced metrics differ from committed course-file ones: expected.
    assert "stale" not in header_section(context(stale_outputs=True, new_data=SYNTHETIC))


def test_remotes_come_from_dvc_config_lines_whole():
    listing = (
        "remote.storage.url=/tmp/a/very/long/path/that/dvc/remote/list/would/wrap/at/80/cols\n"
        "remote.storage.access_key_id=abc\n"
        "remote.s3.url=s3://bucket/path.url=odd\n"
        "core.remote=storage\n"
    )
    assert remotes_in(listing) == {
        "storage": "/tmp/a/very/long/path/that/dvc/remote/list/would/wrap/at/80/cols",
        "s3": "s3://bucket/path.url=odd",
    }
    assert default_remote_in(listing) == "storage"
    assert (
        default_remote_in(listing.replace("core.remote=storage\n", "core.autostage=true\n")) is None
    )
