"""The metrics files' contracts: every committed file meets its model; a writer that drops a key
and a reader that meets a file without one both stop in one line naming the file and the key;
the assumption checks are keyed by stable keys, not by their display titles."""

from __future__ import annotations

import json
import shutil

import pytest

from tiktok_verified import contracts
from tiktok_verified.stages import report as report_stage

from conftest import REPO_ROOT

METRICS = REPO_ROOT / "metrics"


@pytest.mark.parametrize("name", list(contracts.CONTRACTS))
def test_every_committed_metrics_file_meets_its_contract(name):
    assert contracts.read(METRICS / name) == json.loads((METRICS / name).read_text())


def test_a_writer_that_drops_a_key_is_stopped_and_writes_nothing(tmp_path):
    payload = json.loads((METRICS / "split.json").read_text())
    del payload["rows"]["test"]
    target = tmp_path / "split.json"
    with pytest.raises(contracts.ContractError) as caught:
        contracts.write(target, payload, "split.json")
    assert str(caught.value).startswith(f"{target}: no key 'rows.test' (the contract of split.json")
    assert not target.exists()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("metrics.json", ("test", "roc_auc")),
        ("coefficients.json", ("associations", "survive_holm")),
        ("assumptions.json", ("checks", "sample_size")),
        ("data.json", ("rows_dropped", "incomplete")),
    ],
)
def test_the_report_stage_stops_in_one_line_on_a_missing_or_renamed_key(
    tmp_path, capsys, name, path
):
    metrics = tmp_path / "metrics"
    shutil.copytree(METRICS, metrics)
    payload = json.loads((metrics / name).read_text())
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1] + "_renamed"] = parent.pop(path[-1])
    (metrics / name).write_text(json.dumps(payload))
    out = tmp_path / "reports"
    code = report_stage.main(
        ["--metrics-dir", str(metrics), "--out-dir", str(out), "--notebook", "unread.ipynb"]
        + ["--walkthrough", str(out / "w.ipynb"), "--walkthrough-html", str(out / "w.html")]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, err
    assert err.startswith(f"report: error: {metrics / name}: no key '{'.'.join(path)}'"), err
    assert not out.exists()  # nothing rendered, no blank where the figure should be


def test_assumption_checks_are_keyed_by_stable_keys_not_titles():
    checks = json.loads((METRICS / "assumptions.json").read_text())["checks"]
    assert tuple(checks) == contracts.ASSUMPTION_KEYS
    # The titles are free text: a key is not derived from them.
    assert checks["linearity_of_the_logit"]["name"] != "linearity_of_the_logit"


def test_the_contracts_are_json_schemas():
    for model in contracts.CONTRACTS.values():
        schema = model.model_json_schema()
        assert schema["type"] == "object" and schema["required"]
