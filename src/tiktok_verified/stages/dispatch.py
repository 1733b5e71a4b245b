"""Which engine runs a stage: `engine.name` in params.yaml picks the package
`tiktok_verified.engines.<name>`, whose module named after the stage has `run(args, params)`.

The import is by name, at run time, so each engine's code is a dependency only of the runs that
use it: dvc.yaml lists `src/tiktok_verified/engines/${engine.name}` (DVC's templating, from
params.yaml) beside the shared modules, and `tools.stage_deps` derives both."""

from __future__ import annotations

import importlib
from types import ModuleType

from tiktok_verified.config import Params


def engine_module(params: Params, stage: str) -> ModuleType:
    """`tiktok_verified.engines.<engine.name>.<stage>`."""
    return importlib.import_module(f"tiktok_verified.engines.{params.engine.name}.{stage}")
