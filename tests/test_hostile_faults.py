"""Faults: a write interrupted at any point (exception or SIGKILL) leaves the previous output
under its name; a tampered or damaged model file is refused with a clear message and without
executing anything from it."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tiktok_verified.data import reader as ingest
from tiktok_verified.data import standin as synthetic
from tiktok_verified.data.features import build_features
from tiktok_verified.files import temp_files, write_json, write_parquet, write_with
from tiktok_verified.modeling import fit as fit_lib
from tiktok_verified.modeling import model_file
from tiktok_verified.modeling.fit import fit
from tiktok_verified.stages import ingest as ingest_stage

from conftest import REPO_ROOT, compose_params

# --- atomic writes ----------------------------------------------------------------------------


class Interrupted(BaseException):
    """Stands for a KeyboardInterrupt or a crash in the middle of a write."""


@pytest.mark.parametrize("failure", [Interrupted, RuntimeError, KeyboardInterrupt])
def test_a_write_failing_midway_leaves_the_previous_output(tmp_path, failure):
    target = tmp_path / "out" / "videos.parquet"
    write_parquet(target, pl.DataFrame({"a": [1, 2, 3]}))
    before = target.read_bytes()

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(before[: len(before) // 2])
        assert target.read_bytes() == before  # nothing is written in place
        raise failure("killed mid-write")

    with pytest.raises(failure):
        write_with(target, half_then_fail)
    assert target.read_bytes() == before
    assert temp_files(target) == []


def test_a_first_write_failing_midway_leaves_no_output(tmp_path):
    target = tmp_path / "metrics.json"

    def partial(tmp: Path) -> None:
        tmp.write_text('{"acc')
        raise Interrupted

    with pytest.raises(Interrupted):
        write_with(target, partial)
    assert not target.exists() and temp_files(target) == []


def test_outputs_are_ordinary_files(tmp_path):
    target = tmp_path / "m.json"
    write_json(target, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from tiktok_verified.files import atomic_path
target, ready = Path(sys.argv[1]), Path(sys.argv[2])
with atomic_path(target) as tmp:
    with open(tmp, "wb") as fh:
        fh.write(b"new but incomplete" * 1000)
        fh.flush()
        ready.write_text(str(os.getpid()))
        time.sleep(60)
        fh.write(b"never written")
"""


def test_sigkill_mid_write_leaves_the_previous_output_and_the_next_write_cleans_up(tmp_path):
    target, ready = tmp_path / "model.skops", tmp_path / "ready"
    target.write_bytes(b"last good model")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), str(ready)])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "writer did not start"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        proc.kill()
    assert target.read_bytes() == b"last good model"
    (leftover,) = temp_files(target)
    assert leftover.name.startswith(".model.skops.") and leftover.read_bytes().startswith(b"new")
    write_with(target, lambda tmp: tmp.write_bytes(b"next good model"))
    assert target.read_bytes() == b"next good model" and temp_files(target) == []


def test_git_ignores_leftover_temp_files():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "metrics/.data.json.abc123.tmp"], cwd=REPO_ROOT
    )
    assert ignored.returncode == 0
    assert ".*.tmp" in (REPO_ROOT / ".dvcignore").read_text().splitlines()


def test_ingest_writes_nothing_when_the_input_is_bad(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / ingest.RAW_NAME).write_bytes(b"#,claim_status\n1,claim\n")
    out, metrics = tmp_path / "v.parquet", tmp_path / "d.json"
    (tmp_path / "params.yaml").write_bytes((REPO_ROOT / "params.yaml").read_bytes())
    args = ["--raw-dir", str(raw), "--out", str(out), "--metrics", str(metrics)]
    assert ingest_stage.main([*args, "--params", str(tmp_path / "params.yaml")]) == 1
    assert not out.exists() and not metrics.exists()
    assert list(tmp_path.glob(".*")) == []


# --- the model file -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> bytes:
    params = compose_params()
    videos = ingest.ingest_bytes(synthetic.csv_bytes(2_000, seed=5), "stand-in").frame
    pipeline, _ = fit(build_features(videos, params.features).collect(), params)
    path = tmp_path_factory.mktemp("model") / "model.skops"
    model_file.save(pipeline, path)
    return path.read_bytes()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def with_schema(data: bytes, edit) -> bytes:
    files = members(data)
    state = json.loads(files["schema.json"])
    edit(state)
    return zipped({**files, "schema.json": json.dumps(state).encode()})


