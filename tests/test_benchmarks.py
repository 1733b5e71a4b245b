"""The benchmark harness's pure parts: stage matching, medians, ratios, the report (no timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from benchmarks import measure, report

from conftest import REPO_ROOT

DVC_YAML = (REPO_ROOT / "dvc.yaml").read_text()


def test_stage_commands_follow_dvc_yaml():
    commands = measure.stage_commands(DVC_YAML)
    stages = yaml.safe_load(DVC_YAML)["stages"]
    assert list(commands) == list(stages)
    assert measure.stage_module(commands["ingest"]) == "tiktok_verified.stages.ingest"


def test_match_stage_by_module_file_and_arguments():
    commands = measure.stage_commands(DVC_YAML)
    for name, cmd in commands.items():
        _, _, module, *args = measure.command_words(cmd)
        argv = [f"/somewhere/src/{module.replace('.', '/')}.py", *args]
        assert measure.match_stage(argv, commands) == name
    ingest_args = measure.command_words(commands["ingest"])[3:]
    assert (
        measure.match_stage(["/x/tiktok_verified/ingest.py", *ingest_args[:-1]], commands) is None
    )
    assert measure.match_stage(["/x/tiktok_verified/features.py", *ingest_args], commands) is None
    assert measure.match_stage(["/x/other/ingest.py", *ingest_args], commands) is None
    assert measure.match_stage([], commands) is None


def test_stage_module_skips_environment_assignments():
    assert measure.stage_module("python -m pkg.mod --a 1") == "pkg.mod"
    assert measure.stage_module("PYTHONPATH=src A_B=1 python -m pkg.mod --a 1") == "pkg.mod"
    assert measure.command_words("PYTHONPATH=src python -m m --x 'a b'") == [
        "python",
        "-m",
        "m",
        "--x",
        "a b",
    ]
    assert measure.stage_module("dvc plots show") is None
    commands = {"s": "PYTHONPATH=src python -m pkg.s --x 1"}
    assert measure.match_stage(["/r/src/pkg/s.py", "--x", "1"], commands) == "s"


def test_dvc_reads_its_yaml_with_libyaml_and_phones_nothing():
    """What keeps a no-op `dvc repro` short: DVC parses dvc.yaml and dvc.lock with
    ruamel.yaml's `typ="safe"` loader, which uses libyaml only if ruamel.yaml.clib is installed
    (an optional extra since ruamel.yaml 0.19; pure Python adds ~0.3 s, a quarter, to a no-op).
    Locked, installed, and used by DVC's own parser (a private module: if DVC moves it, this
    test says so). And no analytics or update check, which would wait on the network."""
    import configparser

    from dvc.utils.serialize import _yaml
    from ruamel.yaml import YAML
    from ruamel.yaml.main import CParser

    assert 'name = "ruamel-yaml-clib"' in (REPO_ROOT / "uv.lock").read_text()
    assert CParser is not None, "ruamel.yaml.clib is missing: DVC parses YAML in pure Python"
    assert YAML(typ="safe").Parser is CParser
    assert _yaml.parse_yaml("a: [1, b]", "x.yaml") == {"a": [1, "b"]}
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / ".dvc" / "config")
    assert config["core"]["analytics"] == "false"
    assert config["core"]["check_update"] == "false"


def test_dvc_subcommand():
    assert measure.dvc_subcommand(["/venv/bin/dvc", "repro"]) == "repro"
    assert measure.dvc_subcommand(["/venv/bin/dvc", "--quiet", "add", "x.csv"]) == "add"
    assert measure.dvc_subcommand(["/venv/bin/python", "repro"]) is None


def record(argv, wall, kib, user=1.0, sys_=0.5):
    return {"argv": argv, "wall_s": wall, "maxrss_kib": kib, "user_s": user, "sys_s": sys_}


def test_stage_usage_from_probe_records_in_dvc_yaml_order():
    commands = {
        "a": "python -m pkg.a --x 1",
        "b": "python -m pkg.b",
        "c": "python -m pkg.c",
    }
    records = [
        record(["/v/bin/dvc", "repro"], 9.0, 100 * 1024),
        record(["/s/pkg/b.py"], 2.0, 300 * 1024, user=1.5, sys_=0.25),
        record(["/s/pkg/a.py", "--x", "1"], 1.0, 200 * 1024),
        record(["/s/pkg/a.py", "--x", "2"], 5.0, 900 * 1024),  # not the stage's command
    ]
    usage = measure.stage_usage(records, commands)
    assert list(usage) == ["a", "b"]
    assert usage["a"] == {"wall_s": 1.0, "maxrss_mib": 200.0, "cpu_s": 1.5}
    assert usage["b"] == {"wall_s": 2.0, "maxrss_mib": 300.0, "cpu_s": 1.75}
    assert measure.dvc_usage(records) == {
        "repro": {"wall_s": 9.0, "maxrss_mib": 100.0, "cpu_s": 1.5}
    }


def test_probe_records_a_process(tmp_path):
    log = tmp_path / "probe.jsonl"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT / "benchmarks" / "probe")
    env["BENCH_PROBE_LOG"] = str(log)
    code = "import sys; sys.argv[1:] = ['--x', '1']; b'\x01' * (50 * 2**20)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    (line,) = measure.read_probe(log)
    assert line["argv"] == ["-c", "--x", "1"]
    assert line["maxrss_kib"] > 50 * 1024
    assert 0 < line["wall_s"] < 60
    env.pop("BENCH_PROBE_LOG")
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    assert len(measure.read_probe(log)) == 1


def test_run_measured_reports_the_child_and_fails_loudly(tmp_path):
    code = "import time; b = b'\x01' * (80 * 2**20); time.sleep(0.2); print('done')"
    m = measure.run_measured([sys.executable, "-c", code], tmp_path, dict(os.environ))
    assert m.returncode == 0 and m.stdout.strip() == "done"
    assert m.maxrss_mib > 80
    assert m.wall_s >= 0.2
    with pytest.raises(measure.CommandFailed, match="exited 3"):
        measure.run_measured([sys.executable, "-c", "raise SystemExit(3)"], tmp_path, {})
    with pytest.raises(measure.CommandFailed, match="timed out"):
        measure.run_measured(
            [sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, {}, timeout=0.5
        )


def test_medians_ratios_and_formats():
    assert measure.median([3.0, None, 1.0, 2.0]) == 2.0
    assert measure.median([None]) is None
    assert measure.ratio(3.0, 1.5) == 2.0
    assert measure.ratio(1.0, 0) is None and measure.ratio(None, 1.0) is None
    runs = [
        {"a": {"wall_s": 1.0, "maxrss_mib": 10.0, "cpu_s": 1.0}},
        {
            "a": {"wall_s": 3.0, "maxrss_mib": 30.0, "cpu_s": 2.0},
            "b": {"wall_s": 5.0, "maxrss_mib": 1.0, "cpu_s": 5.0},
        },
        {"a": {"wall_s": 2.0, "maxrss_mib": 20.0, "cpu_s": 3.0}},
    ]
    medians = measure.median_stages(runs)
    assert list(medians) == ["a", "b"]
    assert medians["a"] == {"wall_s": 2.0, "maxrss_mib": 20.0, "cpu_s": 2.0}
    assert medians["b"]["wall_s"] == 5.0
    assert measure.fmt_s(0.6789) == "0.68 s"
    assert measure.fmt_s(42.42) == "42.4 s"
    assert measure.fmt_s(123.4) == "123 s"
    assert measure.fmt_mib(512) == "512 MiB"
    assert measure.fmt_mib(3 * 1024) == "3.00 GiB"
    assert measure.fmt_ratio(0.5) == "0.50×"
    assert measure.fmt_rows(10_000_000) == "10M"
    assert measure.fmt_rows(19_382) == "19,382"
    assert measure.parse_sizes("1m, 10M,100k,2500") == [1_000_000, 10_000_000, 100_000, 2_500]
    assert measure.md_table(["x", "y"], [[1, "a|b"]]) == "| x | y |\n|---|---|\n| 1 | a\\|b |"


def test_set_param_text_changes_only_that_key():
    text = (REPO_ROOT / "params.yaml").read_text()
    new = measure.set_param_text(text, "model.C", 0.53)
    before, after = yaml.safe_load(text), yaml.safe_load(new)
    assert after["model"]["C"] == 0.53
    after["model"]["C"] = before["model"]["C"]
    assert after == before
    assert len(new.splitlines()) == len(text.splitlines())
    with pytest.raises(KeyError):
        measure.set_param_text(text, "model.nope", 1)


def fake_results(load=(0.5, 0.5, 0.5)) -> dict:
    def m(wall, rss, stages=None, dvc=None):
        return {
            "wall_s": wall,
            "maxrss_mib": rss,
            "cpu_s": wall,
            "stages": stages or {},
            "dvc": dvc or {},
        }

    def st(names, wall):
        return {n: {"wall_s": wall, "maxrss_mib": 100.0, "cpu_s": wall} for n in names}

    all_stages = ["raw", "ingest", "features", "split", "statistics", "model", "report"]
    outcome = {
        "rows_in": 10,
        "rows_kept": 9,
        "train_rows_fitted": 12,
        "iterations": 20,
        "test_rows": 3,
        "test_accuracy": 0.5,
    }
    pandas_result = {
        "rows_kept": 9,
        "train_rows_fitted": 12,
        "iterations": 19,
        "standardize": True,
        "test_accuracy": 0.5,
        "steps_s": {"read_csv": 0.1, "fit": 0.2},
    }
    real_run = {
        "cold_make_repro": m(4.0, 300, st(["ingest", "features", "split", "train"], 1.0)),
        "noop_dvc_repro": m(0.6, 200),
        "exp_run": m(3.0, 300, st(["model", "report"], 0.7)),
        "forced": m(4.5, 320, st(all_stages, 0.5)),
        "queue": m(1.0, 100),
        "sweep": m(8.0, 300),
        "floor": {"exp_run": m(2.0, 200), "sweep": {"wall_s": 4.0}},
        "full_pipeline": m(4.5, 320, st(all_stages, 0.5), {"repro": {"wall_s": 4.2}}),
        "outcome": outcome,
        "pandas": {**m(1.5, 250), "result": pandas_result},
    }
    big = {
        "generate": {**m(4.0, 300), "csv_bytes": 1.5e9},
        "pipeline": m(100.0, 3000, st(all_stages, 10.0), {"repro": {"wall_s": 95.0}}),
        "outcome": outcome,
        "pandas": {**m(150.0, 6000), "result": pandas_result},
    }
    return {
        "started": "t0",
        "finished": "t1",
        "plan": {"quick": False, "real_repeats": 1, "sizes": {"10000000": 1}},
        "quick": False,
        "machine": {
            "nproc": 2,
            "cpu": "cpu",
            "memory_gib": 24,
            "os": "linux",
            "python": "3.11",
            "polars": "p",
            "pandas": "pd",
            "numpy": "np",
            "scikit-learn": "sk",
            "dvc": "3",
            "blas": "openblas",
            "openblas_env": {},
            "git_commit": "abc",
        },
        "load_before": list(load),
        "load_after": list(load),
        "pandas_standardize": True,
        "real": {"repeats": 1, "runs": [real_run]},
        "synthetic": {"10000000": {"rows": 10_000_000, "repeats": 1, "runs": [big]}},
    }


def test_report_states_targets_ratios_and_findings():
    text = report.render(fake_results(), findings="Train dominates.")
    assert "| no-op `dvc repro` < 1 s | 0.60 s | **yes** |" in text
    assert (
        "| one `dvc exp run -S model.C=…` ≤ 2× the pandas one-process script "
        "| 2.00× (3.00 s vs pandas 1.50 s) | **yes** |" in text
    )
    assert (
        "| queued sweep of four, `dvc exp run --run-all -j 2` ≤ 1.5× four pandas runs "
        "| 1.33× (8.00 s vs 4 × pandas 6.00 s) | **yes** |" in text
    )
    assert (
        "| `dvc repro --force` ≤ 2.5× the pandas script "
        "| 3.00× (4.50 s vs pandas 1.50 s) | **no** |" in text
    )
    assert "| `model.C` change reruns only model and report | model, report | **yes** |" in text
    # The floor (benchmarks/floor.py): the same experiment in a one-stage DVC project.
    assert (
        "| one `dvc exp run -S model.C=…` ≤ 1.6× the one-stage DVC floor "
        "| 1.50× (3.00 s vs floor 2.00 s) | **yes** |" in text
    )
    assert (
        "| queued sweep of four ≤ 1.6× the floor's sweep | 2.00× (8.00 s vs floor 4.00 s) "
        "| **no** |" in text
    )
    assert "| floor²: `dvc exp run -S model.C=…` | 2.00 s |" in text
    # Results from before the floor have none of it, and still render.
    old = fake_results()
    del old["real"]["runs"][0]["floor"]
    assert "floor²" not in report.render(old, "") and "DVC floor" not in report.render(old, "")
    assert "| 10M rows: faster than the pandas way | 0.67× (100 s vs 150 s) | **yes** |" in text
    assert "| 10M rows end to end < 2 min | 100 s | **yes** |" in text
    assert "| 10M rows peak memory < 4 GiB | 2.93 GiB | **yes** |" in text
    assert "| model | 10.0 s | 10.0 s | 100 MiB | 10% |" in text
    assert text.rstrip().endswith("## Findings\n\nTrain dominates.")
    # Round-trips through JSON, as --report-only reads it back.
    assert report.render(json.loads(json.dumps(fake_results())), "") == report.render(
        fake_results(), ""
    )
