"""The README's commands, typed as shown: the experiment block under "Experiments and review",
run line by line in one bash session with the project's environment active (what the
quickstart's `source .venv/bin/activate` leaves), in a fresh copy of the repository, with the
course file and without it."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from conftest import REPO_ROOT, VENV_BIN, link_environment

README = REPO_ROOT / "README.md"


def fenced_block(markdown: str, heading: str) -> list[str]:
    """The command lines of the first ```bash block after `heading`, comments stripped."""
    section = markdown[markdown.index(heading) :]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_blocks_are_found():
    quickstart = fenced_block(README.read_text(), "## Quickstart")
    assert quickstart == ["make repro && source .venv/bin/activate", "make test"]
    commands = fenced_block(README.read_text(), "## Experiments and review")
    assert commands[0] == "dvc repro"
    for expected in ("dvc exp run -S model.C=0.1", "dvc exp run --run-all -j 2", "dvc exp show",
                     "dvc metrics diff", "dvc plots diff"):  # fmt: skip
        assert expected in commands


def activated(repo) -> dict[str, str]:
    """The environment of a shell where the project's .venv is active."""
    env = dict(repo.env)
    env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return env


@pytest.mark.e2e
@pytest.mark.parametrize("with_course_file", [True, False], ids=["course-file", "stand-in"])
def test_readme_experiment_commands_work_as_typed(request, tmp_path, with_course_file):
    # Where the quickstart's `make repro` leaves a checkout: a copy of the session's pipeline
    # run (conftest.shared_run), with the course file or on the stand-in.
    repo = request.getfixturevalue("real_copy" if with_course_file else "standin_copy")
    link_environment(repo.root)
    remote = tmp_path / "remote"
    commands = [
        line.replace("/path/to/dir", str(remote))
        for line in fenced_block(README.read_text(), "## Experiments and review")
    ]
    if not with_course_file:
        # On the stand-in the PR report re-runs BASE in full (main's figures are the course
        # file's): test_readme_pr_report_on_the_stand_in_re_runs_base runs that line beside
        # this one, in parallel (together they were the suite's longest test, 360 s of
        # make test's 502 s); the push is test_dvc_remote_round_trip_of_data_and_model's.
        # The queued sweep on the stand-in is test_loop_faults' sweep (the same `--run-all
        # -j 2`, its experiments' results and labels checked): here it was 32 of the test's
        # ~60 CPU-seconds, on a suite bound by its two cores.
        skipped = ("make pr-report", "dvc remote", "dvc exp run --queue", "dvc exp run --run-all")
        commands = [c for c in commands if not c.startswith(skipped)]
    env = activated(repo)
    for command in commands:
        if command.startswith("dvc exp run --run-all"):
            # Typed as shown, under a watchdog for DVC's known hang after the queue drained.
            repo.run_all(*command.split()[4:], env=env)
            continue
        proc = subprocess.run(
            ["bash", "-c", command], cwd=repo.root, env=env, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, (command, proc.stdout[-3000:], proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr, command
    # Every experiment ran on the data at hand, as its label says.
    shown = json.loads(repo.dvc("exp", "show", "--json").stdout)
    sources = {
        e["data"]["metrics"]["metrics/data.json"]["data"]["source"]
        for row in shown
        for exp in (row.get("experiments") or [])
        for e in exp["revs"]
    }
    assert sources == {"real" if with_course_file else "synthetic"}
    kept = {
        e["data"]["metrics"]["metrics/data.json"]["data"]["rows_kept"]
        for row in shown
        for exp in (row.get("experiments") or [])
        for e in exp["revs"]
    }
    if with_course_file:  # queued experiments got the course file from DVC's cache
        assert kept == {19_084}
    runs = [exp for row in shown for exp in (row.get("experiments") or [])]
    models = {
        (p["model"]["name"], p["model"]["C"])
        for run in runs
        for p in (e["data"]["params"]["params.yaml"]["data"] for e in run["revs"])
    }
    assert {("l2", 0.1), ("l1", 0.1)} <= models
    if not with_course_file:
        return
    assert {("l2", c) for c in (0.01, 0.1, 1, 10)} <= models
    # `--run-all` exits 0 even when a task fails, and a failed experiment still shows up with
    # its parent's metrics: every queued one succeeded (one run in the workspace has no
    # executor entry), and the sweep's four values give four fits
    # (test_queued_sweep_gives_one_experiment_per_point was this, on its own queue).
    queued = [run["executor"]["state"] for run in runs if run.get("executor")]
    assert len(queued) >= 4 and set(queued) == {"success"}, queued
    losses = {
        e["data"]["params"]["params.yaml"]["data"]["model"]["C"]: e["data"]["metrics"][
            "metrics/metrics.json"
        ]["data"]["test"]["log_loss"]
        for run in runs
        for e in run["revs"]
        if e["data"]["params"]["params.yaml"]["data"]["model"]["name"] == "l2"
    }
    sweep = [losses[c] for c in (0.01, 0.1, 1, 10)]
    assert len(set(sweep)) == 4
    assert (repo.root / "reports/pr_report.md").exists()
    assert any(remote.rglob("*")), "dvc push sent nothing"


@pytest.mark.e2e
def test_readme_pr_report_on_the_stand_in_re_runs_base(standin_copy):
    """The README's `make pr-report` line, typed as shown, where the quickstart left a checkout
    without the course file: main's committed figures are the course file's, so the report
    re-runs BASE on the stand-in (what CI does without a DVC remote) and says so."""
    repo = standin_copy
    link_environment(repo.root)
    (line,) = [
        c
        for c in fenced_block(README.read_text(), "## Experiments and review")
        if c.startswith("make pr-report")
    ]
    proc = subprocess.run(
        ["bash", "-c", line], cwd=repo.root, env=activated(repo), capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    report = repo.path("reports/pr_report.md").read_text()
    assert "re-run here on this PR's data" in report
    assert "SYNTHETIC" in report
