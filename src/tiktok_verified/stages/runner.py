"""The one stage runner: parse the stage's arguments, load and validate params.yaml, run the
stage's body, and turn a known failure (`PipelineError`: bad params, bad input, a refused model
file, an output the disk refused) into one line `<stage>: error: <message>` on stderr and exit
code 1. An interruption (Ctrl-C's SIGINT, SIGTERM, SIGHUP) is one line too, after the
unfinished write's temporary file is removed: exit code 128 + the signal's number, as a shell
reports a process killed by it.

    main = stage_main("split", "Split, cap outliers, resample train.", body,
                      {"features": "features table", ...})

`body(args, params)` does the work and returns the line printed on success.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from tiktok_verified.config import Params, load_params
from tiktok_verified.errors import PipelineError
from tiktok_verified.guards import (
    catch_stop_signals,
    check_inputs,
    check_unchanged,
    file_bytes,
    interruption,
    one_line,
    restore_signals,
)

Body = Callable[[argparse.Namespace, Params], str]


def parse(description: str, paths: dict[str, str], argv: list[str] | None) -> argparse.Namespace:
    """Every path argument is required (dvc.yaml names them all); `--params` defaults to
    params.yaml, the file DVC tracks."""
    parser = argparse.ArgumentParser(description=description)
    for name, help_text in paths.items():
        parser.add_argument(f"--{name}", type=Path, required=True, help=help_text)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    return parser.parse_args(argv)


def run_stage(
    name: str,
    description: str,
    body: Body,
    paths: dict[str, str],
    argv: list[str] | None = None,
) -> int:
    args = parse(description, paths, argv)
    previous = catch_stop_signals()
    try:
        check_inputs(name, args)
        params_read = file_bytes(args.params)
        message = body(args, load_params(args.params))
        check_unchanged(args.params, params_read)
    except BaseException as exc:
        if (line := one_line(name, exc)) is None:
            raise  # a bug: its traceback
        print(line, file=sys.stderr)
        return 1 if isinstance(exc, PipelineError | OSError) else 128 + interruption(exc)
    finally:
        restore_signals(previous)
    print(f"{name}: {message}")
    return 0


def stage_main(name: str, description: str, body: Body, paths: dict[str, str]):
    """The stage's `main(argv=None) -> exit code`, for `python -m` and for tests."""

    def main(argv: list[str] | None = None) -> int:
        return run_stage(name, description, body, paths, argv)

    main.__doc__ = f"Stage {name}: {description}"
    return main
