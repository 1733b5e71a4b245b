"""Shared fixtures: the composed params, the course file, and throwaway pipeline repositories;
and the test tiers (README, Development): what each marker means, and the check that every
test starting a JVM, a kernel, a browser, a virtual environment or a DVC pipeline carries its
marker."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tiktok_verified.config import Params, parse_params
from tiktok_verified.engines.spark.session import ARCHIVE
from tiktok_verified.tools.compose import compose_text

REPO_ROOT = Path(__file__).resolve().parents[1]
#: How long `dvc queue status` may show nothing queued or running before a `--run-all` that
#: has not exited counts as DVC's known hang (PipelineRepo.run_all). A task shows `Success` or
#: `Failed` only once its results are collected (dvc/repo/experiments/queue/tasks.py: run_exp
#: collects before the task's result is set), so a `--run-all` still running 10 s later has
#: nothing left to do but exit.
HANG_GRACE_S = 10
#: The longest a `--run-all` may take in a test before it is stopped and the test fails with the
#: queue's status (a hang then costs minutes, not CI's whole limit). Seen here: a queue with a
#: SIGKILLed stage drained in 63 s in one run and 640 s in another (a task left "Running").
RUN_ALL_LIMIT_S = 900
#: How often the watchdog asks `dvc queue status` (a whole DVC process, 0.6 CPU-seconds and
#: 1.6 s here): every 5 s it was ~40 calls per `make test`, on a suite bound by its two cores.
#: The command's own exit is noticed at once; a hang is called after 15-30 s, not 10-15.
STATUS_EVERY_S = 15
SHARED_CSV = REPO_ROOT.parent / "shared" / "data" / "tiktok_dataset.csv"
RAW_RELATIVE = Path("data/raw/tiktok_dataset.csv")
VENV_BIN = Path(sys.executable).parent

#: The markers of the slow tier (pyproject.toml registers them): `make check` runs the tests
#: that carry none of them, `make test` runs everything. Each also gets `slow`, so
#: `pytest -m "not slow"` is the fast tier.
SLOW_MARKERS = ("e2e", "spark", "kernel", "browser", "venv")
#: A fixture that starts something slow -> the marker a test using it must carry.
FIXTURE_MARKERS = {
    "real_run": "e2e",
    "real_copy": "e2e",
    "standin_copy": "e2e",
    "make_repo": "e2e",
    "baseline": "e2e",
    "good": "e2e",
    "spark": "spark",
    "spark_available": "spark",
    "spark_archive": "spark",
    "bare_python": "venv",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    unmarked = [
        f"{item.nodeid} uses the fixture {fixture!r}: mark it {marker!r}"
        for item in items
        for fixture, marker in FIXTURE_MARKERS.items()
        if fixture in getattr(item, "fixturenames", ()) and not item.get_closest_marker(marker)
    ]
    if unmarked:
        raise pytest.UsageError("tests without their tier's marker:\n" + "\n".join(unmarked))
    for item in items:
        if any(item.get_closest_marker(m) for m in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
    # The slow tests first (a stable sort keeps each group's order): under xdist the longest
    # work starts at once and the quick tests fill the gaps, instead of one long test last.
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)


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

    def run_all(
        self, *args: str, env: dict[str, str] | None = None, every: float = STATUS_EVERY_S
    ) -> str:
        """`dvc exp run --run-all <args>`, with a watchdog for DVC's known hang
        (treeverse/dvc#10398, #10428): under load a queue worker's monitor can take a slow
        reply for an empty queue, ask the worker to shut down mid-task, and the worker then
        never exits, so `--run-all` waits forever after every experiment has finished. Once
        `dvc queue status` has shown no queued or running task for HANG_GRACE_S, the command
        and its workers are stopped; every experiment's result was collected by then.
        The queue is asked every `every` seconds (`make bench`, which subtracts the grace from
        a stopped sweep's time, asks every 5). Returns how it ended: "exited" or "stopped
        after the queue drained"."""
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
        started = time.monotonic()
        try:
            while proc.poll() is None:
                # Its end is noticed at once (`make bench` times the sweep by this call; it
                # slept 5 s between checks), the queue is asked every `every` s.
                try:
                    proc.wait(timeout=every)
                    break
                except subprocess.TimeoutExpired:
                    pass
                status = subprocess.run(
                    ["dvc", "queue", "status"], cwd=self.root, env=env,
                    capture_output=True, text=True,
                ).stdout  # fmt: skip
                busy = re.search(r"\b(Queued|Running)\b", status)
                if time.monotonic() - started > RUN_ALL_LIMIT_S:
                    os.killpg(proc.pid, signal.SIGKILL)
                    subprocess.run(["dvc", "queue", "stop", "--kill"], cwd=self.root, env=env,
                                   capture_output=True)  # fmt: skip
                    raise AssertionError(
                        f"dvc exp run --run-all {' '.join(args)} still running after "
                        f"{RUN_ALL_LIMIT_S} s; dvc queue status:\n{status}"
                    )
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


def link_environment(root: Path, target: str = "env") -> None:
    """The copy at `root` uses this checkout's environment, as `make env` made it (.venv and
    .tools, linked), so that the `make` targets it runs find it built. make must also see it up
    to date: were the copy's uv.lock or pyproject.toml newer than .venv/.synced (a git clone
    writes fresh files), `make env` would re-sync the shared .venv from the copy and point its
    editable install at a temporary folder. So the two files get this checkout's times, and a
    checkout whose own .venv is out of date (pyproject.toml edited since) stops the test;
    `target` is the make target that builds what the test needs (`spark-env` for Spark)."""
    for name in (".venv", ".tools"):
        if (REPO_ROOT / name).exists():
            (root / name).symlink_to(REPO_ROOT / name)
    for name in ("uv.lock", "pyproject.toml"):
        times = (REPO_ROOT / name).stat()
        os.utime(root / name, ns=(times.st_atime_ns, times.st_mtime_ns))
    up_to_date = subprocess.run(["make", "-q", target], cwd=root, capture_output=True)
    if up_to_date.returncode != 0:
        pytest.fail(f"the environment is older than uv.lock or pyproject.toml: `make {target}`")


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


def shared_dir(tmp_path_factory) -> Path:
    """A folder all xdist workers of this session share (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_run(
    tmp_path_factory, name: str, build: Callable[[PipelineRepo], None] | None = None
) -> PipelineRepo:
    """A repository built once per test session however many xdist workers ask: the first
    builds it under a lock while the others wait, then all reuse it. The default build is
    `make pipeline` on the course file (name "real") or on the stand-in (any other name) in a
    fresh copy of this repository; `build(repo)` replaces the pipeline run. Tests take copies
    of it (`copy_run`) or read it; they never change it."""
    root = shared_dir(tmp_path_factory) / f"shared-{name}"
    root.mkdir(exist_ok=True)
    done, failed = root / "done", root / "failed"
    repo = PipelineRepo(root / "repo", tool_env(root))
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists() and not failed.exists():
            try:
                csv = SHARED_CSV if name == "real" else None
                new_repo(repo.root, repo.env, csv)
                (build or PipelineRepo.pipeline)(repo)
                done.write_text("")
            except BaseException as exc:
                failed.write_text(str(exc))
                raise
    if failed.exists():
        pytest.fail(f"the shared {name} run failed:\n{failed.read_text()}")
    return repo


def copy_run(source: Path, tmp: Path) -> PipelineRepo:
    """A private copy of a shared run: work tree, git, DVC cache (not DVC's tmp: its state
    and locks belong to the original). `dvc repro` in the copy finds nothing to do."""
    dest = tmp / "repo"
    shutil.copytree(
        source,
        dest,
        symlinks=True,
        ignore=lambda folder, names: ["tmp"] if Path(folder).name == ".dvc" else [],
    )
    return PipelineRepo(dest, tool_env(tmp))


#: What `make spark-env` builds: engines/spark/session.py's ARCHIVE, in this checkout's .venv.
SPARK_ARCHIVE = REPO_ROOT / ".venv" / ARCHIVE.name
#: The longest the archive's JVM may take here (55 s on a quiet machine, ~120 s in the suite).
SPARK_ARCHIVE_LIMIT_S = 900


@pytest.fixture(scope="session")
def spark_archive(tmp_path_factory) -> None:
    """`make spark-env`'s class-data archive of Spark's classes, built by the first worker to
    ask while the others wait; tried once a session. `make test` leaves it to the suite: built
    here, its ~55 s JVM overlaps the other workers' tests instead of delaying the whole suite
    (benchmarks/FINDINGS.md). Only the archive is made (`-o`: the environment is taken as it
    is, never re-synced under running workers). Without it the Spark tests run ~2x slower:
    under TIKTOK_REQUIRE_SPARK=1 (CI) that fails, elsewhere it warns, saying how to see why."""
    shared = shared_dir(tmp_path_factory)
    log = shared / "spark-archive.log"
    with open(shared / "spark-archive.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not SPARK_ARCHIVE.is_file() and not log.exists():
            make = ["make", "--no-print-directory", "-o", ".tools/bin/uv", "-o", ".venv/.synced"]
            proc = subprocess.Popen(
                [*make, "-o", ".venv/.spark", "spark-env"], cwd=REPO_ROOT, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                out, _ = proc.communicate(timeout=SPARK_ARCHIVE_LIMIT_S)
            except BaseException as exc:  # the limit, or Ctrl-C: make and the JVM it started
                os.killpg(proc.pid, signal.SIGKILL)
                out = proc.communicate()[0]
                if not isinstance(exc, subprocess.TimeoutExpired):
                    raise
                out += f"\nstopped after {SPARK_ARCHIVE_LIMIT_S} s"
            log.write_text(f"exit {proc.returncode}\n{out}")
    if not SPARK_ARCHIVE.is_file():
        message = (
            f"make spark-env built no class-data archive at {SPARK_ARCHIVE} (make's output "
            "below; `PYTHONPATH=src .venv/bin/python -m tiktok_verified.engines.spark.warm` "
            "shows the JVM's):\n" + log.read_text()[-3000:]
        )
        if os.environ.get("TIKTOK_REQUIRE_SPARK") == "1":
            pytest.fail(message)
        warnings.warn(message, stacklevel=1)


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, real_csv) -> PipelineRepo:
    """The pipeline run on the course file, shared by the tests that read its outputs or give
    it back as they found it (test_hostile_e2e): this worker's copy of the session's one run."""
    source = shared_run(tmp_path_factory, "real")
    return copy_run(source.root, tmp_path_factory.mktemp("real-run"))


@pytest.fixture
def real_copy(tmp_path_factory, tmp_path, real_csv) -> PipelineRepo:
    """A private copy of the course-file run, committed and clean, as the quickstart's
    `make repro` leaves a checkout: for tests that go on from there and change things."""
    return copy_run(shared_run(tmp_path_factory, "real").root, tmp_path)


@pytest.fixture
def standin_copy(tmp_path_factory, tmp_path) -> PipelineRepo:
    """The same for the synthetic stand-in (no course file)."""
    return copy_run(shared_run(tmp_path_factory, "standin").root, tmp_path)
