"""Validation of params: every bad value names its key and what is allowed."""

from __future__ import annotations

import copy

import pytest
import yaml

from tiktok_verified.config import ConfigError, load_params, parse_params

from conftest import REPO_ROOT

RAW = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())


def with_value(path: str, value):
    raw = copy.deepcopy(RAW)
    *parents, leaf = path.split(".")
    node = raw
    for p in parents:
        node = node[p]
    node[leaf] = value
    return raw


@pytest.mark.parametrize(
    "path,value,expected",
    [
        ("model.C", -1, "params: model.C: must be a positive number, got -1"),
        ("model.C", 0, "model.C: must be a positive number"),
        ("model.C", "big", "model.C: must be a positive number, got 'big'"),
        ("model.l1_ratio", 1.5, "model.l1_ratio: must be in [0, 1]"),
        ("model.solver", "adam", "model.solver: must be one of ['lbfgs'"),
        ("model.max_iter", 0, "model.max_iter: must be a positive integer"),
        ("split.test_size", 1.5, "split.test_size: must be a fraction in (0, 1), got 1.5"),
        ("split.test_size", 0, "split.test_size: must be a fraction in (0, 1)"),
        ("resample.strategy", "smote", "resample.strategy: must be one of ['none', 'upsample'"),
        ("evaluate.threshold", 1.0, "evaluate.threshold: must be in (0, 1)"),
        ("data.source", "s3", "data.source: must be one of ['auto', 'synthetic']"),
        ("base.seed", -3, "base.seed: must be a non-negative integer"),
        (
            "features.numeric",
            ["video_views"],
            "features.numeric: unknown column(s) ['video_views']",
        ),
        (
            "features.cap_iqr",
            ["video_like_count"],
            "features.cap_iqr: ['video_like_count'] not among",
        ),
        ("features.iqr_factor", -1, "features.iqr_factor: must be a positive number"),
        ("features.log_counts", "yes", "features.log_counts: must be true or false"),
        (
            "features.interactions",
            ["video_like_count"],
            "features.interactions: ['video_like_count'] not among features.numeric",
        ),
        ("features.interactions", ["video_views"], "features.interactions: unknown column(s)"),
    ],
)
def test_bad_values_name_the_key(path, value, expected):
    with pytest.raises(ConfigError) as err:
        parse_params(with_value(path, value))
    assert expected in str(err.value)


def test_l1_needs_a_solver_that_supports_it():
    raw = with_value("model.l1_ratio", 1.0)
    with pytest.raises(ConfigError, match="l1_ratio > 0 needs solver saga or liblinear"):
        parse_params(raw)


def test_misspelled_key_is_named_with_the_allowed_keys():
    raw = copy.deepcopy(RAW)
    raw["model"]["Cc"] = raw["model"].pop("C")
    with pytest.raises(ConfigError) as err:
        parse_params(raw)
    assert "model.Cc: unknown key; allowed keys: ['C', 'l1_ratio'" in str(err.value)


def test_unknown_and_missing_sections():
    raw = copy.deepcopy(RAW)
    raw["modle"] = raw.pop("model")
    with pytest.raises(ConfigError, match="modle: unknown section"):
        parse_params(raw)
    raw = copy.deepcopy(RAW)
    del raw["split"]
    with pytest.raises(ConfigError, match="split: missing section"):
        parse_params(raw)


def test_integer_C_is_accepted_as_float():
    assert parse_params(with_value("model.C", 10)).model.C == 10.0


def test_load_params_reports_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)
