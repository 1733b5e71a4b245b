"""The one stage runner: parse the stage's arguments, load and validate params.yaml, run the
stage's body, and turn a known failure (`PipelineError`: bad params, bad input, a refused model
file) into one line `<stage>: error: <message>` on stderr and exit code 1.

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
    try:
        params = load_params(args.params)
        message = body(args, params)
    except PipelineError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 1
    print(f"{name}: {message}")
    return 0


def stage_main(name: str, description: str, body: Body, paths: dict[str, str]):
    """The stage's `main(argv=None) -> exit code`, for `python -m` and for tests."""

    def main(argv: list[str] | None = None) -> int:
        return run_stage(name, description, body, paths, argv)

    main.__doc__ = f"Stage {name}: {description}"
    return main
