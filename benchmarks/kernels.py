"""One-off check across OpenBLAS kernels: are the committed outputs the same bytes on every CPU?

    .venv/bin/python -m benchmarks.kernels                  # both parts, the default kernels
    .venv/bin/python -m benchmarks.kernels --fits 400 --kernels native,Haswell,Sandybridge,Prescott

Not a test: OpenBLAS picks its kernel by CPU (SkylakeX with AVX-512, Haswell/Zen with AVX2, ...)
and some machines here set OPENBLAS_CORETYPE themselves for safety, so tests and CI never touch
it. Here each kernel is forced for one subprocess (`native` = whatever the CPU picks).

Part 1, the pipeline: for each kernel, a fresh copy of the repository (the tests' `new_repo`,
with the course file), `make pipeline` under that kernel, then which committed files differ
(`git status`), and the md5 of the model file.

Part 2, how often rounding straddles: the model fitted on the course file's training part at
`--fits` values of C (a sweep from 1e-3 to 1e2), on the part as split and on a Poisson bootstrap
of it, with each solver and tolerance in VARIANTS; for each fit, how far apart the kernels'
coefficients lie and the saved model's md5, unsettled and settled (`modeling.fit.settle`). A
fit "differs" when some kernel saves other bytes than the others.

Prints Markdown tables and writes benchmarks/kernels.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SHARED_CSV = REPO_ROOT.parent / "shared" / "data" / "tiktok_dataset.csv"
DEFAULT_KERNELS = "native,Haswell,Sandybridge,Prescott"
LOOSE_TOL = 1e-4  # scikit-learn's default


def kernel_env(env: dict[str, str], kernel: str) -> dict[str, str]:
    env = dict(env)
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel != "native":
        env["OPENBLAS_CORETYPE"] = kernel
    return env


def architecture() -> str:
    """The kernel OpenBLAS runs in this process (numpy's copy)."""
    import numpy  # noqa: F401  (loads OpenBLAS)
    from threadpoolctl import threadpool_info

    found = [i.get("architecture", "?") for i in threadpool_info() if i["user_api"] == "blas"]
    return found[0] if found else "?"


def model_bytes_md5(pipeline) -> str:
    import skops.io as sio

    from tiktok_verified.modeling.model_file import _reproducible_zip

    return hashlib.md5(_reproducible_zip(sio.dumps(pipeline))).hexdigest()


#: The fits part 2 compares: scikit-learn's defaults (lbfgs, tol 1e-4), lbfgs pushed to a tight
#: tolerance, the configured solver (newton-cholesky, 1e-8), and saga for the L1 configuration.
VARIANTS = {
    "lbfgs, tol 1e-4 (scikit-learn's default)": {"solver": "lbfgs", "tol": 1e-4},
    "lbfgs, tol 1e-8": {"solver": "lbfgs", "tol": 1e-8},
    "newton-cholesky, tol 1e-8": {"solver": "newton-cholesky", "tol": 1e-8},
    "saga L1, tol 1e-8 (model=l1)": {"solver": "saga", "tol": 1e-8, "l1_ratio": 1.0,
                                     "max_iter": 5000},
}  # fmt: skip


def worker(train_path: Path, params_path: Path, fits: int, out: Path) -> None:
    """Part 2 in one process under one kernel: for each variant and fit, the raw coefficients
    and the md5 of the saved model, raw and settled."""
    import copy
    import dataclasses

    import numpy as np
    import polars as pl

    from tiktok_verified.config import load_params
    from tiktok_verified.data.schema import WEIGHT
    from tiktok_verified.modeling import fit as fitting

    params = load_params(params_path)
    train = pl.read_parquet(train_path)
    rng = np.random.default_rng(0)
    boot = train.with_columns(pl.Series(WEIGHT, train[WEIGHT] * rng.poisson(1.0, train.height)))
    boot = boot.filter(pl.col(WEIGHT) > 0)
    grid = np.geomspace(1e-3, 1e2, max(fits // 2, 1))
    settle = fitting.settle
    results: dict[str, list] = {}
    for label, overrides in VARIANTS.items():
        rows = []
        for data in (train, boot):
            for C in grid:
                model = dataclasses.replace(params.model, C=float(C), **overrides)
                fitting.settle = lambda p, digits=None: p  # keep the raw fit to hash it too
                try:
                    pipeline, _ = fitting.fit(data, dataclasses.replace(params, model=model))
                finally:
                    fitting.settle = settle
                classify = pipeline.named_steps["classify"]
                numbers = [*classify.coef_.ravel().tolist(), *classify.intercept_.tolist()]
                raw = model_bytes_md5(pipeline)
                rows.append([raw, model_bytes_md5(settle(copy.deepcopy(pipeline))), numbers])
        results[label] = rows
    out.write_text(json.dumps({"architecture": architecture(), "fits": results}))


def run_pipeline(kernel: str, tmp: Path, csv: Path) -> dict:
    from tests.conftest import new_repo, tool_env

    root = tmp / f"repo-{kernel}"
    repo = new_repo(root, kernel_env(tool_env(tmp), kernel), csv)
    repo.pipeline()
    status = repo.run("git", "status", "--porcelain", "--untracked-files=no").stdout.split("\n")
    arch = repo.run(
        sys.executable, "-c", "from benchmarks.kernels import architecture as a; print(a())"
    )
    return {
        "kernel": kernel,
        "architecture": arch.stdout.strip(),
        "model_md5": hashlib.md5(repo.path("models/model.skops").read_bytes()).hexdigest(),
        "changed": [line[3:] for line in status if line.strip()],
        "root": str(root),
    }


def run_fits(kernel: str, repo_root: Path, fits: int, tmp: Path) -> dict:
    out = tmp / f"fits-{kernel}.json"
    env = kernel_env(dict(os.environ), kernel)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "src"), str(REPO_ROOT)])
    subprocess.run(
        [sys.executable, "-m", "benchmarks.kernels", "--worker", str(out), "--fits", str(fits),
         "--train", str(repo_root / "data/processed/train.parquet"),
         "--params", str(repo_root / "params.yaml")],
        env=env, check=True, cwd=REPO_ROOT,
    )  # fmt: skip
    return json.loads(out.read_text())


