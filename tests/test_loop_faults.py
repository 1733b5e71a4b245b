"""Faults in the middle of the loop people run (issue 24), end to end on a small stand-in: a
failing experiment in a queued sweep, Ctrl-C or SIGTERM during `dvc repro`, a queue worker's
stage killed, two terminals, a full disk, a damaged DVC cache, and a clone from the remote.

Each test works on its own copy of one prepared repository (the pipeline run on a 1,000-row
stand-in and committed). A test-only `sitecustomize.py` committed in that copy's `src/` (the
stage commands set PYTHONPATH=src, so only stage processes load it) stalls a chosen write
half-way or limits a stage's file size, when the environment asks for it."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import polars as pl
import psutil
import pytest
import yaml

from tiktok_verified.errors import OutputWriteError
from tiktok_verified.files import temp_files, write_with
from tiktok_verified.modeling import model_file

from conftest import PipelineRepo, new_repo, tool_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

OUTPUT_DIRS = ("data/interim", "data/processed", "models", "metrics", "reports")
WAIT_S = 120

HOOK = """
import os
import sys

_STAGE = next(
    (a.rsplit(".", 1)[-1] for a in sys.orig_argv if a.startswith("tiktok_verified.stages.")),
    None,
)
if _STAGE and os.environ.get("FSIZE_LIMIT_STAGE") == _STAGE:
    import resource

    _limit = int(os.environ["FSIZE_LIMIT_BYTES"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (_limit, _limit))

if _STAGE and os.environ.get("STALL_WRITE_OF"):
    import time
    from contextlib import contextmanager
    from pathlib import Path

    import yaml

    import tiktok_verified.files as _files

    _want_c = os.environ.get("STALL_WHEN_C")
    _c = yaml.safe_load(Path("params.yaml").read_text())["model"]["C"]
    # STALL_WHILE: stall only while that file exists. A queue worker outlives the
    # `--run-all` that started it and keeps its environment, so it may take a task queued
    # later (seen: a re-queued experiment stalled 600 s in a worker of the first run).
    _while = os.environ.get("STALL_WHILE")
    if (_want_c is None or float(_want_c) == _c) and (not _while or Path(_while).exists()):
        _atomic = _files.atomic_path

        @contextmanager
        def atomic_path(target):
            with _atomic(target) as tmp:
                yield tmp
                if Path(target).name == os.environ["STALL_WRITE_OF"]:
                    whole = tmp.read_bytes()
                    tmp.write_bytes(whole[: len(whole) // 2])
                    # Atomically: the test reads the pid as soon as the file exists.
                    with _atomic(os.environ["STALL_READY"]) as ready:
                        ready.write_text(str(os.getpid()))
                    go = Path(os.environ.get("STALL_GO", "/nonexistent"))
                    deadline = time.monotonic() + 600
                    while not go.exists() and time.monotonic() < deadline:
                        time.sleep(0.05)
                    tmp.write_bytes(whole)  # let go: the write completes

        _files.atomic_path = atomic_path
"""


def prepare(root: Path) -> PipelineRepo:
    """The default pipeline run on a 1,000-row stand-in, committed, with the hook in src/."""
    repo = new_repo(root / "repo", tool_env(root), csv=None)
    data = repo.path("conf/data/course.yaml")
    data.write_text(data.read_text().replace("synthetic_rows: 19382", "synthetic_rows: 1000"))
    repo.run("python", "-m", "tiktok_verified.tools.compose")
    repo.path("src/sitecustomize.py").write_text(HOOK)
    repo.pipeline()
    repo.commit("baseline run on a small stand-in")
    return repo


@pytest.fixture(scope="session")
def prepared(tmp_path_factory, worker_id) -> PipelineRepo:
    """One prepared repository for every xdist worker of the session (built by the first to
    ask, under a lock; the others wait), since the tests only copy it."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base
    root = shared / "loop-faults-prepared"
    with open(shared / "loop-faults.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (root / "done").exists():
                shutil.rmtree(root, ignore_errors=True)
                root.mkdir()
                prepare(root)
                (root / "done").write_text("")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return PipelineRepo(root / "repo", tool_env(root))


@pytest.fixture
def repo(prepared, tmp_path) -> PipelineRepo:
    """A copy of the prepared repository (git, DVC cache, outputs) of this test's own."""
    dest = tmp_path / "repo"
    shutil.copytree(prepared.root, dest, symlinks=True)
    shutil.rmtree(dest / ".dvc" / "tmp", ignore_errors=True)
    return PipelineRepo(dest, tool_env(tmp_path))


def snapshot(repo: PipelineRepo) -> dict[str, str]:
    """Every file under the output folders, dvc.lock, params.yaml (temporary files of
    unfinished writes: `leftovers`)."""
    files = [
        p
        for d in OUTPUT_DIRS
        for p in repo.path(d).rglob("*")
        if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))
    ]
    files += [repo.path("dvc.lock"), repo.path("params.yaml")]
    return {
        str(p.relative_to(repo.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def leftovers(repo: PipelineRepo) -> list[str]:
    """Temporary files of unfinished writes anywhere in the workspace."""
    return sorted(
        str(p.relative_to(repo.root))
        for p in repo.root.rglob(".*.tmp")
        if ".dvc" not in p.relative_to(repo.root).parts
    )


def start(repo: PipelineRepo, log: Path, *args: str, **env: str) -> subprocess.Popen:
    """A dvc command in its own session (a terminal's process group), output to `log`."""
    with open(log, "w") as out:
        return subprocess.Popen(
            ["dvc", *args],
            cwd=repo.root,
            env=dict(repo.env, **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for(check, proc: subprocess.Popen, log: Path, what: str):
    deadline = time.monotonic() + WAIT_S
    while not (found := check()):
        assert proc.poll() is None, f"exited before {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.05)
    return found


def finish(proc: subprocess.Popen) -> int:
    try:
        return proc.wait(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def processes_in(root: Path, word: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        info = proc.info
        if info["cwd"] == str(root) and any(word in part for part in info["cmdline"] or []):
            found.append(proc)
    return found


def stage_lines(output: str, stage: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{stage}: ")]


# --- 1. Ctrl-C and SIGTERM during dvc repro ---------------------------------------------------


# Two cases, not the four of stage x signal: the model stage under Ctrl-C and the report stage
# (after the walkthrough's cells ran in process) under SIGTERM, each stopped half-way through
# writing an output; the runner's handling of each signal is also covered without a pipeline in
# test_architecture.
@pytest.mark.parametrize(
    ("stage", "target", "signum"),
    [("model", "models/model.skops", signal.SIGINT),
     ("report", "reports/walkthrough.ipynb", signal.SIGTERM)],
    ids=["model-SIGINT", "report-SIGTERM"],
)  # fmt: skip
def test_an_interrupted_repro_keeps_the_last_good_outputs(repo, tmp_path, stage, target, signum):
    before = snapshot(repo)
    log, ready = tmp_path / "log", tmp_path / "ready"
    folder, name = target.rsplit("/", 1)
    proc = start(repo, log, "repro", "-f", "-s", stage, STALL_WRITE_OF=name,
                 STALL_READY=str(ready))  # fmt: skip
    wait_for(ready.exists, proc, log, f"reached the write of {target}")
    (partial,) = leftovers(repo)  # stopped with the output half-written to its temporary file
    assert partial.startswith(f"{folder}/.{name}.")
    os.killpg(proc.pid, signum)  # what Ctrl-C (or a stopped CI job) sends: the whole group
    assert finish(proc) != 0
    deadline = time.monotonic() + 60  # the stage itself may outlive dvc (SIGTERM ends dvc first)
    while processes_in(repo.root, f"tiktok_verified.stages.{stage}"):
        assert time.monotonic() < deadline, "the stage outlived the interruption"
        time.sleep(0.1)
    output = log.read_text()

    by = rf" by {signal.Signals(signum).name}"
    (line,) = stage_lines(output, stage) or [output]
    assert re.fullmatch(
        rf"{stage}: interrupted{by}; no output is half-written \(each is the last good one "
        r"or this run's complete one\); run `dvc repro` to finish",
        line,
    ), output
    assert "Traceback" not in output
    assert leftovers(repo) == []
    assert snapshot(repo) == before
    assert "Data and pipelines are up to date." in repo.dvc("status").stdout
    assert repo.run("git", "status", "--porcelain").stdout == ""

    # The next run completes, with the same bytes.
    assert f"Running stage '{stage}'" in repo.dvc("repro", "-f", "-s", stage).stdout
    assert snapshot(repo) == before


# --- 2. a failing experiment and a queue worker's stage killed, in one sweep ------------------


def cache_objects(repo: PipelineRepo) -> dict[Path, str]:
    """Every object in the DVC cache and the md5 its name says it has."""
    root = repo.path(".dvc/cache/files/md5")
    return {p: p.parent.name + p.name.removesuffix(".dir") for p in root.glob("*/*")}


def test_a_failing_and_a_killed_experiment_in_a_sweep_fail_alone(repo, tmp_path):
    """One sweep of four (one journey instead of two queues): C=-1 is refused by the model
    stage, C=0.1's model stage is SIGKILLed half-way through writing the model file; the other
    two succeed, the workspace is untouched, and the killed one, queued again, runs."""
    before = snapshot(repo)
    repo.dvc("exp", "run", "--queue", "-S", "model.C=0.01,0.1,10,-1")
    ready, stalling = tmp_path / "ready", tmp_path / "stalling"
    stalling.write_text("")
    env = dict(repo.env, STALL_WRITE_OF="model.skops", STALL_WHEN_C="0.1")
    env.update(STALL_READY=str(ready), STALL_WHILE=str(stalling))

    killed = []

    def kill_when_ready():
        deadline = time.monotonic() + WAIT_S
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if ready.exists():
            time.sleep(0.2)
            pid = int(ready.read_text())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_when_ready)
    killer.start()
    repo.run_all("-j", "2", env=env)
    killer.join()
    assert killed, "the C=0.1 experiment's model stage never reached its write"

    shown = json.loads(repo.dvc("exp", "show", "--json").stdout)
    runs = [exp for row in shown for exp in (row.get("experiments") or [])]
    by_c = {
        run["revs"][0]["data"]["params"]["params.yaml"]["data"]["model"]["C"]: run for run in runs
    }
    states = {c: run["executor"]["state"] for c, run in by_c.items()}
    assert states == {0.01: "success", 0.1: "failed", 10: "success", -1: "failed"}
    losses = {
        c: by_c[c]["revs"][0]["data"]["metrics"]["metrics/metrics.json"]["data"]["test"]["log_loss"]
        for c in (0.01, 10)
    }
    assert len(set(losses.values())) == 2  # two experiments, two results
    # Queued on the stand-in (no course file in data/raw), each says so, and ran on the
    # committed conf's 1,000 rows (prepare), not on the default stand-in.
    data = [by_c[c]["revs"][0]["data"]["metrics"]["metrics/data.json"]["data"] for c in (0.01, 10)]
    assert {d["source"] for d in data} == {"synthetic"}
    assert {d["rows_in"] for d in data} == {1000}
    assert all(d["path"].startswith("synthetic(rows=1000,") for d in data)

    status = repo.dvc("queue", "status").stdout
    assert len(re.findall(r"\bSuccess\b", status)) == 2, status
    failed = re.findall(r"^(\S+)\s+(\S+)\s.*\bFailed\b", status, re.M)
    assert len(failed) == 2, status
    logs = [repo.dvc("queue", "logs", task).stdout for task, _ in failed]
    refused = [log for log in logs if "model.C: must be a positive number" in log]
    assert len(refused) == 1, logs
    assert "model: error: params: model.C: must be a positive number, got -1" in refused[0]
    assert all("Traceback" not in log for log in logs)

    # Queued again, the killed one runs (in whichever worker takes it: no more stalls).
    stalling.unlink()
    repo.dvc("exp", "run", "--queue", "-S", "model.C=0.1")
    repo.run_all("-j", "1")
    status = repo.dvc("queue", "status").stdout
    assert len(re.findall(r"\bSuccess\b", status)) == 3, status

    # No cache object is damaged, and the workspace is as it was.
    damaged = [
        p
        for p, md5 in cache_objects(repo).items()
        if hashlib.md5(p.read_bytes()).hexdigest() != md5
    ]
    assert damaged == []
    assert snapshot(repo) == before and leftovers(repo) == []
    assert repo.run("git", "status", "--porcelain").stdout == ""


# --- 3. two terminals -------------------------------------------------------------------------

#: DVC's refusals (pinned): `dvc repro` meets the running stage's lock on its outputs
#: (.dvc/tmp/rwlock) at the first stage that reads or writes one; `dvc exp run` the repository's.
LOCK_MESSAGES = (
    r"ERROR: failed to reproduce '\w+': '[^']+' is busy, it is being blocked by:\s+"
    r"\(PID (\d+)\): [^\n]*dvc repro -f -s model",
    r"ERROR: Unable to acquire lock. Most likely another DVC process is running",
)


def test_a_second_run_while_one_runs_is_refused_and_writes_nothing(repo, tmp_path):
    before = snapshot(repo)
    log, ready, go = tmp_path / "log", tmp_path / "ready", tmp_path / "go"
    first = start(repo, log, "repro", "-f", "-s", "model", STALL_WRITE_OF="model.skops",
                  STALL_READY=str(ready), STALL_GO=str(go))  # fmt: skip
    try:
        wait_for(ready.exists, first, log, "reached the model file's write")
        during = snapshot(repo)
        for second in (["repro"], ["exp", "run", "-S", "model.C=0.5"]):
            proc = repo.dvc(*second, check=False)
            assert proc.returncode != 0, second
            refusal = [re.search(m, proc.stdout + proc.stderr) for m in LOCK_MESSAGES]
            assert any(refusal), (second, proc.stdout + proc.stderr)
            if refusal[0]:
                assert int(refusal[0].group(1)) == first.pid
            assert "Traceback" not in proc.stdout + proc.stderr
            if second[0] == "repro":
                assert snapshot(repo) == during
        # DVC (pinned): `dvc exp run` composes params.yaml from conf/ and the -S overrides
        # BEFORE it finds the repository locked, and leaves it so.
        during["params.yaml"] = snapshot(repo)["params.yaml"]
        assert snapshot(repo) == during
        assert "C: 0.5" in repo.path("params.yaml").read_text()
        assert repo.dvc("exp", "list").stdout.strip() == ""
    finally:
        go.write_text("")
    # The first run then finishes its stage, which finds params.yaml changed under it and does
    # not count as done: dvc.lock keeps the last good entry (not C = 0.5 against C = 1 outputs).
    assert finish(first) != 0
    (line,) = stage_lines(log.read_text(), "model")
    assert line.startswith("model: error: params.yaml changed while the stage ran"), line
    assert snapshot(repo) == during and leftovers(repo) == []
    # What the line says to type.
    repo.run("git", "checkout", "--", "params.yaml")
    repo.dvc("repro")
    assert snapshot(repo) == before
    assert "Data and pipelines are up to date." in repo.dvc("status").stdout


# --- 4. a full disk ---------------------------------------------------------------------------


def test_a_write_refused_for_space_stops_the_stage_in_one_line(repo):
    before = snapshot(repo)
    env = dict(repo.env, FSIZE_LIMIT_STAGE="model", FSIZE_LIMIT_BYTES="1024")  # ulimit -f 1
    proc = subprocess.run(["dvc", "repro", "-f", "-s", "model"], cwd=repo.root, env=env,
                          capture_output=True, text=True, timeout=WAIT_S)  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert stage_lines(output, "model") == [
        "model: error: cannot write models/model.skops: File too large; raise the file size "
        "limit (`ulimit -f`) or free space and run `dvc repro` again"
    ], output
    assert "Traceback" not in output
    assert snapshot(repo) == before and leftovers(repo) == []


# --- 5. a damaged DVC cache -------------------------------------------------------------------


def flip_in_cache(repo: PipelineRepo, rel: str) -> Path:
    """Flip one byte of `rel`'s object in the DVC cache, as bit rot does (mtime kept)."""
    lock = yaml.safe_load(repo.path("dvc.lock").read_text())
    md5 = next(
        out["md5"]
        for e in lock["stages"].values()
        for out in e.get("outs", [])
        if out["path"] == rel
    )
    obj = repo.path(f".dvc/cache/files/md5/{md5[:2]}/{md5[2:]}")
    stat = obj.stat()
    obj.chmod(0o644)
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0xFF
    obj.write_bytes(bytes(data))
    obj.chmod(stat.st_mode)
    os.utime(obj, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return obj


def test_a_damaged_cache_copy_is_refused_by_the_stage_that_reads_it(repo):
    parquet, model = "data/processed/train.parquet", "models/model.skops"
    objects = {rel: flip_in_cache(repo, rel) for rel in (parquet, model)}
    for rel in objects:
        repo.path(rel).unlink()
    # DVC (pinned): the damaged copies are checked out as they are, silently, and `dvc status`
    # still says the workspace matches dvc.lock.
    repo.dvc("checkout")
    for rel, obj in objects.items():
        assert repo.path(rel).read_bytes() == obj.read_bytes()
    assert "Data and pipelines are up to date." in repo.dvc("status").stdout

    # The model file: the loader refuses it (the zip's CRC), in one line.
    path = repo.path(model)
    with pytest.raises(
        model_file.ModelFileError, match=rf"^{re.escape(str(path))}: not a readable"
    ):
        model_file.load(path)
    # The parquet: the next stage that reads it refuses it in one line naming the file.
    proc = repo.dvc("exp", "run", "-S", "model.C=0.5", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    (line,) = stage_lines(output, "model")
    md5 = objects[parquet].parent.name + objects[parquet].name
    assert line.startswith(f"model: error: {parquet}: damaged: its md5 is "), line
    assert f"dvc.lock records {md5} for stage 'split'" in line
    assert line.endswith(
        f"`rm -f .dvc/cache/files/md5/{md5[:2]}/{md5[2:]} {parquet}` && dvc repro -f -s split"
    )
    assert "Traceback" not in output
    # What it says to type repairs it.
    repo.run("git", "checkout", "-q", "--", "params.yaml")
    repo.run("rm", "-f", str(objects[parquet]), parquet)
    repo.dvc("repro", "-f", "-s", "split")
    assert hashlib.md5(repo.path(parquet).read_bytes()).hexdigest() == md5
    assert hashlib.md5(objects[parquet].read_bytes()).hexdigest() == md5
    assert repo.dvc("exp", "run", "-S", "model.C=0.5").returncode == 0


# --- 6. a clone from the remote ---------------------------------------------------------------


def test_a_clone_pulled_from_the_remote_reproduces_as_a_no_op(repo, tmp_path):
    remote = tmp_path / "remote"
    repo.dvc("remote", "add", "-d", "storage", str(remote))
    repo.commit("a local DVC remote")
    repo.dvc("push")
    before = snapshot(repo)

    dest = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(dest)], check=True)
    clone = PipelineRepo(dest, tool_env(tmp_path))
    clone.dvc("pull")
    proc = clone.dvc("repro")
    assert "Data and pipelines are up to date." in proc.stdout
    assert not re.search(r"Running stage", proc.stdout), proc.stdout
    assert snapshot(clone) == before
    assert clone.run("git", "status", "--porcelain").stdout == ""


# --- the write errors, in process -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "No space left on device; free space"),
        (pl.exceptions.ComputeError("parquet: underlying IO error: (os error 28)"), "No space"),
        (OSError(errno.EFBIG, "File too large"), "File too large; raise the file size limit"),
    ],
)
def test_a_refused_write_is_one_line_naming_the_file(tmp_path, raised, reason):
    target = tmp_path / "model.skops"
    target.write_bytes(b"last good")

    def fail(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise raised

    with pytest.raises(OutputWriteError) as err:
        write_with(target, fail)
    assert str(err.value).startswith(f"cannot write {target}: {reason}")
    assert target.read_bytes() == b"last good" and temp_files(target) == []


def test_a_bug_in_a_writer_keeps_its_traceback(tmp_path):
    with pytest.raises(ZeroDivisionError):
        write_with(tmp_path / "x", lambda tmp: 1 / 0)
