"""Compose conf/ into params.yaml exactly as `dvc exp run` does (DVC's own Hydra composer),
and check that the committed params.yaml has not drifted from conf/.

    python -m tiktok_verified.tools.compose            # rewrite params.yaml from conf/
    python -m tiktok_verified.tools.compose --check    # exit 1 if params.yaml differs
    python -m tiktok_verified.tools.compose model=l1   # with Hydra overrides, as `-S` would
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import yaml

from tiktok_verified.config import ConfigError, parse_params
from tiktok_verified.files import write_with


def compose_text(conf_dir: str | Path = "conf", overrides: list[str] | None = None) -> str:
    """The YAML that DVC would write to params.yaml for these overrides."""
    from dvc.utils.hydra import compose_and_dump
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "params.yaml"
        compose_and_dump(
            out, str(Path(conf_dir).resolve()), None, "config", tmp, list(overrides or [])
        )
        return out.read_text(encoding="utf-8")


def explain(conf_dir: str | Path, exc: Exception) -> str:
    """One line for a Hydra composition error, naming the key and what is allowed."""
    text = str(exc)
    conf_dir = Path(conf_dir)
    missing = re.search(r"Could not find '([^'/]+)/([^']+)'", text)
    if missing:
        group, option = missing.groups()
        options = sorted(p.stem for p in (conf_dir / group).glob("*.yaml"))
        return (
            f"{group}={option}: unknown option for group '{group}'; allowed: {', '.join(options)}"
        )
    override = re.search(r"Could not override '([^']+)'", text)
    if override:
        key = override.group(1)
        node, path = yaml.safe_load(compose_text(conf_dir)), []
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                where = f"in '{'.'.join(path)}'" if path else "(sections)"
                allowed = ", ".join(sorted(node)) if isinstance(node, dict) else "none"
                return f"{key}: unknown key '{part}'; allowed keys {where}: {allowed}"
            node = node[part]
            path.append(part)
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compose conf/ into params.yaml.")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model.C=0.1")
    parser.add_argument("--conf", default="conf")
    parser.add_argument("--out", type=Path, default=Path("params.yaml"))
    parser.add_argument("--check", action="store_true", help="fail if --out has drifted")
    args = parser.parse_args(argv)
    from hydra.errors import HydraException

    try:
        text = compose_text(args.conf, args.overrides)
    except HydraException as exc:
        print(f"compose: error: {explain(args.conf, exc)}", file=sys.stderr)
        return 1
    try:
        parse_params(yaml.safe_load(text))
    except ConfigError as exc:
        print(f"compose: error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(
                f"compose: {args.out} differs from what conf/ composes to; "
                "run `make params` and commit it",
                file=sys.stderr,
            )
            return 1
        print(f"compose: {args.out} matches conf/")
        return 0
    write_with(args.out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    print(f"compose: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
