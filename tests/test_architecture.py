"""The layout holds: libraries never import stages or tools, dvc.yaml lists exactly the code
each stage runs, modules stay small, and every stage goes through the one runner."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
import yaml

from tiktok_verified.config import ConfigError
from tiktok_verified.files import write_with
from tiktok_verified.stages import project_python
from tiktok_verified.stages.runner import run_stage
from tiktok_verified.tools import stage_deps

from conftest import REPO_ROOT

SRC = REPO_ROOT / "src"
PACKAGE = SRC / "tiktok_verified"
LIBRARIES = ("data", "modeling", "reporting")


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def library_modules() -> list[Path]:
    files = [p for lib in LIBRARIES for p in (PACKAGE / lib).rglob("*.py")]
    return files + [PACKAGE / name for name in ("config.py", "files.py", "errors.py")]


def test_no_library_module_imports_a_stage_or_a_tool():
    offenders = {
        module_name(path): sorted(
            m
            for m in stage_deps.imported_modules(path, SRC)
            if m.startswith(("tiktok_verified.stages", "tiktok_verified.tools"))
        )
        for path in library_modules()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_import_scan_sees_function_level_and_from_package_imports(tmp_path):
    pkg = tmp_path / "tiktok_verified"
    (pkg / "sub").mkdir(parents=True)
    for name in ("__init__.py", "sub/__init__.py", "sub/a.py", "sub/b.py", "c.py"):
        (pkg / name).write_text("")
    (pkg / "c.py").write_text(
        "def f():\n    from tiktok_verified.sub import a\n    import tiktok_verified.sub.b\n"
    )
    found = stage_deps.imported_modules(pkg / "c.py", tmp_path)
    assert found == {"tiktok_verified.sub", "tiktok_verified.sub.a", "tiktok_verified.sub.b"}
    code = stage_deps.code_of("tiktok_verified.c", tmp_path)
    # Package __init__ files with no code (a docstring, constants) are not code deps ...
    assert {p.relative_to(tmp_path).as_posix() for p in code} == {
        "tiktok_verified/c.py",
        "tiktok_verified/sub/a.py",
        "tiktok_verified/sub/b.py",
    }
    # ... until they hold some.
    (pkg / "sub/__init__.py").write_text('"""doc"""\nVERSION = "1"\nimport os\n')
    assert pkg / "sub/__init__.py" in stage_deps.code_of("tiktok_verified.c", tmp_path)
    # A notebook's code cells count as the stage's code.
    notebook = tmp_path / "n.ipynb"
    cell = {
        "cell_type": "code",
        "source": ["%matplotlib inline\n", "from tiktok_verified.sub import a"],
    }
    notebook.write_text(json.dumps({"cells": [cell, {"cell_type": "markdown", "source": ["x"]}]}))
    assert stage_deps.imported_modules(notebook, tmp_path) == {
        "tiktok_verified.sub",
        "tiktok_verified.sub.a",
    }


def test_dvc_yaml_lists_exactly_the_code_each_stage_runs(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert stage_deps.differences() == {}, (
        "run `python -m tiktok_verified.tools.stage_deps --write`"
    )
    entries = stage_deps.stage_entries()
    assert entries and all(e.startswith("tiktok_verified.stages.") for e in entries.values())


def test_dvc_lock_holds_only_the_stages_of_dvc_yaml():
    """DVC keeps a removed or renamed stage's entry in dvc.lock; the stages' input check
    (guards.check_inputs) would then hold a file to the stale entry's md5 and refuse it as
    damaged (seen when the notebook stage became part of report)."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    locked = yaml.safe_load((REPO_ROOT / "dvc.lock").read_text())["stages"]
    assert list(locked) == list(stages), "delete the stale entries from dvc.lock"


def test_a_missing_or_an_extra_dep_is_reported(monkeypatch, tmp_path):
    monkeypatch.chdir(REPO_ROOT)
    text = Path("dvc.yaml").read_text()
    dropped = text.replace("      - src/tiktok_verified/modeling/inference.py\n", "", 1)
    extra = text.replace(
        "      - src/tiktok_verified/stages/model.py\n",
        "      - src/tiktok_verified/stages/model.py\n"
        "      - src/tiktok_verified/modeling/specification.py\n",  # model never imports it
        1,
    )
    for variant, kind in ((dropped, "missing"), (extra, "extra")):
        path = tmp_path / f"{kind}.yaml"
        path.write_text(variant)
        diff = stage_deps.differences(path)
        assert any(d[kind] for d in diff.values()), kind
    # --write puts them back as derived, and keeps the rest of the file
    path = tmp_path / "missing.yaml"
    assert stage_deps.main(["--write", "--dvc-yaml", str(path)]) == 0
    assert path.read_text() == text


def test_modules_are_small_and_stages_thin():
    sizes = {p.relative_to(SRC).as_posix(): len(p.read_text().splitlines()) for p in
             PACKAGE.rglob("*.py")}  # fmt: skip
    assert {k: n for k, n in sizes.items() if n > 400} == {}
    stages = {k: n for k, n in sizes.items() if k.startswith("tiktok_verified/stages/")}
    assert {k: n for k, n in stages.items() if n > 80 and not k.endswith("__init__.py")} == {}


