"""Render benchmarks/RESULTS.md from the harness's results (a plain dict, as in results.json)."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.measure import (
    fmt_mib,
    fmt_ratio,
    fmt_rows,
    fmt_s,
    md_table,
    median,
    median_stages,
    ratio,
)

#: The stages that do the course notebook's steps (load/clean, features, split + resample,
#: fit, predict + confusion matrix; `model` also cross-validates); statistics and report are
#: work the notebook does not do.
COURSE_STAGES = ("raw", "ingest", "features", "split", "model")

TARGETS = {
    "noop_s": 1.0,
    "exp_run_vs_pandas": 2.0,
    "sweep_vs_pandas": 1.5,
    "forced_vs_pandas": 2.5,
    "exp_run_vs_floor": 1.6,
    "sweep_vs_floor": 1.6,
    "rows_10m_s": 120.0,
    "rows_10m_gib": 4.0,
}


def _med(runs: Sequence[dict], *path: str) -> float | None:
    def get(run: dict):
        for key in path:
            run = run.get(key) if isinstance(run, dict) else None
            if run is None:
                return None
        return run

    return median(get(r) for r in runs)


def _range(runs: Sequence[dict], *path: str) -> str:
    values = []
    for run in runs:
        v = run
        for key in path:
            v = v.get(key) if isinstance(v, dict) else None
        if v is not None:
            values.append(v)
    if len(values) < 2:
        return "–"
    return f"{fmt_s(min(values))} – {fmt_s(max(values))}"


def _yes(ok: bool | None) -> str:
    return "–" if ok is None else ("**yes**" if ok else "**no**")


def stages_sum(stages: dict, names: Sequence[str] | None = None) -> float | None:
    picked = [v["wall_s"] for k, v in stages.items() if names is None or k in names]
    return sum(picked) if picked else None


def stages_ran(runs: Sequence[dict], key: str) -> str:
    names: list[str] = []
    for run in runs:
        names += [n for n in run[key].get("stages", {}) if n not in names]
    return ", ".join(names) if names else "none"


def stage_table(stage_medians: dict, total_wall: float | None, imports: dict | None = None) -> str:
    rows = []
    for name, s in stage_medians.items():
        share = None if not total_wall or s["wall_s"] is None else s["wall_s"] / total_wall
        row = [
            name,
            fmt_s(s["wall_s"]),
            fmt_s(s["cpu_s"]),
            fmt_mib(s["maxrss_mib"]),
            "–" if share is None else f"{100 * share:.0f}%",
        ]
        if imports is not None:
            row.append(fmt_s(imports.get(name, {}).get("wall_s")))
        rows.append(row)
    headers = ["stage", "wall", "CPU (user+sys)", "peak RSS", "share of wall"]
    if imports is not None:
        headers.append("of which: importing its module")
    return md_table(headers, rows)


# --- sections -------------------------------------------------------------------------------------


def machine_section(results: dict) -> str:
    m = results["machine"]
    rows = [
        ("CPU", f"{m['cpu']}, {m['nproc']} cores (nproc)"),
        ("memory", f"{m['memory_gib']} GiB"),
        ("OS", m["os"]),
        ("Python", m["python"]),
        ("polars / pandas / numpy", f"{m['polars']} / {m['pandas']} / {m['numpy']}"),
        ("scikit-learn", m["scikit-learn"]),
        ("DVC", m["dvc"]),
        ("BLAS", m["blas"]),
        ("OPENBLAS_* set", ", ".join(f"{k}={v}" for k, v in m["openblas_env"].items()) or "no"),
        ("commit measured", m["git_commit"]),
        (
            "load average (1/5/15 min)",
            f"before {results['load_before']}, after {results.get('load_after', '?')}",
        ),
        ("run", f"{results['started']} → {results.get('finished', '?')}"),
    ]
    return md_table(("", ""), rows)


def targets_section(results: dict) -> str:
    rows = []
    real = results.get("real")
    if real:
        runs = real["runs"]
        noop = _med(runs, "noop_dvc_repro", "wall_s")
        pandas = _med(runs, "pandas", "wall_s")
        exp_run = _med(runs, "exp_run", "wall_s")
        forced = _med(runs, "forced", "wall_s")
        sweep = _med(runs, "sweep", "wall_s")
        four = None if pandas is None else 4 * pandas

        def row(label: str, ours: float | None, base: float | None, limit: float, what: str):
            r = ratio(ours, base)
            return (
                label,
                f"{fmt_ratio(r)} ({fmt_s(ours)} vs {what} {fmt_s(base)})",
                _yes(r is not None and r <= limit),
            )

        rows += [
            (
                "no-op `dvc repro` < 1 s",
                fmt_s(noop),
                _yes(noop is not None and noop < TARGETS["noop_s"]),
            ),
            row(
                "one `dvc exp run -S model.C=…` ≤ 2× the pandas one-process script",
                exp_run,
                pandas,
                TARGETS["exp_run_vs_pandas"],
                "pandas",
            ),
            row(
                "queued sweep of four, `dvc exp run --run-all -j 2` ≤ 1.5× four pandas runs",
                sweep,
                four,
                TARGETS["sweep_vs_pandas"],
                "4 × pandas",
            ),
            row(
                "`dvc repro --force` ≤ 2.5× the pandas script",
                forced,
                pandas,
                TARGETS["forced_vs_pandas"],
                "pandas",
            ),
        ]
        floor_exp = _med(runs, "floor", "exp_run", "wall_s")
        floor_sweep = _med(runs, "floor", "sweep", "wall_s")
        if floor_exp is not None:  # results from before the floor was measured have none
            rows += [
                row(
                    "one `dvc exp run -S model.C=…` ≤ 1.6× the one-stage DVC floor",
                    exp_run,
                    floor_exp,
                    TARGETS["exp_run_vs_floor"],
                    "floor",
                ),
                row(
                    "queued sweep of four ≤ 1.6× the floor's sweep",
                    sweep,
                    floor_sweep,
                    TARGETS["sweep_vs_floor"],
                    "floor",
                ),
            ]
        rows += [
            (
                "`model.C` change reruns only model and report",
                stages_ran(runs, "exp_run"),
                _yes(all(set(run["exp_run"]["stages"]) <= {"model", "report"} for run in runs)),
            ),
        ]
    for key, block in sorted(results.get("synthetic", {}).items(), key=lambda kv: int(kv[0])):
        rows_n = int(key)
        runs = block["runs"]
        ours = _med(runs, "pipeline", "wall_s")
        pandas = _med(runs, "pandas", "wall_s")
        r = ratio(ours, pandas)
        rows.append(
            (
                f"{fmt_rows(rows_n)} rows: faster than the pandas way",
                f"{fmt_ratio(r)} ({fmt_s(ours)} vs {fmt_s(pandas)})",
                _yes(r is not None and r < 1),
            )
        )
        if rows_n == 10_000_000:
            peak = _med(runs, "pipeline", "maxrss_mib")
            rows += [
                (
                    "10M rows end to end < 2 min",
                    fmt_s(ours),
                    _yes(ours is not None and ours < TARGETS["rows_10m_s"]),
                ),
                (
                    "10M rows peak memory < 4 GiB",
                    fmt_mib(peak),
                    _yes(peak is not None and peak < TARGETS["rows_10m_gib"] * 1024),
                ),
                (
                    "generator: 10M rows in seconds, streamed",
                    f"{fmt_s(_med(runs, 'generate', 'wall_s'))}, "
                    f"peak {fmt_mib(_med(runs, 'generate', 'maxrss_mib'))}",
                    _yes((_med(runs, "generate", "wall_s") or 1e9) < 10),
                ),
            ]
    return md_table(("target", "measured (median)", "met"), rows)


def real_section(real: dict) -> str:
    runs = real["runs"]
    scenarios = [
        ("cold `make repro`, fresh clone (committed dvc.lock)¹", "cold_make_repro"),
        ("no-op `dvc repro`", "noop_dvc_repro"),
        ("`dvc exp run -S model.C=…` (a new value)", "exp_run"),
        ("`dvc repro --force`", "forced"),
        ("queue four C values (`dvc exp run --queue -S model.C=a,b,c,d`)", "queue"),
        ("run them, `dvc exp run --run-all -j 2`", "sweep"),
        ("floor²: `dvc exp run -S model.C=…`", ("floor", "exp_run")),
        ("floor²: the sweep of four, `dvc exp run --run-all -j 2`", ("floor", "sweep")),
        ("whole pipeline, every stage (`make pipeline`, no dvc.lock)", "full_pipeline"),
        ("pandas baseline, one process", "pandas"),
    ]
    floor_note = [
        "",
        "² The floor (`benchmarks/floor.py`): the smallest honest DVC project doing the same "
        "experiment, measured right after the project's in the same repeat: one stage on the "
        "same parquet parts (`dvc add`ed), scikit-learn's StandardScaler + LogisticRegression, "
        "metrics and confusion-matrix JSON, `core.autostage` on. The project's ratio to it is "
        "what the project adds to DVC's own cost.",
    ]
    if not any("floor" in run for run in runs):
        scenarios = [(label, key) for label, key in scenarios if not isinstance(key, tuple)]
        floor_note = []
    rows = [
        (
            label,
            fmt_s(_med(runs, *path, "wall_s")),
            _range(runs, *path, "wall_s"),
            fmt_s(_med(runs, *path, "cpu_s")),
            fmt_mib(_med(runs, *path, "maxrss_mib")),
            "–" if key == "pandas" or isinstance(key, tuple) else stages_ran(runs, key),
        )
        for label, key in scenarios
        for path in [key if isinstance(key, tuple) else (key,)]
    ]
    full_stages = median_stages([r["full_pipeline"]["stages"] for r in runs])
    full_wall = _med(runs, "full_pipeline", "wall_s")
    repro_wall = _med(runs, "full_pipeline", "dvc", "repro", "wall_s")
    course = median(stages_sum(r["full_pipeline"]["stages"], COURSE_STAGES) for r in runs)
    pandas = _med(runs, "pandas", "wall_s")
    out = [
        md_table(("scenario", "wall (median)", "min – max", "CPU", "peak RSS", "stages run"), rows),
        "",
        "¹ Measured as `make pipeline`: `make repro` is `make env` (a no-op once the "
        "environment is built) followed by `make pipeline`. In a fresh clone DVC reruns only the "
        "stages whose cached outputs are missing; the stages whose outputs are all committed "
        "metrics are skipped when their dependencies match dvc.lock.",
        *floor_note,
        "",
        f"Whole pipeline, per stage (medians; `make pipeline` {fmt_s(full_wall)}, of which "
        f"`dvc repro` {fmt_s(repro_wall)}; DVC's own share of `dvc repro` "
        f"{fmt_s(_overhead(repro_wall, full_stages))}):",
        "",
        stage_table(full_stages, full_wall, real.get("imports")),
        "",
        "Ratios ours / pandas (wall): whole pipeline "
        f"{fmt_ratio(ratio(full_wall, pandas))}; the course's steps only "
        f"({', '.join(COURSE_STAGES)}) {fmt_ratio(ratio(course, pandas))}. Peak memory: "
        f"{fmt_ratio(ratio(_med(runs, 'full_pipeline', 'maxrss_mib'), _med(runs, 'pandas', 'maxrss_mib')))}.",  # noqa: E501
        "",
        _outcomes(runs, "full_pipeline"),
    ]
    return "\n".join(out)


def _overhead(repro_wall: float | None, stages: dict) -> float | None:
    total = stages_sum(stages)
    if repro_wall is None or total is None:
        return None
    return repro_wall - total


def _outcomes(runs: Sequence[dict], key: str) -> str:
    ours = runs[0]["outcome"]
    theirs = runs[0]["pandas"]["result"]
    return (
        "Same work (each side draws its own seeded split, so test accuracies may differ by "
        f"sampling noise): ours kept {ours['rows_kept']:,} rows, fitted on "
        f"{ours['train_rows_fitted']:,} ({ours['iterations']} lbfgs iterations), test accuracy "
        f"{ours['test_accuracy']:.4f}; pandas kept {theirs['rows_kept']:,}, fitted on "
        f"{theirs['train_rows_fitted']:,} ({theirs['iterations']} iterations, standardize="
        f"{theirs['standardize']}), test accuracy {theirs['test_accuracy']:.4f}."
    )


def synthetic_section(synthetic: dict) -> str:
    blocks = sorted(synthetic.items(), key=lambda kv: int(kv[0]))
    overview = []
    for key, block in blocks:
        runs = block["runs"]
        ours = _med(runs, "pipeline", "wall_s")
        pandas = _med(runs, "pandas", "wall_s")
        course = median(stages_sum(r["pipeline"]["stages"], COURSE_STAGES) for r in runs)
        overview.append(
            (
                f"{fmt_rows(int(key))} (×{block['repeats']})",
                f"{_med(runs, 'generate', 'csv_bytes') / 1e9:.2f} GB",
                fmt_s(_med(runs, "generate", "wall_s")),
                fmt_s(ours),
                fmt_s(_med(runs, "pipeline", "dvc", "repro", "wall_s")),
                fmt_mib(_med(runs, "pipeline", "maxrss_mib")),
                fmt_s(pandas),
                fmt_mib(_med(runs, "pandas", "maxrss_mib")),
                fmt_ratio(ratio(ours, pandas)),
                fmt_ratio(ratio(course, pandas)),
                fmt_ratio(
                    ratio(_med(runs, "pipeline", "maxrss_mib"), _med(runs, "pandas", "maxrss_mib"))
                ),
            )
        )
    out = [
        md_table(
            (
                "rows (repeats)",
                "CSV",
                "generate",
                "ours: `make pipeline`",
                "`dvc repro`",
                "ours: peak RSS",
                "pandas",
                "pandas: peak RSS",
                "wall ours/pandas",
                "course steps ours/pandas",
                "memory ours/pandas",
            ),
            overview,
        ),
        "",
        "Per stage (medians; share = of the `make pipeline` wall time):",
        "",
    ]
    per_size = {
        key: median_stages([r["pipeline"]["stages"] for r in block["runs"]])
        for key, block in blocks
    }
    names: list[str] = []
    for stages in per_size.values():
        names += [n for n in stages if n not in names]
    totals = {key: _med(block["runs"], "pipeline", "wall_s") for key, block in blocks}
    headers = ["stage"]
    for key, _ in blocks:
        size = fmt_rows(int(key))
        headers += [f"{size} wall", "CPU", "peak RSS", "share"]
    rows = []
    for name in names:
        row = [name]
        for key, _ in blocks:
            s = per_size[key].get(name)
            if s is None:
                row += ["–"] * 4
                continue
            total = totals[key]
            share = "–" if not total or s["wall_s"] is None else f"{100 * s['wall_s'] / total:.0f}%"
            row += [fmt_s(s["wall_s"]), fmt_s(s["cpu_s"]), fmt_mib(s["maxrss_mib"]), share]
        rows.append(row)
    out += [md_table(headers, rows), ""]

    step_names: list[str] = []
    for _, block in blocks:
        for r in block["runs"]:
            step_names += [n for n in r["pandas"]["result"]["steps_s"] if n not in step_names]
    step_rows = [
        [name]
        + [
            fmt_s(median(r["pandas"]["result"]["steps_s"].get(name) for r in b["runs"]))
            for _, b in blocks
        ]
        for name in step_names
    ]
    out += [
        "pandas baseline, per step (medians):",
        "",
        md_table(["step", *[fmt_rows(int(k)) for k, _ in blocks]], step_rows),
        "",
    ]
    for key, block in blocks:
        out.append(f"- {fmt_rows(int(key))}: " + _outcomes(block["runs"], "pipeline"))
    return "\n".join(out)


def commands_section(results: dict) -> str:
    return "\n".join(
        [
            "Each scenario runs in a scratch copy of the repository (`tests/conftest.py`'s "
            "`new_repo`: tracked and untracked-not-ignored files, `git init`, commit), with "
            "`PYTHONPATH=benchmarks/probe:<scratch>/src` and `BENCH_PROBE_LOG` set so every "
            "Python process DVC starts reports its wall time, CPU time and peak RSS at exit. "
            "Whole commands are measured with `os.wait4` (peak RSS = the largest single "
            "process of the command's tree). In order, per repeat:",
            "",
            "```bash",
            "# course file (fresh clone with the committed dvc.lock; the environment exists)",
            "cp ../shared/data/tiktok_dataset.csv data/raw/ && make pipeline   # cold make repro",
            "dvc repro                                                       # no-op",
            "dvc exp run -S model.C=0.5                                      # new C each repeat",
            "dvc repro --force",
            "dvc exp run --queue -S 'model.C=0.01,0.02,0.03,0.04' && dvc exp run --run-all -j 2",
            "# the floor: a one-stage DVC project on the clone's data/processed parts",
            "dvc exp run -S model.C=0.5 && dvc exp run --queue -S 'model.C=…' && "
            "dvc exp run --run-all -j 2",
            "# course file, every stage: a fresh copy without dvc.lock",
            "git rm dvc.lock && make pipeline",
            f"python benchmarks/pandas_course.py data/raw/tiktok_dataset.csv "
            f"--{'' if results.get('pandas_standardize') else 'no-'}standardize --json …",
            "# N synthetic rows (fresh copy each repeat)",
            "python -m tiktok_verified.data.standin data/raw/tiktok_dataset.csv --rows N --seed 0",
            "make pipeline                     # dvc repro: every stage runs",
            "python benchmarks/pandas_course.py data/raw/tiktok_dataset.csv …",
            "```",
        ]
    )


def spark_section(spark: dict, synthetic: dict) -> str:
    """engine=spark beside the local engine at the same sizes (one run each on Spark)."""
    rows = [
        "| rows | engine | master | pipeline | peak memory (largest process) | stages |",
        "|---|---|---|---|---|---|",
    ]
    for key, block in sorted(spark.items(), key=lambda kv: int(kv[0])):
        local = synthetic.get(key)
        if local:
            runs = local["runs"]
            rows.append(
                f"| {fmt_rows(int(key))} | local (×{local['repeats']}) | one process a stage | "
                f"{fmt_s(_med(runs, 'pipeline', 'wall_s'))} | "
                f"{fmt_mib(_med(runs, 'pipeline', 'maxrss_mib'))} | |"
            )
        stages = block["pipeline"].get("stages", {})
        per = ", ".join(f"{n} {fmt_s(v['wall_s'])}" for n, v in stages.items())
        rows.append(
            f"| {fmt_rows(int(key))} | spark (×1) | {block['master']} | "
            f"{fmt_s(block['pipeline']['wall_s'])} | {fmt_mib(block['pipeline']['maxrss_mib'])} "
            f"| {per} |"
        )
    return "\n".join(rows)


def render(results: dict, findings: str = "") -> str:
    plan = results["plan"]
    sizes = ", ".join(f"{fmt_rows(int(k))} ×{v}" for k, v in plan["sizes"].items()) or "none"
    head = [
        "# Benchmarks: scale and speed, measured",
        "",
        "Written by `make bench` (`python -m benchmarks.run`"
        + (", quick run" if results.get("quick") else "")
        + f"): course file ×{plan['real_repeats']}, synthetic {sizes}. Figures are medians over "
        "the repeats; every run's raw figures are in `benchmarks/results.json`.",
        "",
        "```bash",
        "make bench                  # full: course file ×5, 1M rows ×3, 10M rows ×3 "
        "(~12 min on a quiet machine)",
        "BENCH_QUICK=1 make bench    # short: course file ×2, 1M rows ×1 (~2-3 min)",
        ".venv/bin/python -m benchmarks.run --sizes 1m,10m --repeats-synthetic 1 --repeats-real 3",
        ".venv/bin/python -m benchmarks.run --report-only   # re-render from results.json",
        "```",
        "",
        "## Machine",
        "",
        machine_section(results),
        "",
        "The machine is shared; a load average above the core count means other work competed "
        "for the CPUs during the run and the times are inflated by it.",
        "",
        "## Targets",
        "",
        targets_section(results),
        "",
    ]
    if results.get("real"):
        head += [
            f"## Course file (19,382 rows), ×{results['real']['repeats']}",
            "",
            real_section(results["real"]),
            "",
        ]
    if results.get("synthetic"):
        head += [
            "## Synthetic data, end to end",
            "",
            synthetic_section(results["synthetic"]),
            "",
        ]
    if results.get("spark"):
        head += [
            "## The Spark engine (engine=spark), synthetic data",
            "",
            spark_section(results["spark"], results.get("synthetic", {})),
            "",
        ]
    head += ["## Exact commands", "", commands_section(results), ""]
    if findings.strip():
        head += ["## Findings", "", findings.strip(), ""]
    return "\n".join(head)
