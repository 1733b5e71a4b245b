"""conf/ composes in every combination, and params.yaml is exactly its composition."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tiktok_verified.config import parse_params
from tiktok_verified.tools import compose

from conftest import REPO_ROOT, compose_params

GROUPS = {
    group.name: sorted(p.stem for p in group.glob("*.yaml"))
    for group in sorted((REPO_ROOT / "conf").iterdir())
    if group.is_dir()
}


def test_params_yaml_equals_composition_of_conf():
    committed = (REPO_ROOT / "params.yaml").read_text(encoding="utf-8")
    assert committed == compose.compose_text(REPO_ROOT / "conf"), (
        "params.yaml has drifted from conf/: run `make params` and commit it"
    )


def test_check_mode_detects_drift(tmp_path: Path, capsys):
    out = tmp_path / "params.yaml"
    out.write_text(compose.compose_text(REPO_ROOT / "conf"), encoding="utf-8")
    assert compose.main(["--conf", str(REPO_ROOT / "conf"), "--out", str(out), "--check"]) == 0
    out.write_text(out.read_text().replace("C: 1.0", "C: 2.0"), encoding="utf-8")
    assert compose.main(["--conf", str(REPO_ROOT / "conf"), "--out", str(out), "--check"]) == 1
    assert "make params" in capsys.readouterr().err


def test_expected_groups_exist():
    for group in ("data", "features", "split", "resample", "model", "evaluate"):
        assert GROUPS.get(group), f"conf/{group}/ has no options"
    assert {"l2", "l1", "elasticnet", "unpenalized"} <= set(GROUPS["model"])
    assert {"none", "upsample", "downsample", "class_weight", "exemplar"} <= set(GROUPS["resample"])


@pytest.mark.parametrize("group,option", [(g, o) for g, options in GROUPS.items() for o in options])
def test_every_group_option_composes_and_validates(group, option):
    params = compose_params(f"{group}={option}")
    section = getattr(params, group)
    raw = yaml.safe_load((REPO_ROOT / "conf" / group / f"{option}.yaml").read_text())
    for key, value in raw.items():
        got = getattr(section, key)
        assert (list(got) if isinstance(got, tuple) else got) == value


def test_overrides_combine_as_with_dvc_exp_run():
    params = compose_params("model=l1", "model.C=0.05")
    assert params.model.name == "l1" and params.model.C == 0.05 and params.model.l1_ratio == 1.0


def test_defaults_match_the_course_exemplar(params):
    assert params.model.max_iter == 800 and params.model.C == 1.0
    assert params.model.l1_ratio == 0.0 and params.model.penalized
    assert params.split.test_size == 0.25
    assert params.resample.strategy == "upsample"
    assert "video_like_count" not in params.features.numeric
    assert "text_length" in params.features.text
    assert set(params.features.categorical) == {"claim_status", "author_ban_status"}


def test_compose_main_rejects_an_invalid_override(tmp_path: Path, capsys):
    out = tmp_path / "params.yaml"
    code = compose.main(["--conf", str(REPO_ROOT / "conf"), "--out", str(out), "model.C=-1"])
    assert code == 1
    assert "model.C" in capsys.readouterr().err
    assert not out.exists()


def test_parse_params_roundtrip_of_committed_file():
    raw = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    assert raw["model"]["C"] == parse_params(raw).model.C