def straddles(per_kernel: dict[str, dict]) -> dict[str, dict]:
    """For each variant: how far the kernels' coefficients lie apart (largest relative
    difference per fit, median and max over fits), and how many fits save different bytes
    across kernels, raw and settled."""
    import numpy as np

    kernels = list(per_kernel)
    table = {}
    for label in per_kernel[kernels[0]]["fits"]:
        rows = [per_kernel[k]["fits"][label] for k in kernels]
        n = len(rows[0])
        spread = []
        for i in range(n):
            coefs = np.array([r[i][2] for r in rows])
            ref = np.where(coefs[0] == 0, 1.0, np.abs(coefs[0]))
            spread.append(float(np.max(np.abs(coefs - coefs[0]) / ref)))
        table[label] = {
            "fits": n,
            "relative_difference_median": float(np.median(spread)),
            "relative_difference_max": float(np.max(spread)),
            "raw_differs": sum(len({r[i][0] for r in rows}) > 1 for i in range(n)),
            "settled_differs": sum(len({r[i][1] for r in rows}) > 1 for i in range(n)),
        }
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernels", default=DEFAULT_KERNELS)
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--csv", type=Path, default=SHARED_CSV)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "kernels.json")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--train", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--params", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.train, args.params, args.fits, args.worker)
        return 0
    if not args.csv.is_file():
        print(f"kernels: the course file is needed ({args.csv} not found)", file=sys.stderr)
        return 2
    kernels = args.kernels.split(",")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="kernels-") as tmp_name:
        tmp = Path(tmp_name)
        pipelines = [] if args.skip_pipeline else [run_pipeline(k, tmp, args.csv) for k in kernels]
        source = Path(pipelines[0]["root"]) if pipelines else REPO_ROOT
        fits = {k: run_fits(k, source, args.fits, tmp) for k in kernels}
    result = {
        "commit": commit,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "pipelines": [{k: v for k, v in p.items() if k != "root"} for p in pipelines],
        "architectures": {k: v["architecture"] for k, v in fits.items()},
        "straddles": straddles(fits),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"commit {commit}; kernels forced with OPENBLAS_CORETYPE (native = the CPU's own)\n")
    if pipelines:
        print("| kernel | OpenBLAS runs | models/model.skops md5 | committed files changed |")
        print("|---|---|---|---|")
        for p in pipelines:
            changed = ", ".join(p["changed"]) or "none (git status clean)"
            print(f"| {p['kernel']} | {p['architecture']} | {p['model_md5']} | {changed} |")
        print()
    print(
        "| fit | fits | kernels' coefficients apart, median / max (relative) "
        "| model bytes differ across kernels: raw | settled |"
    )
    print("|---|---|---|---|---|")
    for label, row in result["straddles"].items():
        print(
            f"| {label} | {row['fits']} | {row['relative_difference_median']:.1e} / "
            f"{row['relative_difference_max']:.1e} | {row['raw_differs']} | "
            f"{row['settled_differs']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
