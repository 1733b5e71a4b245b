"""Bad configuration fails before any work, naming the key and what is allowed: composed from
conf/ with `-S`-style overrides exactly as `dvc exp run` does, then validated; and every stage
of dvc.yaml refuses a bad params.yaml before it reads or writes anything."""

from __future__ import annotations

import importlib
import shlex

import pytest
import yaml
from hydra.errors import HydraException

from tiktok_verified.config import ConfigError, parse_params
from tiktok_verified.tools import compose

from conftest import REPO_ROOT

CONF = REPO_ROOT / "conf"
SECTIONS = "base, data, engine, evaluate, features, model, resample, split"
MODEL_KEYS = "C, l1_ratio, max_iter, name, penalized, solver, standardize, tol"

#: override -> the message (ConfigError from our validation, after Hydra composed it)
BAD_VALUES = {
    "model.C=-1": "params: model.C: must be a positive number, got -1",
    "model.C=0": "params: model.C: must be a positive number, got 0",
    "model.C=abc": "params: model.C: must be a positive number, got 'abc'",
    "split.test_size=1.5": "params: split.test_size: must be a fraction in (0, 1), got 1.5",
    "split.test_size=0": "params: split.test_size: must be a fraction in (0, 1), got 0",
    "model.l1_ratio=2": "params: model.l1_ratio: must be in [0, 1] (0 = L2, 1 = L1), got 2",
    "model.max_iter=true": "params: model.max_iter: must be a positive integer, got True",
    "model.solver=sgd": "params: model.solver: must be one of "
    "['lbfgs', 'liblinear', 'newton-cg', 'newton-cholesky', 'sag', 'saga'], got 'sgd'",
    "resample.strategy=smote": "params: resample.strategy: must be one of "
    "['none', 'upsample', 'downsample', 'class_weight', 'exemplar'], got 'smote'",
    "evaluate.threshold=1": "params: evaluate.threshold: must be in (0, 1), got 1",
    "base.seed=-1": "params: base.seed: must be a non-negative integer, got -1",
    "features.numeric=video_view_count": "params: features.numeric: must be a list of column "
    "names from ['video_duration_sec', 'video_view_count', 'video_like_count', "
    "'video_share_count', 'video_download_count', 'video_comment_count'], "
    "got 'video_view_count'",
    "features.cap_iqr=[video_like_count]": "params: features.cap_iqr: ['video_like_count'] not "
    "among features.numeric ['video_duration_sec', 'video_view_count', 'video_share_count', "
    "'video_download_count', 'video_comment_count']",
    # Hydra's hint for an unknown key is `+key=value`; that composes, and we refuse it.
    "+model.Cc=1": f"params: model.Cc: unknown key; allowed keys: {sorted(MODEL_KEYS.split(', '))}",
}

#: override -> the message of `python -m tiktok_verified.tools.compose` (Hydra refuses these itself)
HYDRA_REFUSES = {
    "model=l3": "model=l3: unknown option for group 'model'; "
    "allowed: elasticnet, l1, l2, unpenalized",
    "resample=smote": "resample=smote: unknown option for group 'resample'; "
    "allowed: class_weight, downsample, exemplar, none, upsample",
    "model.Cc=1": f"model.Cc: unknown key 'Cc'; allowed keys in 'model': {MODEL_KEYS}",
    "modle.C=1": f"modle.C: unknown key 'modle'; allowed keys (sections): {SECTIONS}",
}


@pytest.mark.parametrize("override", BAD_VALUES)
def test_bad_value_is_refused_naming_key_and_allowed_values(override):
    composed = yaml.safe_load(compose.compose_text(CONF, [override]))
    with pytest.raises(ConfigError) as err:
        parse_params(composed)
    assert str(err.value) == BAD_VALUES[override]


@pytest.mark.parametrize("override", HYDRA_REFUSES)
def test_unknown_option_or_key_is_refused_by_composition(override, tmp_path, capsys):
    with pytest.raises(HydraException):
        compose.compose_text(CONF, [override])
    out = tmp_path / "params.yaml"
    assert compose.main(["--conf", str(CONF), "--out", str(out), override]) == 1
    assert capsys.readouterr().err == f"compose: error: {HYDRA_REFUSES[override]}\n"
    assert not out.exists()


@pytest.mark.parametrize("override", ["model.C=-1", "split.test_size=1.5"])
def test_compose_cli_refuses_bad_values_without_writing(override, tmp_path, capsys):
    out = tmp_path / "params.yaml"
    out.write_text("last good\n")
    assert compose.main(["--conf", str(CONF), "--out", str(out), override]) == 1
    assert capsys.readouterr().err == f"compose: error: {BAD_VALUES[override]}\n"
    assert out.read_text() == "last good\n"


def stage_commands() -> dict[str, tuple[str, list[str]]]:
    """Each dvc.yaml stage that reads params: its module and arguments, as DVC runs it."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, stage in stages.items():
        argv = shlex.split(stage["cmd"])
        while argv and "=" in argv[0]:  # environment assignments such as PYTHONPATH=src
            argv.pop(0)
        assert argv[:2] == ["python", "-m"], stage["cmd"]
        if stage.get("params"):
            out[name] = (argv[2], argv[3:])
    return out


STAGES = stage_commands()


def test_every_stage_with_params_is_covered():
    assert {"ingest", "features", "split", "statistics", "model", "report"} <= set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("override", ["model.C=-1", "split.test_size=1.5"])
def test_every_stage_refuses_bad_params_before_any_work(
    stage, override, tmp_path, monkeypatch, capsys
):
    """Run in an empty directory: a stage that read an input or wrote an output before
    validating would crash or leave a file; it must exit 1 with the message instead."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(compose.compose_text(CONF, [override]))
    module, argv = STAGES[stage]
    main = importlib.import_module(module).main
    assert main(argv) == 1
    assert capsys.readouterr().err == f"{stage}: error: {BAD_VALUES[override]}\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["params.yaml"]
