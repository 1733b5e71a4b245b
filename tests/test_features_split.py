"""Features, IQR capping, the split and resampling, on small frames with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from tiktok_verified.data import schema
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.features import build_features, cap_upper, iqr_upper_limits
from tiktok_verified.data.schema import Y
from tiktok_verified.modeling import resampling as resample
from tiktok_verified.modeling.split import make_split, split_rows


def videos(n: int = 400, verified_every: int = 10) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    return pl.DataFrame(
        {
            "video_id": np.arange(1_000_000_000, 1_000_000_000 + n),
            schema.OUTCOME: [
                schema.POSITIVE if i % verified_every == 0 else schema.NEGATIVE for i in range(n)
            ],
            "video_duration_sec": rng.integers(5, 61, n),
            "video_view_count": rng.integers(0, 10_000, n),
            "video_like_count": rng.integers(0, 1_000, n),
            "video_share_count": rng.integers(0, 100, n),
            "video_download_count": rng.integers(0, 10, n),
            "video_comment_count": rng.integers(0, 10, n),
            schema.TEXT: ["i think that the sky  is blue"] * n,
            "claim_status": ["claim", "opinion"] * (n // 2),
            "author_ban_status": ["active"] * n,
        }
    ).cast(
        {
            schema.OUTCOME: pl.Enum(list(schema.CATEGORIES[schema.OUTCOME])),
            "claim_status": pl.Enum(list(schema.CATEGORIES["claim_status"])),
            "author_ban_status": pl.Enum(list(schema.CATEGORIES["author_ban_status"])),
        }
    )


def test_build_features_selects_and_codes(params):
    cfg = dataclasses.replace(params.features, text=("text_length", "word_count"))
    out = build_features(videos(), cfg).collect()
    assert out.columns == [
        "video_id",
        Y,
        *cfg.numeric,
        "text_length",
        "word_count",
        *cfg.categorical,
    ]
    assert out[Y].to_list()[:3] == [1, 0, 0]
    assert out["text_length"][0] == len("i think that the sky  is blue")
    assert out["word_count"][0] == 7
    assert "video_like_count" not in out.columns


def test_iqr_cap_matches_the_course_rule():
    frame = pl.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8, 100]})
    q1, q3 = np.percentile(frame["x"], [25, 75])
    limits = iqr_upper_limits(frame, ("x",), 1.5)
    assert limits["x"]["upper"] == pytest.approx(q3 + 1.5 * (q3 - q1))
    capped = cap_upper(frame, limits)["x"]
    assert capped.max() == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert capped[:8].to_list() == [1, 2, 3, 4, 5, 6, 7, 8]


def test_split_is_by_video_id_seeded_disjoint_and_stable_when_rows_are_added():
    frame = build_features(videos(1_000), _features()).collect()
    train, test = split_rows(frame, 0.25, seed=0)
    assert train.height + test.height == frame.height
    assert test.height == pytest.approx(250, abs=3 * (1_000 * 0.25 * 0.75) ** 0.5)
    assert set(train["video_id"]).isdisjoint(test["video_id"])
    again, _ = split_rows(frame, 0.25, seed=0)
    assert again.equals(train)
    other, _ = split_rows(frame, 0.25, seed=1)
    assert not other.equals(train)
    # A video's part depends on its id and the seed only: reordered rows, or a version of the
    # data with more rows, put every video that was already there in the same part.
    shuffled_train, _ = split_rows(frame.sample(fraction=1.0, shuffle=True, seed=3), 0.25, 0)
    assert set(shuffled_train["video_id"]) == set(train["video_id"])
    bigger = build_features(videos(3_000), _features()).collect()
    assert set(frame["video_id"]) < set(bigger["video_id"])  # the stand-in grows, same ids
    bigger_train, bigger_test = split_rows(bigger, 0.25, seed=0)
    assert set(train["video_id"]) <= set(bigger_train["video_id"])
    assert set(test["video_id"]) <= set(bigger_test["video_id"])


def test_the_split_hash_is_pinned():
    """splitmix64 on the id: the same numbers on every machine and in both engines (the
    Spark engine runs this very function on Arrow batches)."""
    from tiktok_verified.modeling import partition

    ids = np.array([7017666017, 8963307283, -1, 0, 2**62 + 5], dtype=np.int64)
    # splitmix64's published first output for state 0 (Vigna's reference code).
    assert partition.mix64(np.array([0], dtype=np.uint64))[0] == 0xE220A8397B1DCDAF
    draws = partition.unit_draw(ids, seed=0, copies=0)
    assert np.all((draws >= 0) & (draws < 1))
    np.testing.assert_array_equal(draws, partition.unit_draw(ids[::-1], 0, 0)[::-1])
    assert not np.array_equal(draws, partition.unit_draw(ids, 1, 0))
    assert not np.array_equal(draws, partition.unit_draw(ids, 0, 1))
    # Uniform: 100k ids in 10 equal bins within 5 SDs of 10k each.
    counts = np.bincount(
        (partition.unit_draw(np.arange(100_000) * 7919 + 11, 0, 0) * 10).astype(int), minlength=10
    )
    assert np.all(np.abs(counts - 10_000) < 5 * 95)


def test_split_refuses_a_part_without_a_class():
    frame = build_features(videos(1_000), _features()).collect()
    one_verified = pl.concat([frame.filter(pl.col(Y) == 0), frame.filter(pl.col(Y) == 1).head(1)])
    with pytest.raises(InputError, match="no 'verified' video in the (training|test) part"):
        split_rows(one_verified, 0.25, seed=0, source="features")


def _features():
    from conftest import compose_params

    return compose_params().features


@pytest.mark.parametrize(
    "strategy,balanced,same_rows",
    [
        ("none", False, True),
        ("class_weight", False, True),
        ("upsample", True, False),
        ("downsample", True, False),
    ],
)
def test_resample_strategies(strategy, balanced, same_rows):
    frame = build_features(videos(), _features()).collect()
    out = resample.apply(frame, strategy, seed=0)
    positives = int(out[Y].sum())
    assert (positives == out.height - positives) is balanced
    assert out.equals(frame) is same_rows
    if strategy == "upsample":
        assert out.height == 2 * (frame.height - int(frame[Y].sum()))
        assert out.unique().height == frame.height  # only copies of existing rows
    if strategy == "downsample":
        assert out.height == 2 * int(frame[Y].sum())
        assert out.join(frame, on=out.columns, how="anti").height == 0


@pytest.mark.parametrize("strategy", ["none", "upsample", "downsample", "class_weight"])
def test_only_the_exemplar_protocol_leaks_test_rows_into_train(params, strategy):
    frame = build_features(videos(), params.features).collect()
    cfg = dataclasses.replace(
        params, resample=dataclasses.replace(params.resample, strategy=strategy)
    )
    result = make_split(frame, cfg)
    assert result.report["test_rows_whose_video_is_in_train"] == 0
    assert result.test[Y].mean() == pytest.approx(frame[Y].mean(), abs=0.01)
    assert set(result.train["video_id"]) == set(result.train_original["video_id"]) or (
        strategy == "downsample"
    )
    assert result.train_original["video_id"].is_unique().all()
    leaky = dataclasses.replace(
        cfg, resample=dataclasses.replace(cfg.resample, strategy="exemplar")
    )
    leaked = make_split(frame, leaky)
    assert leaked.report["test_rows_whose_video_is_in_train"] > 0
    assert (
        leaked.test.join(leaked.train, on="video_id", how="semi").height
        == (leaked.report["test_rows_whose_video_is_in_train"])
    )
    # Its fitting rows hold copies; inference, diagnostics and CV get one row per video.
    assert leaked.train["weight"].max() > 1  # copies of the same videos, as weights
    assert leaked.train_original["video_id"].is_unique().all()
    assert set(leaked.train_original["video_id"]) == set(leaked.train["video_id"])
    assert leaked.report["rows"]["train_before_resample"] == leaked.train.height
    assert leaked.report["rows"]["train"] == leaked.train["weight"].sum()


def test_caps_are_fitted_on_train_only(params):
    frame = build_features(videos(), params.features).collect()
    # An extreme comment count in the data must not move the cap if it falls in test.
    result = make_split(frame, params)
    test = result.test
    cap = result.report["caps"]["video_comment_count"]["upper"]
    pre_train, _ = split_rows(frame, params.split.test_size, params.base.seed)
    assert cap == pytest.approx(
        iqr_upper_limits(pre_train, ("video_comment_count",), 1.5)["video_comment_count"]["upper"]
    )
    assert test["video_comment_count"].max() <= cap
