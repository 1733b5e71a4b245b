"""The benchmark: time and peak memory of the pipeline, side by side with the course's pandas way.

    make bench                                  # full run (~12 min on a quiet 2-core machine)
    BENCH_QUICK=1 make bench                    # short run (~2-3 min): fewer repeats, no 10M
    .venv/bin/python -m benchmarks.run --help   # repeats, sizes, output paths

Every scenario runs in a scratch copy of the repository (the test suite's `new_repo`: tracked and
untracked-not-ignored files, a fresh git repo), so the work tree is never touched. Each stage's
wall time, CPU time and peak RSS are recorded where DVC runs it, by a probe on PYTHONPATH
(`benchmarks/probe/sitecustomize.py`); whole commands are measured with `wait4`.

Scenarios, each repeated and reported as medians:
  real file   cold `make pipeline` (= `make repro` with the environment built) in a fresh clone
              (committed dvc.lock), then a no-op `dvc repro`, one `dvc exp run -S model.C=…`,
              `dvc repro --force`, and a queued sweep of four C values run with
              `dvc exp run --run-all -j 2`; the same experiment and sweep in the floor, a
              one-stage DVC project doing the same fit on the same parts (benchmarks/floor.py);
              the whole pipeline with every stage run (no dvc.lock) + `make pipeline`; the
              pandas baseline on the same file
  N rows      `python -m tiktok_verified.data.standin` writes N rows to data/raw/ of a fresh copy,
              `make pipeline` (dvc add + dvc repro, every stage), the pandas baseline
Writes benchmarks/results.json (every run) and benchmarks/RESULTS.md (medians, targets, ratios,
machine, exact commands, and benchmarks/FINDINGS.md under "Findings").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from benchmarks import report
from benchmarks.floor import bench_floor, make_floor, timed_sweep
from benchmarks.measure import (
    CommandFailed,
    Measured,
    dvc_usage,
    median,
    parse_sizes,
    read_probe,
    run_measured,
    set_param_text,
    stage_commands,
    stage_module,
    stage_usage,
)
from tests.conftest import new_repo, tool_env

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PROBE_DIR = BENCH_DIR / "probe"
RAW = Path("data/raw/tiktok_dataset.csv")
SHARED_CSV = REPO_ROOT.parent / "shared" / "data" / "tiktok_dataset.csv"
PYTHON = sys.executable
PREDICTOR_JSON = "metrics/predictor.json"
TIMEOUT_S = 45 * 60

FULL = {"real_repeats": 5, "sizes": {1_000_000: 3, 10_000_000: 3}, "spark": [10_000_000]}
QUICK = {"real_repeats": 2, "sizes": {1_000_000: 1}, "spark": []}
SPARK_MASTER = "local[2]"


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)


# --- the scratch repository -----------------------------------------------------------------------


class Scratch:
    """A scratch copy of the repository with the probe on PYTHONPATH and its own src/ first."""

    def __init__(self, tmp: Path, name: str, csv: Path | None, keep_lock: bool = True):
        base = tmp / name
        base.mkdir(parents=True)
        self.repo = new_repo(base / "repo", tool_env(base), csv)
        self.root = self.repo.root
        if not keep_lock:
            self.repo.run("git", "rm", "-q", "dvc.lock")
            self.repo.commit("no dvc.lock: every stage runs")
        # Stage commands may set PYTHONPATH=src themselves (replacing ours): the probe then
        # loads from the scratch copy's src/ (untracked there, so no DVC hash changes).
        shutil.copyfile(PROBE_DIR / "sitecustomize.py", self.root / "src" / "sitecustomize.py")
        self.probe_log = base / "probe.jsonl"
        self.env = dict(self.repo.env)
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(PROBE_DIR), str(self.root / "src"), self.env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        self.commands = stage_commands((self.root / "dvc.yaml").read_text())

    def measure(self, *argv: str, probe: bool = True) -> Measured:
        """Run a command in the scratch repo; with the probe, attach per-stage figures."""
        env = dict(self.env)
        if probe:
            self.probe_log.unlink(missing_ok=True)
            env["BENCH_PROBE_LOG"] = str(self.probe_log)
        result = run_measured(argv, self.root, env, timeout=TIMEOUT_S)
        if probe:
            records = read_probe(self.probe_log)
            result.stages = stage_usage(records, self.commands)
            result.dvc = dvc_usage(records)
        return result

    def json(self, rel: str) -> dict:
        return json.loads((self.root / rel).read_text())

    def set_param(self, key: str, value: object) -> None:
        path = self.root / "params.yaml"
        path.write_text(set_param_text(path.read_text(), key, value))

    def pandas(self, csv: Path, standardize: bool) -> tuple[Measured, dict]:
        out = self.root.parent / "pandas.json"
        flag = "--standardize" if standardize else "--no-standardize"
        argv = [PYTHON, str(BENCH_DIR / "pandas_course.py"), str(csv), "--json", str(out), flag]
        result = self.measure(*argv, probe=False)
        return result, json.loads(out.read_text())

    def remove(self) -> None:
        shutil.rmtree(self.root.parent, ignore_errors=True)


def model_standardize() -> bool:
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    return bool(params["model"].get("standardize", False))


def outcome(s: Scratch) -> dict:
    data = s.json("metrics/data.json")
    metrics = s.json("metrics/metrics.json")
    coefficients = s.json("metrics/predictor.json")["predictor"]
    return {
        "rows_in": data["rows_in"],
        "rows_kept": data["rows_kept"],
        "train_rows_fitted": coefficients["train_rows"],
        "iterations": coefficients["iterations"],
        "test_rows": metrics["test"]["rows"],
        "test_accuracy": metrics["test"]["accuracy"],
    }


# --- scenarios ------------------------------------------------------------------------------------


def bench_real(tmp: Path, csv: Path, repeats: int, standardize: bool) -> dict:
    runs = []
    for r in range(repeats):
        log(f"real file, repeat {r + 1}/{repeats}: cold make pipeline in a fresh clone")
        clone = Scratch(tmp, f"real-{r}", csv)
        # `make repro` = `make env` (a no-op: the environment exists) + `make pipeline`. The
        # scratch copy has no .venv of its own, and must never sync the shared one.
        cold = clone.measure("make", "--no-print-directory", "pipeline")
        log(f"  {cold.wall_s:.2f} s; no-op dvc repro")
        noop = clone.measure("dvc", "repro")
        if "Running stage" in noop.stdout:
            raise CommandFailed("a no-op dvc repro ran a stage:\n" + noop.stdout)
        # Values never used before, so nothing can be restored instead of run.
        c_value = round(0.5 + 0.01 * r, 2)
        log(f"  {noop.wall_s:.2f} s; dvc exp run -S model.C={c_value}")
        exp_run = clone.measure("dvc", "exp", "run", "-S", f"model.C={c_value}")
        if clone.json("metrics/predictor.json")["predictor"]["C"] != c_value:
            raise CommandFailed("model.C change did not reach metrics/predictor.json")
        log(f"  {exp_run.wall_s:.2f} s; dvc repro --force")
        forced = clone.measure("dvc", "repro", "--force")
        sweep_values = ",".join(str(round(0.01 * (k + 1) + 0.001 * r, 3)) for k in range(4))
        log(f"  {forced.wall_s:.2f} s; queue model.C={sweep_values}, run-all -j 2")
        queue = clone.measure("dvc", "exp", "run", "--queue", "-S", f"model.C={sweep_values}")
        sweep = timed_sweep(clone.repo, env=clone.env)
        shown = json.loads(clone.repo.dvc("exp", "show", "--json").stdout)
        done = {
            metrics["data"]["predictor"]["C"]
            for rev in shown
            for exp in (rev.get("experiments") or [])
            for e in exp.get("revs", [])
            if (metrics := ((e.get("data") or {}).get("metrics") or {}).get(PREDICTOR_JSON))
        } & {float(v) for v in sweep_values.split(",")}
        if len(done) < 4:
            raise CommandFailed(f"the queued sweep finished {len(done)} of 4 experiments")
        log(f"  queue {queue.wall_s:.2f} s, run-all {sweep['wall_s']:.2f} s ({sweep['ended']})")
        # The floor, right after on the same parts: a one-stage DVC project, the same fit.
        floor_dir = tmp / f"floor-{r}"
        floor = make_floor(floor_dir / "repo", clone.root / "data" / "processed")
        floor_result = bench_floor(floor, c_value, [float(v) for v in sweep_values.split(",")])
        log(
            f"  floor: exp run {floor_result['exp_run']['wall_s']:.2f} s, "
            f"run-all {floor_result['sweep']['wall_s']:.2f} s"
        )
        shutil.rmtree(floor_dir, ignore_errors=True)
        clone.remove()

        log("  whole pipeline, every stage (no dvc.lock)")
        fresh = Scratch(tmp, f"real-full-{r}", csv, keep_lock=False)
        full = fresh.measure("make", "--no-print-directory", "pipeline")
        result = outcome(fresh)
        log(f"  {full.wall_s:.2f} s; pandas baseline")
        pandas, pandas_out = fresh.pandas(fresh.root / RAW, standardize)
        fresh.remove()
        log(f"  {pandas.wall_s:.2f} s")
        runs.append(
            {
                "cold_make_repro": cold.summary(),
                "noop_dvc_repro": noop.summary(),
                "exp_run": {**exp_run.summary(), "C": c_value},
                "forced": forced.summary(),
                "queue": queue.summary(),
                "sweep": sweep,
                "floor": floor_result,
                "full_pipeline": full.summary(),
                "outcome": result,
                "pandas": {**pandas.summary(), "result": pandas_out},
            }
        )
    return {"rows": None, "csv": str(csv), "repeats": repeats, "runs": runs}


def bench_imports(tmp: Path, repeats: int = 3) -> dict:
    """Wall time and peak RSS of importing each stage's module and nothing else: the fixed
    start-up cost every run of that stage pays, whatever the data size."""
    s = Scratch(tmp, "imports", csv=None)
    out = {}
    for name, cmd in s.commands.items():
        module = stage_module(cmd)
        if module is None:
            continue
        runs = [s.measure(PYTHON, "-c", f"import {module}", probe=False) for _ in range(repeats)]
        out[name] = {
            "module": module,
            "wall_s": median(r.wall_s for r in runs),
            "maxrss_mib": median(r.maxrss_mib for r in runs),
            "cpu_s": median(r.cpu_s for r in runs),
        }
    s.remove()
    log("imports: " + ", ".join(f"{k} {v['wall_s']:.2f} s" for k, v in out.items()))
    return out


def bench_synthetic(tmp: Path, rows: int, repeats: int, standardize: bool) -> dict:
    runs = []
    for r in range(repeats):
        log(f"{rows:,} synthetic rows, repeat {r + 1}/{repeats}: generate")
        s = Scratch(tmp, f"synthetic-{rows}-{r}", csv=None)
        generate = s.measure(
            PYTHON,
            "-m",
            "tiktok_verified.data.standin",
            str(RAW),
            "--rows",
            str(rows),
            "--seed",
            "0",
        )
        size = (s.root / RAW).stat().st_size
        log(f"  {generate.wall_s:.2f} s, {size / 1e9:.2f} GB; make pipeline")
        pipeline = s.measure("make", "--no-print-directory", "pipeline")
        missing = [name for name in s.commands if name not in pipeline.stages]
        if missing:
            raise CommandFailed(f"stages did not run on synthetic data: {missing}")
        result = outcome(s)
        if result["rows_in"] != rows:
            raise CommandFailed(f"ingest read {result['rows_in']} rows, expected {rows}")
        log(f"  {pipeline.wall_s:.1f} s; pandas baseline")
        pandas, pandas_out = s.pandas(s.root / RAW, standardize)
        log(f"  {pandas.wall_s:.1f} s")
        s.remove()
        runs.append(
            {
                "generate": {**generate.summary(), "csv_bytes": size},
                "pipeline": pipeline.summary(),
                "outcome": result,
                "pandas": {**pandas.summary(), "result": pandas_out},
            }
        )
    return {"rows": rows, "repeats": repeats, "runs": runs}


def bench_spark(tmp: Path, rows: int, master: str = SPARK_MASTER) -> dict:
    """The same pipeline on `engine=spark` (`master`), once: generate, `make pipeline`. The
    peak memory is the largest process of the tree, the Spark driver's JVM here."""
    log(f"{rows:,} synthetic rows on Spark ({master}): generate")
    s = Scratch(tmp, f"spark-{rows}", csv=None)
    s.measure(PYTHON, "-m", "tiktok_verified.data.standin", str(RAW), "--rows", str(rows))
    # What `dvc exp run -S engine=spark` composes (conf/engine/spark.yaml: its driver memory
    # and shuffle partitions), on `master`.
    s.measure(PYTHON, "-m", "tiktok_verified.tools.compose", "engine=spark",
              f"engine.master='{master}'", probe=False)  # fmt: skip
    pipeline = s.measure("make", "--no-print-directory", "pipeline")
    result = outcome(s)
    if result["rows_in"] != rows:
        raise CommandFailed(f"ingest read {result['rows_in']} rows on Spark, expected {rows}")
    log(f"  {pipeline.wall_s:.1f} s, peak {pipeline.maxrss_mib:.0f} MiB")
    s.remove()
    return {"rows": rows, "master": master, "pipeline": pipeline.summary(), "outcome": result}