def test_every_stage_entry_point_uses_the_runner():
    for path in (PACKAGE / "stages").glob("*.py"):
        if path.name in ("__init__.py", "runner.py", "dispatch.py"):
            continue
        text = path.read_text()
        assert "stage_main(" in text and "argparse" not in text, path.name
        assert text.rstrip().endswith('if __name__ == "__main__":\n    exit_with(main())'), (
            path.name
        )


def test_a_stage_program_exits_with_its_code_and_keeps_finalisation(tmp_path):
    """`exit_with` skips only the last garbage collection: the exit code, an atexit handler
    and unflushed output all survive it."""
    script = tmp_path / "stage.py"
    script.write_text(
        "import atexit, gc, sys\n"
        "from tiktok_verified.stages import exit_with\n"
        "atexit.register(lambda: print('atexit ran, frozen', gc.get_freeze_count() > 0))\n"
        "sys.stdout.write('no newline, not flushed')\n"
        "exit_with(3)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout == "no newline, not flushedatexit ran, frozen True\n"


def test_runner_turns_known_errors_into_one_line_and_lets_bugs_through(tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text())

    def refuses(args, p):
        raise ConfigError("params: model.C: must be a positive number, got -1")

    argv = ["--out", "x", "--params", str(params)]
    assert run_stage("demo", "d", refuses, {"out": "o"}, argv) == 1
    assert capsys.readouterr().err == (
        "demo: error: params: model.C: must be a positive number, got -1\n"
    )
    assert run_stage("demo", "d", lambda a, p: f"done {a.out}", {"out": "o"}, argv) == 0
    assert capsys.readouterr().out == "demo: done x\n"

    def bug(args, p):
        raise KeyError("a bug shows its traceback")

    with pytest.raises(KeyError):
        run_stage("demo", "d", bug, {"out": "o"}, argv)
    params.write_text("model: {C: -1}\n")
    assert run_stage("demo", "d", lambda a, p: "", {"out": "o"}, argv) == 1
    assert capsys.readouterr().err.startswith("demo: error: params: ")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=str)
def test_runner_turns_each_stop_signal_into_one_line_and_its_exit_code(tmp_path, capsys, signum):
    """What the end-to-end Ctrl-C / SIGTERM tests (test_loop_faults) see from a whole pipeline,
    for every stop signal, in process: the body is stopped where it is, its unfinished write's
    temporary file is removed, one line names the signal, and the exit code is 128 + it."""
    params = tmp_path / "params.yaml"
    params.write_text((REPO_ROOT / "params.yaml").read_text())
    out = tmp_path / "out.txt"

    def stopped_mid_write(args, p):
        def write(tmp):
            tmp.write_text("half")
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the signal arrives first

        write_with(out, write)
        return "never"

    before = signal.getsignal(signum)
    argv = ["--out", "x", "--params", str(params)]
    assert run_stage("demo", "d", stopped_mid_write, {"out": "o"}, argv) == 128 + signum
    name = signal.Signals(signum).name
    assert capsys.readouterr().err == (
        f"demo: interrupted by {name}; no output is half-written (each is the last good one "
        "or this run's complete one); run `dvc repro` to finish\n"
    )
    assert list(tmp_path.iterdir()) == [params]  # neither the output nor its temporary file
    assert signal.getsignal(signum) == before  # the handlers are given back


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    """An interpreter without the project's packages (a venv with nothing installed)."""
    root = tmp_path_factory.mktemp("bare") / "env"
    venv.create(root, with_pip=False)
    return root / "bin" / "python"


def run_with(python: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [str(python), "-m", "tiktok_verified.stages.features", "--help"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.venv
def test_a_stage_in_the_wrong_interpreter_says_what_to_run(bare_python, tmp_path):
    proc = run_with(bare_python, tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("features: error: ")
    assert "no module named 'polars'" in proc.stderr
    assert "source .venv/bin/activate" in proc.stderr


@pytest.mark.venv
def test_a_stage_in_the_wrong_interpreter_re_runs_in_the_project_venv(bare_python, tmp_path):
    """As DVC runs a queued experiment: in a folder below the repository holding `.venv`."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)  # the project's venv
    below = tmp_path / ".dvc" / "tmp" / "exps" / "tmp123"
    below.mkdir(parents=True)
    assert project_python(below) == tmp_path / ".venv" / "bin" / "python"
    proc = run_with(bare_python, below)
    assert proc.returncode == 0, proc.stderr
    assert "Build the predictor table." in proc.stdout


def test_each_engines_code_is_a_dep_only_of_the_runs_that_use_it():
    """dvc.yaml names no engine file, only the folder of the running engine (templated from
    params.yaml), so an edit of engines/spark/ leaves a local run up to date and the other way
    round; and every engine has the module each dispatched stage imports."""
    import importlib

    from tiktok_verified.tools import stage_deps

    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    dispatched = stage_deps.engine_stages(REPO_ROOT / "dvc.yaml", REPO_ROOT / "src")
    assert dispatched == {"ingest", "features", "split", "statistics", "model"}
    for name, stage in stages.items():
        engine_deps = [d for d in stage.get("deps", []) if "/engines/" in str(d)]
        assert engine_deps == ([stage_deps.ENGINE_DEP] if name in dispatched else []), name
        if name in dispatched:
            assert "engine" in stage.get("params", []), name
            for engine in stage_deps.ENGINES:
                module = importlib.import_module(f"tiktok_verified.engines.{engine}.{name}")
                assert callable(module.run), (engine, name)
