"""Spark's outputs, as the local engine's are: written beside the target and moved into place
only when complete (a failed stage leaves the last good output), with deterministic part-file
names (Spark names them after a random job id) and no `_SUCCESS`/`.crc` side files, so the
same data give the same files and DVC sees no change."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


def write_parquet(frame, target: Path, check=None) -> None:
    """`frame` as a folder of parquet parts at `target` (a local path); `check(frame)`, if
    given, runs after the write and before the move: raising there leaves `target` as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        frame.write.option("compression", "zstd").parquet(str(tmp))
        if check is not None:
            check(frame)
        parts = sorted(p for p in tmp.iterdir() if p.name.startswith("part-"))
        for junk in tmp.iterdir():
            if junk not in parts:
                junk.unlink()
        for k, part in enumerate(parts):
            part.rename(tmp / f"part-{k:05d}.parquet")
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
