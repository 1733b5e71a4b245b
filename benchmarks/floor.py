"""The floor (issue 22): the smallest honest DVC project doing this project's experiment, so that
`make bench` tracks how far the project's `dvc exp run` is from what DVC itself costs.

One stage (benchmarks/floor_train.py as train.py): the same parquet parts the project's model
stage reads (data/ tracked with `dvc add`, so a queued experiment's copy gets them), scikit-learn's
StandardScaler + LogisticRegression, metrics and confusion-matrix JSON; `core.autostage` on.
Measured in the same run as the project: one `dvc exp run -S model.C=…` and a queued sweep of four
(`dvc exp run --run-all -j 2`, under the test suite's watchdog for DVC's known hang).

    .venv/bin/python -m benchmarks.floor     # the floor alone, once, on a fresh pipeline run
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import CommandFailed, run_measured
from tests.conftest import HANG_GRACE_S, SHARED_CSV, PipelineRepo, new_repo, tool_env

BENCH_DIR = Path(__file__).resolve().parent
PARTS = ("train.parquet", "test.parquet")
DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps:
      - train.py
      - data
    params:
      - model.C
    metrics:
      - metrics.json:
          cache: false
      - confusion_matrix.json:
          cache: false
"""


#: How often a timed sweep's watchdog asks `dvc queue status`: a sweep stopped once the queue
#: drained is timed to within this of that moment (the test suite asks every 15 s).
SWEEP_STATUS_EVERY_S = 5


def timed_sweep(repo: PipelineRepo, env: dict[str, str] | None = None) -> dict:
    """`dvc exp run --run-all -j 2` under the test suite's watchdog for DVC's known hang
    (tests/conftest.py, PipelineRepo.run_all): {"wall_s", "ended"}. A sweep the watchdog
    stopped after the queue drained is timed to that moment (its grace is not counted)."""
    started = time.monotonic()
    ended = repo.run_all("-j", "2", env=env, every=SWEEP_STATUS_EVERY_S)
    wall = time.monotonic() - started
    return {"wall_s": wall - (0 if ended == "exited" else HANG_GRACE_S), "ended": ended}


def make_floor(root: Path, processed: Path) -> PipelineRepo:
    """The one-stage project at `root` with the parts from `processed` (a pipeline run's
    data/processed/), reproduced once and committed."""
    (root / "data").mkdir(parents=True)
    for name in PARTS:
        shutil.copyfile(processed / name, root / "data" / name)
    shutil.copyfile(BENCH_DIR / "floor_train.py", root / "train.py")
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "params.yaml").write_text("model:\n  C: 1.0\n")
    repo = PipelineRepo(root, tool_env(root.parent))
    repo.run("git", "init", "-q", "-b", "main")
    repo.dvc("init", "-q")
    for key, value in (
        ("core.autostage", "true"),
        ("core.analytics", "false"),
        ("core.check_update", "false"),
    ):
        repo.dvc("config", key, value)
    repo.dvc("add", "-q", "data")
    repo.dvc("repro")
    repo.commit("the floor: one stage, reproduced")
    return repo


def floor_c(repo: PipelineRepo) -> float:
    return json.loads(repo.path("metrics.json").read_text())["C"]


def bench_floor(repo: PipelineRepo, c_value: float, sweep_values: list[float]) -> dict:
    """One `dvc exp run -S model.C=c_value`, then the queued sweep of four, in the floor."""
    exp_run = run_measured(
        ["dvc", "exp", "run", "-S", f"model.C={c_value}"], repo.root, repo.env, timeout=600
    )
    if floor_c(repo) != c_value:
        raise CommandFailed("the floor's model.C change did not reach metrics.json")
    joined = ",".join(str(v) for v in sweep_values)
    repo.dvc("exp", "run", "--queue", "-S", f"model.C={joined}")
    sweep = timed_sweep(repo)
    shown = json.loads(repo.dvc("exp", "show", "--json").stdout)
    done = {
        e["data"]["metrics"]["metrics.json"]["data"]["C"]
        for rev in shown
        for exp in (rev.get("experiments") or [])
        for e in exp.get("revs", [])
        if "metrics.json" in ((e.get("data") or {}).get("metrics") or {})
    } & set(sweep_values)
    if len(done) < len(sweep_values):
        raise CommandFailed(f"the floor's sweep finished {len(done)} of {len(sweep_values)}")
    return {"exp_run": {**exp_run.summary(), "C": c_value}, "sweep": {"wall_s": sweep["wall_s"]}}


def bench_project(repo: PipelineRepo, c_value: float, sweep_values: list[float]) -> dict:
    """The project's side, measured as bench_real does (without the probe)."""
    exp_run = run_measured(
        ["dvc", "exp", "run", "-S", f"model.C={c_value}"], repo.root, repo.env, timeout=900
    )
    joined = ",".join(str(v) for v in sweep_values)
    repo.dvc("exp", "run", "--queue", "-S", f"model.C={joined}")
    return {"exp_run": exp_run.summary(), "sweep": timed_sweep(repo)}


def main(argv: list[str] | None = None) -> int:
    """The floor once, beside the project's experiment and sweep on the same run (a check that
    the scenario works; `make bench` runs it with the rest, repeated)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=SHARED_CSV)
    args = parser.parse_args(argv)
    # (DVC's queue workers may still be writing there as the sweep returns)
    with tempfile.TemporaryDirectory(prefix="floor-", ignore_cleanup_errors=True) as tmp:
        run = new_repo(Path(tmp) / "run", tool_env(Path(tmp)), args.csv)
        run.pipeline()
        floor = make_floor(Path(tmp) / "floor" / "repo", run.path("data/processed"))
        project = bench_project(run, 0.5, [0.01, 0.02, 0.03, 0.04])
        result = {"project": project, "floor": bench_floor(floor, 0.5, [0.01, 0.02, 0.03, 0.04])}
    for key in ("exp_run", "sweep"):
        ours, floor_s = project[key]["wall_s"], result["floor"][key]["wall_s"]
        result[f"{key}_vs_floor"] = round(ours / floor_s, 2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