# --- the machine ----------------------------------------------------------------------------------


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "?"
    return out.strip().splitlines()[0] if out.strip() else "?"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_facts() -> dict:
    import numpy
    import pandas
    import polars
    import sklearn
    from threadpoolctl import threadpool_info

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} threads)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_gib, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "dvc": _first_line([str(Path(PYTHON).parent / "dvc"), "--version"]),
        "blas": "; ".join(blas) or "?",
        "openblas_env": {
            k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
        },
        "git_commit": _first_line(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"]),
    }


# --- main -----------------------------------------------------------------------------------------


def plan(args: argparse.Namespace) -> dict:
    base = QUICK if args.quick else FULL
    sizes = dict(base["sizes"])
    if args.sizes is not None:
        sizes = {n: args.repeats_synthetic or base["sizes"].get(n, 1) for n in args.sizes}
    elif args.repeats_synthetic is not None:
        sizes = {n: args.repeats_synthetic for n in sizes}
    return {
        "quick": args.quick,
        "real_repeats": base["real_repeats"] if args.repeats_real is None else args.repeats_real,
        "sizes": sizes,
        "spark": base["spark"] if args.spark_sizes is None else args.spark_sizes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="short run: 2 repeats on the real file, 1M rows once, no 10M (or BENCH_QUICK=1)",
    )
    parser.add_argument("--repeats-real", type=int, help="repeats on the course file")
    parser.add_argument("--repeats-synthetic", type=int, help="repeats per synthetic size")
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes(os.environ["BENCH_SIZES"]) if os.environ.get("BENCH_SIZES") else None,
        help="synthetic sizes, e.g. 1m,10m (or BENCH_SIZES); 0 or '' for none",
    )
    parser.add_argument(
        "--spark-sizes",
        type=parse_sizes,
        help="synthetic sizes run once on engine=spark (local[2]), e.g. 10m; 0 for none",
    )
    parser.add_argument("--csv", type=Path, help="the course file (default ../shared/data/)")
    parser.add_argument("--out-dir", type=Path, default=BENCH_DIR)
    parser.add_argument("--tmp", type=Path, default=os.environ.get("BENCH_TMP"))
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite RESULTS.md from results.json"
    )
    args = parser.parse_args(argv)
    # Terminated: unwind, so the running command's session is killed and the scratch removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.sizes = None if args.sizes is None else [n for n in args.sizes if n > 0]
    if args.spark_sizes is not None:
        args.spark_sizes = [n for n in args.spark_sizes if n > 0]
    json_path = args.out_dir / "results.json"
    md_path = args.out_dir / "RESULTS.md"
    if args.report_only:
        results = json.loads(json_path.read_text())
        md_path.write_text(report.render(results, _findings()))
        log(f"wrote {md_path}")
        return 0

    config = plan(args)
    csv = args.csv or next((p for p in (SHARED_CSV, REPO_ROOT / RAW) if p.exists()), None)
    standardize = model_standardize()
    results: dict = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "plan": {**config, "sizes": {str(k): v for k, v in config["sizes"].items()}},
        "argv": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
        "quick": config["quick"],
        "machine": machine_facts(),
        "load_before": load_average(),
        "pandas_standardize": standardize,
        "real": None,
        "synthetic": {},
    }
    log(f"plan: {results['plan']}; load {results['load_before']}")
    tmp_parent = args.tmp or None
    with tempfile.TemporaryDirectory(prefix="tiktok-bench-", dir=tmp_parent) as tmp_name:
        tmp = Path(tmp_name)
        if csv is None:
            log("the course file is absent: skipping the real-file scenarios")
        elif config["real_repeats"] > 0:
            results["real"] = bench_real(tmp, csv, config["real_repeats"], standardize)
            results["real"]["imports"] = bench_imports(tmp)
            _save_partial(json_path, results)
        for rows, repeats in sorted(config["sizes"].items()):
            results["synthetic"][str(rows)] = bench_synthetic(tmp, rows, repeats, standardize)
            _save_partial(json_path, results)
        results["spark"] = {}
        for rows in config["spark"]:
            results["spark"][str(rows)] = bench_spark(tmp, rows)
            _save_partial(json_path, results)
    results["load_after"] = load_average()
    results["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    md_path.write_text(report.render(results, _findings()))
    log(f"wrote {md_path} and {json_path}")
    return 0


def _save_partial(json_path: Path, results: dict) -> None:
    """Keep what is measured so far (a long run can be rendered with --report-only)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    partial = {**results, "load_after": load_average(), "finished": "(partial)"}
    json_path.write_text(json.dumps(partial, indent=1) + "\n")


def _findings() -> str:
    path = BENCH_DIR / "FINDINGS.md"
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":
    sys.exit(main())
