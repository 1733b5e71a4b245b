"""The pull-request workflow (.github/workflows/pr-report.yml) as CI runs it: its own shell
`run:` steps, read from the YAML (not retyped), against a local DVC remote. One clone with the
course file in DVC's cache pushes; a second clone of the pull request's branch, as CI checks it
out (no data, an empty cache), runs the steps: pull, then `make pr-report`. The report must say
that it ran on the course file pulled from that remote."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import RAW_RELATIVE, REPO_ROOT, PipelineRepo, link_environment, tool_env

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "pr-report.yml"

#: `run:` steps not run here (matched by their command), and why. The `uses:` steps are
#: GitHub's actions (checkout, setup-python, setup-cml, upload-artifact): the clone below is
#: the checkout, and this machine has Python.
NOT_RUN = {
    "make env": "builds .venv from uv.lock: this machine has it (the clone links this checkout's)",
    "cml comment": "posts the report on the pull request: needs GitHub and its token",
}
#: The workflow's `${{ ... }}` expressions, as GitHub would fill them for a pull request into
#: main (secrets are empty: the local remote needs none).
EXPRESSIONS = {"github.base_ref": "main", "github.event.pull_request.number": "1"}


def workflow_steps() -> tuple[dict, list[dict]]:
    """The `report` job's environment and its steps that have a `run:`."""
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["report"]
    return job.get("env", {}), [step for step in job["steps"] if "run" in step]


def expand(text: str) -> str:
    def value(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression.startswith("secrets."):
            return ""
        return EXPRESSIONS[expression]  # a new expression fails here: say what it should be

    return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))


def github_env(path: Path) -> dict[str, str]:
    """What earlier steps appended to $GITHUB_ENV (`NAME=value` lines)."""
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_step(repo: PipelineRepo, step: dict, job_env: dict, env_file: Path):
    """One step as GitHub runs it: its script in `bash --noprofile --norc -eo pipefail`, with
    the job's and the step's environment and what earlier steps put in $GITHUB_ENV."""
    env = dict(repo.env)
    env.update({k: expand(v) for k, v in job_env.items()})
    env.update({k: expand(v) for k, v in step.get("env", {}).items()})
    env.update(github_env(env_file))
    env["GITHUB_ENV"] = str(env_file)
    script = env_file.parent / "step.sh"
    script.write_text(expand(step["run"]))
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=repo.root, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.e2e
def test_workflow_steps_pull_the_course_file_from_the_remote_and_report_on_it(
    real_copy, real_csv, tmp_path
):
    job_env, steps = workflow_steps()
    skipped = [s for s in steps if any(cmd in s["run"] for cmd in NOT_RUN)]
    to_run = [s for s in steps if s not in skipped]
    assert len(skipped) == len(NOT_RUN), "a step named in NOT_RUN is gone from the workflow"
    data_step = next(s for s in to_run if "dvc pull" in s["run"])
    assert any("make pr-report" in s["run"] for s in to_run)

    # The pushing side: the course file's run (in DVC's cache), committed on main.
    origin = real_copy
    # Without a remote the data step says so (and the pipeline will run on the stand-in).
    (tmp_path / "env-origin").write_text("")
    proc = run_step(origin, data_step, job_env, tmp_path / "env-origin")
    assert proc.returncode == 0, proc.stderr
    assert github_env(tmp_path / "env-origin") == {
        "DATA_ORIGIN": "no DVC remote is configured, so the pipeline ran on the synthetic stand-in"
    }
    remote = tmp_path / "dvc-remote"
    origin.dvc("remote", "add", "-d", "storage", str(remote))
    origin.commit("the team's DVC remote")
    pushed = origin.dvc("push")
    assert re.search(r"\d+ files? pushed", pushed.stdout), pushed.stdout
    # The pull request: a smaller C, composed as `make params` does, committed on a branch.
    origin.run("git", "checkout", "-q", "-b", "smaller-c")
    conf = origin.path("conf/model/l2.yaml")
    conf.write_text(conf.read_text().replace("\nC: 1.0\n", "\nC: 0.5\n"))
    origin.run("python", "-m", "tiktok_verified.tools.compose")
    origin.commit("C = 0.5")

    # CI's checkout of the pull request: what git tracks, nothing of DVC's.
    ci = PipelineRepo(tmp_path / "ci", tool_env(tmp_path / "ci-tmp"))
    (tmp_path / "ci-tmp").mkdir()
    subprocess.run(
        ["git", "clone", "-q", "-b", "smaller-c", str(origin.root), str(ci.root)], check=True
    )
    link_environment(ci.root)
    assert not ci.path(RAW_RELATIVE).exists() and not ci.path("models").exists()
    env_file = tmp_path / "env-ci"
    env_file.write_text("")
    out = {}
    for step in to_run:
        proc = run_step(ci, step, job_env, env_file)
        assert proc.returncode == 0, (step["name"], proc.stdout[-3000:], proc.stderr[-3000:])
        out[step["name"]] = proc.stdout

    # The course file came down from the remote, byte for byte, and the pipeline ran on it.
    assert sha256(ci.path(RAW_RELATIVE)) == sha256(real_csv)
    # The stage outputs came down too: only what C changes ran again.
    ran = set(re.findall(r"Running stage '(\w+)'", "".join(out.values())))
    assert ran == {"model", "report"}, ran
    report = ci.path("reports/pr_report.md").read_text()
    assert (
        "- **Where the data came from**: the course file `data/raw/tiktok_dataset.csv`, pulled "
        f"with `dvc pull` from the DVC remote `storage` ({remote})."
    ) in report
    assert (
        f"- **This PR**: the course file `data/raw/tiktok_dataset.csv` (sha256 "
        f"`{sha256(real_csv)[:12]}…`, 19,084 of 19,382 rows kept)."
    ) in report
    assert "SYNTHETIC" not in report and "re-run here" not in report  # same data: no re-run
    assert "| `model.C` | 1 | 0.5 |" in report