def code_at_top(state: dict) -> None:
    """The whole model replaced by a call of os.system."""
    state.clear()
    state.update(
        {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode", "__id__": 1}
        | {"content": {"module_path": "os", "function": "system"}, "protocol": 2}
        | {"_skops_version": "0.16.0"}
    )


def popen_inside(state: dict) -> None:
    """A subprocess.Popen(["touch", ...]) smuggled into the Pipeline's attributes."""
    arg = {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode"}
    arg |= {"content": json.dumps(f"touch {SENTINEL}"), "is_json": True}
    args = {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode"}
    args |= {"content": [arg]}
    state["content"]["content"]["memory"] = {
        "__class__": "Popen",
        "__module__": "subprocess",
        "__loader__": "ReduceNode",
        "__id__": 999,
        "content": {"args": args, "attrs": {}},
    }


def other_estimator(state: dict) -> None:
    state["__class__"], state["__module__"] = "SVC", "sklearn.svm._classes"


def nan_coefficients(data: bytes) -> bytes:
    files = members(data)
    for name, blob in files.items():
        if name.endswith(".npy"):
            array = np.load(io.BytesIO(blob), allow_pickle=False)
            if array.dtype == np.float64 and array.ndim == 2:
                out = io.BytesIO()
                np.save(out, np.full_like(array, np.nan))
                files[name] = out.getvalue()
    return zipped(files)


def flipped(data: bytes) -> bytes:
    damaged = bytearray(data)
    damaged[len(data) // 3] ^= 0xFF
    return bytes(damaged)


SENTINEL = Path("/tmp") / f"tiktok-verified-pwned-{os.getpid()}"
REBUILD = "rebuild it with `dvc repro train`"
TAMPERED = {
    "types that run code (os.system)": (
        lambda d: with_schema(d, code_at_top),
        "refusing to load: the file asks for types outside the trusted list ['os.system']; "
        f"it was not written by this pipeline (tampered?); {REBUILD}",
    ),
    "a subprocess.Popen smuggled inside": (
        lambda d: with_schema(d, popen_inside),
        "refusing to load: the file asks for types outside the trusted list "
        f"['subprocess.Popen']; it was not written by this pipeline (tampered?); {REBUILD}",
    ),
    "another estimator": (
        lambda d: with_schema(d, other_estimator),
        "refusing to load: the file asks for types outside the trusted list "
        f"['sklearn.svm._classes.SVC']; it was not written by this pipeline (tampered?); {REBUILD}",
    ),
    "NaN coefficients": (
        nan_coefficients,
        f"not a model of this pipeline (coefficients are not finite numbers); {REBUILD}",
    ),
    "a pickle instead": (
        lambda d: pickle.dumps({"model": 1}),
        f"not a readable skops model file (BadZipFile: File is not a zip file); {REBUILD}",
    ),
    "truncated": (
        lambda d: d[: len(d) // 2],
        f"not a readable skops model file (BadZipFile: File is not a zip file); {REBUILD}",
    ),
    "empty": (
        lambda d: b"",
        f"not a readable skops model file (BadZipFile: File is not a zip file); {REBUILD}",
    ),
    "schema not JSON": (
        lambda d: zipped({**members(d), "schema.json": b"{not json"}),
        "not a readable skops model file (JSONDecodeError: Expecting property name enclosed in "
        f"double quotes: line 1 column 2 (char 1)); {REBUILD}",
    ),
}


@pytest.mark.parametrize("name", TAMPERED)
def test_tampered_model_is_refused_clearly_without_running_it(name, saved_model, tmp_path):
    tamper, message = TAMPERED[name]
    path = tmp_path / "model.skops"
    path.write_bytes(tamper(saved_model))
    with pytest.raises(model_file.ModelFileError) as err:
        model_file.load(path)
    assert str(err.value) == f"{path}: {message}"
    assert not SENTINEL.exists()


def test_damaged_bytes_are_refused(saved_model, tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(flipped(saved_model))
    with pytest.raises(model_file.ModelFileError, match=rf"^{path}: .*; rebuild it with"):
        model_file.load(path)


def test_untampered_model_loads(saved_model, tmp_path):
    path = tmp_path / "model.skops"
    path.write_bytes(saved_model)
    assert fit_lib.feature_names(model_file.load(path))[0] == "claim_status_opinion"


@pytest.mark.parametrize("override", ["model=l1", "model=elasticnet", "model.standardize=true"])
def test_every_model_option_saves_only_trusted_types(override, tmp_path):
    params = compose_params(override)
    videos = ingest.ingest_bytes(synthetic.csv_bytes(1_000, seed=6), "stand-in").frame
    pipeline, _ = fit(build_features(videos, params.features).collect(), params)
    model_file.save(pipeline, tmp_path / "m.skops")
    assert model_file.load(tmp_path / "m.skops").steps[1][0] == "classify"
