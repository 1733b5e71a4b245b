"""Shared fixtures: the composed params, the course file, and throwaway pipeline repositories."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tiktok_verified.config import Params, parse_params
from tiktok_verified.tools.compose import compose_text

REPO_ROOT = Path(__file__).resolve().parents[1]
#: How long `dvc queue status` may show nothing queued or running before a `--run-all` that
#: has not exited counts as DVC's known hang (PipelineRepo.run_all).
HANG_GRACE_S = 30
SHARED_CSV = REPO_ROOT.parent / "shared" / "data" / "tiktok_dataset.csv"
RAW_RELATIVE = Path("data/raw/tiktok_dataset.csv")
VENV_BIN = Path(sys.executable).parent


def compose_params(*overrides: str) -> Params:
    return parse_params(yaml.safe_load(compose_text(REPO_ROOT / "conf", list(overrides))))


@pytest.fixture(scope="session")
def params() -> Params:
    """The default configuration, composed from conf/ (not read from params.yaml)."""
    return compose_params()


@pytest.fixture(scope="session")
def real_csv() -> Path:
    """The course file from ../shared/data (always present in CI); skip where absent."""
    if not SHARED_CSV.exists():
        pytest.skip(f"course file not found at {SHARED_CSV}")
    return SHARED_CSV


def tool_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVC_SITE_CACHE_DIR"] = str(tmp / "dvc-site-cache")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.com"
    return env


class PipelineRepo:
    """A copy of this repository's tracked files in a fresh git repository."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.env = env

    def run(
        self, *args: str, check: bool = True, timeout: int = 600
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            list(args),
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def dvc(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("dvc", *args, check=check)

    def run_all(self, *args: str, env: dict[str, str] | None = None) -> str:
        """`dvc exp run --run-all <args>`, with a watchdog for DVC's known hang
        (treeverse/dvc#10398, #10428): under load a queue worker's monitor can take a slow
        reply for an empty queue, ask the worker to shut down mid-task, and the worker then
        never exits, so `--run-all` waits forever after every experiment has finished. Once
        `dvc queue status` has shown no queued or running task for HANG_GRACE_S, the command
        and its workers are stopped; every experiment's result was collected by then.
        Returns how it ended: "exited" or "stopped after the queue drained"."""
        env = env or self.env
        proc = subprocess.Popen(
            ["dvc", "exp", "run", "--run-all", *args],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        drained_since = None
        try:
            while proc.poll() is None:
                time.sleep(5)
                status = subprocess.run(
                    ["dvc", "queue", "status"], cwd=self.root, env=env,
                    capture_output=True, text=True,
                ).stdout  # fmt: skip
                busy = re.search(r"\b(Queued|Running)\b", status)
                drained_since = None if busy else (drained_since or time.monotonic())
                if drained_since and time.monotonic() - drained_since > HANG_GRACE_S:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=60)
                    subprocess.run(["dvc", "queue", "stop", "--kill"], cwd=self.root, env=env,
                                   capture_output=True)  # fmt: skip
                    return "stopped after the queue drained"
            return "exited"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

    def pipeline(self, check: bool = True) -> subprocess.CompletedProcess:
        """What `make repro` runs once the environment exists."""
        return self.run("make", "--no-print-directory", "pipeline", check=check)

    def commit(self, message: str) -> None:
        self.run("git", "add", "-A")
        self.run("git", "commit", "-q", "--allow-empty", "-m", message)

    def path(self, relative: str | Path) -> Path:
        return self.root / relative


def _tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [f for f in out.split("\0") if f and (REPO_ROOT / f).is_file()]


def new_repo(root: Path, env: dict[str, str], csv: Path | None) -> PipelineRepo:
    """Copy the repository's files into `root`, make it a git repo, optionally add the CSV."""
    for rel in _tracked_files():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, dest)
    repo = PipelineRepo(root, env)
    repo.run("git", "init", "-q", "-b", "main")
    if csv is not None:
        (root / RAW_RELATIVE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(csv, root / RAW_RELATIVE)
    repo.commit("copy of the repository under test")
    return repo


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., PipelineRepo]:
    """Factory: copy the repository into a temp git repo, with or without the course file."""

    def factory(csv: Path | None = None, name: str = "repo") -> PipelineRepo:
        return new_repo(tmp_path / name, tool_env(tmp_path), csv)

    return factory


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, real_csv) -> PipelineRepo:
    """One pipeline run on the course file, shared by the tests that only read its outputs."""
    tmp = tmp_path_factory.mktemp("real-run")
    repo = new_repo(tmp / "repo", tool_env(tmp), real_csv)
    repo.first_run = repo.pipeline()
    return repo
