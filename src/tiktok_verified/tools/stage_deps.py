"""The code each DVC stage runs, derived from its imports, against what dvc.yaml lists.

    python -m tiktok_verified.tools.stage_deps           # each stage: missing and extra src/ deps
    python -m tiktok_verified.tools.stage_deps --print   # each stage's derived src/ deps
    python -m tiktok_verified.tools.stage_deps --write   # put them into dvc.yaml

A stage's code is its entry module (`python -m tiktok_verified.<module>` in its command) and,
transitively, every module of the package it imports, at module level or inside a function,
with the `__init__.py` of every package on the way (Python runs those too) unless it holds no
code (a docstring and constants only), and the imports of the code cells of any notebook the
stage depends on. A stage whose entry module picks its engine at run time
(`stages.dispatch.engine_module`) runs `tiktok_verified.engines.<engine>.<stage>`: its deps are the
shared modules that any engine's module for it imports (never a file under engines/), and the
one templated folder `src/tiktok_verified/engines/${engine.name}`, which DVC resolves from
params.yaml, so editing one engine's code never makes another engine's run stale. dvc.yaml must
list exactly these files as the stage's `src/` deps, so an edit
reruns exactly the stages whose code it can change; tests/test_architecture.py fails when it
does not. (Every dep is an entry in dvc.lock that DVC parses on every command: leaving out the
files that cannot change what a stage does keeps `dvc exp run` faster.)
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

import yaml

PACKAGE = "tiktok_verified"
SRC = Path("src")
ENGINES = ("local", "spark")
#: The dep that stands for the running engine's own code (DVC templating, from params.yaml).
ENGINE_DEP = f"{SRC}/{PACKAGE}/engines/${{engine.name}}"
DISPATCH = "engine_module("
MODULE_IN_CMD = re.compile(rf"-m\s+({PACKAGE}(?:\.\w+)+)")


def module_path(module: str, src: Path = SRC) -> Path | None:
    """The file of a module of the package (a module file or a package's `__init__.py`)."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def holds_code(path: Path) -> bool:
    """False for a module of only a docstring and assignments of constants."""
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
            continue
        return True
    return False


def source_of(path: Path) -> str:
    """A module's text, or a notebook's code cells joined."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        # IPython magics and shell escapes are not Python.
        lines = (line for c in code for line in c.splitlines())
        return "\n".join(line for line in lines if line.lstrip()[:1] not in "%!")
    return path.read_text(encoding="utf-8")


def imported_modules(path: Path, src: Path = SRC) -> set[str]:
    """Modules of the package that a file (or a notebook's code) imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source_of(path), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != PACKAGE:
                continue
            found.add(node.module)
            # `from pkg import module` imports a module, not only a name.
            found.update(
                f"{node.module}.{a.name}"
                for a in node.names
                if module_path(f"{node.module}.{a.name}", src) is not None
            )
    return found


def with_parents(module: str) -> list[str]:
    """The module and the packages Python imports first (`a`, `a.b` for `a.b.c`)."""
    parts = module.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _walk(entries: list[str], src: Path) -> set[str]:
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        for module in with_parents(todo.pop()):
            if module in seen:
                continue
            seen.add(module)
            path = module_path(module, src)
            if path is None:
                raise ValueError(f"{module}: no such module under {src}")
            todo.extend(imported_modules(path, src))
    return seen


def code_of(entry: str, src: Path = SRC, notebooks: tuple[Path, ...] = ()) -> set[Path]:
    """Every file of the package that running `python -m entry` executes (and the code cells
    of `notebooks`), but `__init__.py` files that hold no code. For a stage that dispatches to
    an engine, the shared modules any engine's module for it imports, and no engine file (the
    templated ENGINE_DEP stands for those)."""
    seen = _walk([entry, *(m for nb in notebooks for m in imported_modules(nb, src))], src)
    entry_path = module_path(entry, src)
    if entry_path is not None and DISPATCH in entry_path.read_text(encoding="utf-8"):
        stage = entry.rsplit(".", 1)[-1]
        seen |= _walk([f"{PACKAGE}.engines.{e}.{stage}" for e in ENGINES], src)
        seen = {m for m in seen if not m.startswith(f"{PACKAGE}.engines.")}
    files = {module_path(m, src) for m in seen}
    return {f for f in files if f.name != "__init__.py" or holds_code(f)}


def engine_stages(dvc_yaml: Path = Path("dvc.yaml"), src: Path = SRC) -> set[str]:
    """The stages whose entry module picks its engine at run time."""
    out = set()
    for name, entry in stage_entries(dvc_yaml).items():
        path = module_path(entry, src)
        if path is not None and DISPATCH in path.read_text(encoding="utf-8"):
            out.add(name)
    return out


def derived_deps(dvc_yaml: Path = Path("dvc.yaml"), src: Path = SRC) -> dict[str, list[str]]:
    """Each stage's `src/` deps as dvc.yaml must list them."""
    notebooks = stage_notebooks(dvc_yaml)
    dispatched = engine_stages(dvc_yaml, src)
    return {
        name: sorted(map(str, code_of(entry, src, notebooks[name])))
        + ([ENGINE_DEP] if name in dispatched else [])
        for name, entry in stage_entries(dvc_yaml).items()
    }


def stage_notebooks(dvc_yaml: Path = Path("dvc.yaml")) -> dict[str, tuple[Path, ...]]:
    """The notebooks each stage depends on (and runs)."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return {
        name: tuple(Path(d) for d in stage.get("deps", []) if str(d).endswith(".ipynb"))
        for name, stage in stages.items()
    }


def stage_entries(dvc_yaml: Path = Path("dvc.yaml")) -> dict[str, str]:
    """Each stage's entry module, read from its command."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    entries = {}
    for name, stage in stages.items():
        match = MODULE_IN_CMD.search(stage.get("cmd", ""))
        if match:
            entries[name] = match.group(1)
    return entries


def listed_code(dvc_yaml: Path = Path("dvc.yaml"), src: Path = SRC) -> dict[str, set[Path]]:
    """The `src/` deps dvc.yaml lists for each stage."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return {
        name: {Path(d) for d in stage.get("deps", []) if Path(d).parts[:1] == src.parts}
        for name, stage in stages.items()
    }


def differences(dvc_yaml: Path = Path("dvc.yaml"), src: Path = SRC) -> dict[str, dict]:
    """Per stage whose code differs from its listed deps: {"missing": [...], "extra": [...]}."""
    listed = {k: set(map(str, v)) for k, v in listed_code(dvc_yaml, src).items()}
    out = {}
    for name, paths in derived_deps(dvc_yaml, src).items():
        derived = set(paths)
        missing, extra = derived - listed[name], listed[name] - derived
        if missing or extra:
            out[name] = {"missing": sorted(missing), "extra": sorted(extra)}
    return out


def rewrite(text: str, derived: dict[str, list[str]]) -> str:
    """dvc.yaml's text with each stage's `src/` deps replaced by `derived[stage]`, placed after
    its other deps; comments and everything else kept as they are."""
    out: list[str] = []
    stage, in_deps, indent = None, False, "      "
    pending: list[str] = []

    def flush() -> None:
        nonlocal pending
        out.extend(f"{indent}- {path}" for path in pending)
        pending = []

    for line in text.splitlines():
        header = re.match(r"^  (\w[\w-]*):\s*$", line)
        if header:
            flush()
            stage, in_deps = header.group(1), False
        elif stage in derived and re.match(r"^    deps:\s*$", line):
            in_deps, pending, indent = True, list(derived[stage]), "      "
            out.append(line)
            continue
        if in_deps:
            item = re.match(r"^(\s+)- (\S+)", line)
            if item:
                indent = item.group(1)
                if item.group(2).startswith(f"{SRC}/"):
                    continue
                out.append(line)
                continue
            in_deps = False
            flush()
        out.append(line)
    flush()
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print each stage's derived deps")
    parser.add_argument("--write", action="store_true", help="write them into dvc.yaml")
    parser.add_argument("--dvc-yaml", type=Path, default=Path("dvc.yaml"))
    args = parser.parse_args(argv)
    derived = derived_deps(args.dvc_yaml)
    if args.print:
        for name, paths in derived.items():
            print(f"{name}:")
            for path in paths:
                print(f"  - {path}")
        return 0
    if args.write:
        text = rewrite(args.dvc_yaml.read_text(encoding="utf-8"), derived)
        args.dvc_yaml.write_text(text, encoding="utf-8")
    diff = differences(args.dvc_yaml)
    for name, d in diff.items():
        for kind in ("missing", "extra"):
            for path in d[kind]:
                print(f"stage_deps: {name}: {kind} dep {path}", file=sys.stderr)
    if not diff:
        print("stage_deps: every stage lists exactly the code it runs")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
