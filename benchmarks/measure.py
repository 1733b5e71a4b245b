"""Measuring processes, and the pure helpers the benchmark report is built from.

Nothing here knows about scenarios: `run_measured` times one command and reads its peak memory
from the kernel (`wait4`), `stage_usage` turns the probe's log (`probe/sitecustomize.py`) into
per-stage figures, and the rest are small functions for medians, ratios and Markdown tables.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

KIB_PER_MIB = 1024


@dataclass
class Measured:
    """One command's wall time, peak resident memory (largest single process of its tree) and
    CPU time (the whole tree), plus the per-stage figures the probe recorded, if any."""

    argv: list[str]
    wall_s: float
    maxrss_mib: float
    user_s: float
    sys_s: float
    returncode: int
    stdout: str = ""
    stderr: str = ""
    stages: dict[str, dict] = field(default_factory=dict)
    dvc: dict[str, dict] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def summary(self) -> dict:
        out = asdict(self)
        out.pop("stdout")
        out.pop("stderr")
        out["cpu_s"] = self.cpu_s
        return out


class CommandFailed(RuntimeError):
    pass


def run_measured(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float | None = None,
    check: bool = True,
) -> Measured:
    """Run `argv` to completion; wall time from just before the fork to reaping the child,
    peak RSS and CPU times from the kernel's accounting of the child and its descendants."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        deadline = None if timeout is None else start + timeout
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    raise CommandFailed(f"{shlex.join(argv)} timed out after {timeout:.0f} s")
                time.sleep(0.01)
        except BaseException:
            # Timed out, interrupted or terminated: take the command's whole session down too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Measured(
            argv=list(argv),
            wall_s=wall,
            maxrss_mib=usage.ru_maxrss / KIB_PER_MIB,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            returncode=proc.returncode,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )
    if check and result.returncode != 0:
        raise CommandFailed(
            f"{shlex.join(argv)} exited {result.returncode} in {cwd}\n"
            f"--- stdout (tail)\n{result.stdout[-3000:]}\n"
            f"--- stderr (tail)\n{result.stderr[-3000:]}"
        )
    return result


# --- dvc.yaml and the probe's log --------------------------------------------------------------


def stage_commands(dvc_yaml: str) -> dict[str, str]:
    """Stage name -> `cmd`, in the order dvc.yaml lists them."""
    stages = yaml.safe_load(dvc_yaml).get("stages", {})
    return {name: stage["cmd"] for name, stage in stages.items()}


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def command_words(cmd: str) -> list[str]:
    """A stage command's words without leading `VAR=value` environment assignments."""
    words = shlex.split(cmd)
    while words and _ASSIGNMENT.match(words[0]):
        words.pop(0)
    return words


def stage_module(cmd: str) -> str | None:
    """The module a `[VAR=value ...] python -m module args...` stage command runs, else None."""
    words = command_words(cmd)
    if len(words) >= 3 and words[1] == "-m":
        return words[2]
    return None


def _module_path_suffixes(module: str) -> tuple[str, str]:
    path = module.replace(".", "/")
    return f"/{path}.py", f"/{path}/__main__.py"


def match_stage(argv: Sequence[str], commands: dict[str, str]) -> str | None:
    """The stage whose `python -m module args...` command produced a process with this argv
    (as Python reports it: argv[0] is the module's file), or None."""
    if not argv:
        return None
    for name, cmd in commands.items():
        module = stage_module(cmd)
        if module is None:
            continue
        args = command_words(cmd)[3:]
        if argv[0].endswith(_module_path_suffixes(module)) and list(argv[1:]) == args:
            return name
    return None


def dvc_subcommand(argv: Sequence[str]) -> str | None:
    """'repro', 'add', ... for a `dvc` process, else None."""
    if argv and os.path.basename(argv[0]) == "dvc":
        rest = [a for a in argv[1:] if not a.startswith("-")]
        return rest[0] if rest else None
    return None


def read_probe(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def usage_of(record: dict) -> dict:
    return {
        "wall_s": record["wall_s"],
        "maxrss_mib": record["maxrss_kib"] / KIB_PER_MIB,
        "cpu_s": record["user_s"] + record["sys_s"],
    }


def stage_usage(records: Iterable[dict], commands: dict[str, str]) -> dict[str, dict]:
    """Per-stage figures from probe records, in dvc.yaml order (stages that did not run are
    absent). A stage recorded twice (never, in one `dvc repro`) keeps the sum of times and the
    larger peak."""
    found: dict[str, dict] = {}
    for record in records:
        name = match_stage(record["argv"], commands)
        if name is None:
            continue
        u = usage_of(record)
        if name in found:
            prev = found[name]
            u = {
                "wall_s": prev["wall_s"] + u["wall_s"],
                "maxrss_mib": max(prev["maxrss_mib"], u["maxrss_mib"]),
                "cpu_s": prev["cpu_s"] + u["cpu_s"],
            }
        found[name] = u
    return {name: found[name] for name in commands if name in found}


def dvc_usage(records: Iterable[dict]) -> dict[str, dict]:
    """Figures of the `dvc` processes by subcommand (`add`, `repro`)."""
    out: dict[str, dict] = {}
    for record in records:
        sub = dvc_subcommand(record["argv"])
        if sub is not None:
            out[sub] = usage_of(record)
    return out


# --- parameters and arguments -------------------------------------------------------------------


def set_param_text(params_yaml: str, key: str, value: object) -> str:
    """params.yaml text with `section.name` set to `value`, every other line left as it is."""
    section, name = key.split(".")
    pattern = re.compile(rf"(?m)^({re.escape(section)}:\n(?:  .*\n)*?  {re.escape(name)}: ).*$")
    new, count = pattern.subn(lambda m: f"{m.group(1)}{value}", params_yaml, count=1)
    if count != 1:
        raise KeyError(f"{key} not found in params.yaml")
    if yaml.safe_load(new)[section][name] != value:
        raise ValueError(f"{key}: {value!r} does not read back from YAML as itself")
    return new


def parse_sizes(text: str) -> list[int]:
    """'1m,10m' -> [1_000_000, 10_000_000]; '100k', '2.5m' and plain integers too."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        out.append(round(float(part.rstrip("km")) * scale))
    return out


# --- statistics and formatting -------------------------------------------------------------------


def median(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return ours / theirs


def median_stages(runs: Sequence[dict[str, dict]]) -> dict[str, dict]:
    """Median of each figure of each stage over runs (stage order of the first run that has it)."""
    names: list[str] = []
    for run in runs:
        names += [n for n in run if n not in names]
    return {
        name: {
            key: median(run[name][key] for run in runs if name in run)
            for key in ("wall_s", "maxrss_mib", "cpu_s")
        }
        for name in names
    }


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 100:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s"


def fmt_mib(mib: float | None) -> str:
    if mib is None:
        return "–"
    if mib >= 1024:
        return f"{mib / 1024:.2f} GiB"
    return f"{mib:.0f} MiB"


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def fmt_rows(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n:,}"


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub Markdown table; cells are str()-ed, pipes escaped."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
