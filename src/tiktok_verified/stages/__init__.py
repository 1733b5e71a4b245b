"""One thin entry point per DVC stage (`python -m tiktok_verified.stages.<name>`), all run by
`runner.run_stage`: arguments and params in, library calls, outputs written.

Importing this package first makes sure the stage runs in the project's environment. DVC runs
each stage command with the `python` it finds on PATH; when that interpreter lacks the
project's packages (dvc called as `.venv/bin/dvc` from a shell where `.venv` is not active,
or a dvc installed elsewhere), the stage re-runs itself with the `.venv` of the repository it
runs in (or of the repository holding a queued experiment's temporary copy), and if there is
none it stops with one line that says what to run, instead of a traceback. Standard library
only, so that any Python 3 can read it.

A stage module ends with `if __name__ == "__main__": exit_with(main())`.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path
from typing import NoReturn

#: Packages every stage imports; a stage's own heavier imports come with them.
REQUIRED = ("polars", "numpy", "yaml")
#: Set on the re-run, so that a broken environment is reported instead of looping.
REEXEC_FLAG = "TIKTOK_VERIFIED_REEXEC"


def _missing() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def project_python(start: Path) -> Path | None:
    """The interpreter of the nearest `.venv` at or above `start` (a queued experiment runs in
    `<repo>/.dvc/tmp/exps/<tmp>/`, below the repository's own `.venv`)."""
    for folder in (start, *start.parents):
        candidate = folder / ".venv" / "bin" / "python"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _ensure_environment() -> None:
    missing = _missing()
    if not missing:
        return
    argv = list(getattr(sys, "orig_argv", []))
    module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else "tiktok_verified.stages"
    stage = module.rsplit(".", 1)[-1]
    python = project_python(Path.cwd())
    if python is not None and not os.environ.get(REEXEC_FLAG):
        os.environ[REEXEC_FLAG] = "1"
        os.execv(python, [str(python), *argv[1:]])
    print(
        f"{stage}: error: {sys.executable} lacks the project's packages "
        f"(no module named {missing[0]!r}); set up and activate the project's environment "
        "first: `make env && source .venv/bin/activate` (or run `make repro`)",
        file=sys.stderr,
    )
    raise SystemExit(1)


def exit_with(code: int) -> NoReturn:
    """Exit a stage program, skipping the interpreter's last garbage collection over every
    object its imports made: `gc.freeze()` puts them out of the collector's reach. The model
    stage, with scikit-learn and scipy loaded, spent 0.42-0.60 s between its last line and its
    exit, and 0.02-0.06 s with this (benchmarks/FINDINGS.md). The rest of finalisation still
    runs (atexit handlers, the flush of stdout and stderr); only cycles left at exit are not
    collected, so a file object left open in a reference cycle would not be flushed: every
    stage output is written and closed by tiktok_verified.files before this."""
    sys.stdout.flush()
    gc.freeze()
    sys.exit(code)


_ensure_environment()
