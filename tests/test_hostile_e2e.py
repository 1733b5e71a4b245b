"""End to end in a temporary repository: after a good run on the course file, a broken input,
a bad `-S` override or a stage killed mid-write leaves every output (parquet, model, metrics,
reports, dvc.lock) byte for byte as it was, and a rerun recovers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tiktok_verified.files import temp_files

from conftest import PipelineRepo

pytestmark = pytest.mark.e2e

SRC = "data/raw/tiktok_dataset.csv"
OUTPUT_DIRS = ("data/interim", "data/processed", "models", "metrics", "reports")
RAGGED_HINT = (
    "a comma is missing or extra, or a text value holding a comma is not quoted "
    "(the column cannot be told from the line)"
)


def snapshot(repo: PipelineRepo) -> dict[str, str]:
    files = [
        p
        for d in OUTPUT_DIRS
        for p in repo.path(d).rglob("*")
        if p.is_file() and not (p.name.startswith(".") and p.name.endswith(".tmp"))
    ]
    state = {
        str(p.relative_to(repo.root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }
    # The raw stage's entry records what data/raw holds (a broken file too): it describes the
    # input, not an output, so it is left out; every other stage's entry must stay.
    lock = yaml.safe_load(repo.path("dvc.lock").read_text())
    lock["stages"].pop("raw", None)
    state["dvc.lock"] = hashlib.sha256(yaml.safe_dump(lock).encode()).hexdigest()
    lock["stages"].pop("report", None)
    state["dvc.lock without the report stage"] = hashlib.sha256(
        yaml.safe_dump(lock).encode()
    ).hexdigest()
    return state


@pytest.fixture
def good(real_run, real_csv):
    """The shared good run on the course file (conftest.real_run), given back to the other
    tests exactly as it was: every test here restores it and checks that it did."""
    repo = real_run
    state = snapshot(repo)
    assert any(k.endswith("model.skops") for k in state) and "metrics/metrics.json" in state
    yield repo, state
    restore(repo, real_csv, state)


def restore(repo: PipelineRepo, real_csv: Path, state: dict[str, str]) -> None:
    """Back to the course file and the committed params: the same outputs, byte for byte
    (the reports too: they name no commit, only what dvc.lock tracks)."""
    repo.path(SRC).write_bytes(real_csv.read_bytes())
    repo.run("git", "checkout", "-q", "--", "params.yaml")
    repo.pipeline()
    assert snapshot(repo) == state


def real_lines(real_csv: Path) -> list[bytes]:
    return real_csv.read_bytes().split(b"\r\n")


def broken_inputs(real_csv: Path) -> dict[str, tuple[bytes, str]]:
    lines = real_lines(real_csv)
    ragged = list(lines)
    ragged[99] = ragged[99].rsplit(b",", 1)[0]  # line 100 loses its last field
    one_class = real_csv.read_bytes().replace(b",verified,", b",not verified,")
    noise = np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes()
    return {
        "a line with a missing field": (
            b"\r\n".join(ragged),
            f"{SRC}, line 100: 11 fields where the header has 12; {RAGGED_HINT}",
        ),
        "verified_status with one class only": (
            one_class,
            f"{SRC}, column 'verified_status': only one class in the 19084 complete rows "
            "(['not verified']); a logistic regression needs both 'verified' and 'not verified'",
        ),
        "random bytes": (
            noise,
            f"{SRC}, line 1: not UTF-8 text (byte 0x{noise[0]:02x} at offset 0); expected a CSV "
            "saved as UTF-8 (Excel: 'CSV UTF-8')",
        ),
    }


def test_corrupt_input_after_a_good_run_changes_no_output(good, real_csv):
    repo, state = good
    for name, (data, message) in broken_inputs(real_csv).items():
        repo.path(SRC).write_bytes(data)
        proc = repo.pipeline(check=False)
        assert proc.returncode != 0, name
        errors = [line for line in proc.stderr.splitlines() if line.startswith("ingest: error:")]
        assert errors == [f"ingest: error: {message}"], (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "Running stage 'features'" not in proc.stdout  # nothing downstream ran
        assert snapshot(repo) == state, name
    repo.path(SRC).write_bytes(real_csv.read_bytes())
    # The raw stage records the file back; no stage that reads it reruns.
    ran = re.findall(r"Running stage '(\w+)'", repo.pipeline().stdout)
    assert ran == ["raw"]
    assert "Data and pipelines are up to date." in repo.pipeline().stdout


BAD_OVERRIDES = {
    "model.C=-1": r"model: error: params: model\.C: must be a positive number, got -1",
    "split.test_size=1.5": r"split: error: params: split\.test_size: must be a fraction in "
    r"\(0, 1\), got 1\.5",
    # Hydra refuses these while composing, before DVC runs any stage.
    "model=l3": r"Could not find 'model/l3'\s+Available options in 'model':\s+elasticnet\s+l1"
    r"\s+l2\s+unpenalized",
    "model.Cc=1": r"Could not override 'model\.Cc'",
}


def test_bad_override_in_dvc_exp_run_changes_no_output(good, real_csv):
    repo, state = good
    for override, pattern in BAD_OVERRIDES.items():
        proc = repo.dvc("exp", "run", "-S", override, check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, override
        assert re.search(pattern, output), (override, output)
        assert "Traceback" not in output
        assert snapshot(repo) == state, override
        repo.run("git", "checkout", "-q", "--", "params.yaml")
    assert "Data and pipelines are up to date." in repo.pipeline().stdout


#: Test-only, written into the temp repo's src/ by the test below and never shipped: the
#: stage's parquet write stops half-way (the temporary file holds half the bytes) and waits
#: to be killed.
STALL_HOOK = """
import os
if os.environ.get("STALL_WRITE_OF"):
    import time
    from pathlib import Path
    import tiktok_verified.files as tio

    _write_parquet = tio.write_parquet

    def write_parquet(target, frame):
        if Path(target).name != os.environ["STALL_WRITE_OF"]:
            return _write_parquet(target, frame)
        with tio.atomic_path(target) as tmp:
            frame.write_parquet(tmp, compression="zstd", statistics=True)
            tmp.write_bytes(tmp.read_bytes()[: tmp.stat().st_size // 2])
            # Atomically: the test reads the pid as soon as the file exists.
            with tio.atomic_path(os.environ["STALL_READY"]) as ready:
                ready.write_text(str(os.getpid()))
            time.sleep(600)

    tio.write_parquet = write_parquet
"""


def test_stage_killed_mid_write_leaves_last_good_outputs_and_rerun_recovers(good, real_csv):
    repo, state = good
    hook = repo.root.parent / "stall-hook"
    hook.mkdir(exist_ok=True)
    # The stage commands set PYTHONPATH=src, so the hook goes there (removed below).
    site = repo.path("src/sitecustomize.py")
    site.write_text(STALL_HOOK)
    ready = hook / "ready"
    # New input for ingest: the course file with LF endings (a harmless variant).
    lf = real_csv.read_bytes().replace(b"\r\n", b"\n")
    repo.path(SRC).write_bytes(lf)
    env = dict(repo.env, STALL_WRITE_OF="videos.parquet")
    env["STALL_READY"] = str(ready)
    log = hook / "log"
    with open(log, "w") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "pipeline"],
            cwd=repo.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the finally below stops make, dvc and the stage
        )
        try:
            deadline = time.monotonic() + 120
            while not ready.exists():
                assert make.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "ingest never reached its parquet write"
                time.sleep(0.05)
            parquet = repo.path("data/interim/videos.parquet")
            (partial,) = temp_files(parquet)
            assert 0 < partial.stat().st_size < parquet.stat().st_size  # half written
            os.kill(int(ready.read_text()), signal.SIGKILL)
            assert make.wait(timeout=120) != 0
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(make.pid, signal.SIGKILL)
            make.wait()
            site.unlink()
    assert "failed to reproduce 'ingest'" in log.read_text()
    # The killed write left its temporary file, and nothing else changed.
    assert temp_files(parquet) == [partial]
    assert snapshot(repo) == state
    assert partial.name not in repo.run("git", "status", "--porcelain").stdout
    # DVC does not take the workspace as up to date: ingest's input changed and it never finished.
    assert "ingest" in repo.dvc("status").stdout

    rerun = repo.pipeline()
    assert "Running stage 'ingest'" in rerun.stdout
    assert temp_files(parquet) == []
    after = snapshot(repo)
    # LF endings give the same interim parquet, so nothing between ingest and report reruns.
    assert after["data/interim/videos.parquet"] == state["data/interim/videos.parquet"]
    assert "Running stage 'model'" not in rerun.stdout
    changed = {k for k in state if after.get(k) != state[k]}
    assert changed - {"dvc.lock", "dvc.lock without the report stage"} <= {"metrics/data.json"} | {
        k for k in state if k.startswith("reports/")
    }
    assert "metrics/data.json" in changed  # the new file's checksum
    data = json.loads(repo.path("metrics/data.json").read_text())
    assert data["sha256"] == hashlib.sha256(lf).hexdigest() and data["rows_kept"] == 19_084
    assert "Data and pipelines are up to date." in repo.pipeline().stdout
