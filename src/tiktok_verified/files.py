"""Output files: atomic writers and readers shared by the stages, and file hashes.

A stage writes each output to a temporary file beside the target and renames it into place,
so a crash or a kill mid-write never leaves a half-written file under an output's name.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tiktok_verified.errors import write_failure

if TYPE_CHECKING:
    import polars as pl

JSON_DIGITS = 6


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_files(target: str | Path) -> list[Path]:
    """Temporary files of unfinished writes of `target` (a killed run leaves one behind)."""
    target = Path(target)
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*.tmp"))


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only on success.

    Until the rename, `target` keeps its previous content (or stays absent); a crash, an
    exception or a SIGKILL mid-write leaves at most a `.<name>.*.tmp` file, which git and DVC
    ignore (.gitignore, .dvcignore) and the next write of the same target removes.

    A write that fails at the OS level (no space left, file size limit, read-only, no
    permission) raises OutputWriteError, naming `target` and the reason, with the temporary
    file removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in temp_files(target):
        stale.unlink(missing_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise write_failure(target, exc) or exc from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600: outputs are ordinary
            os.replace(tmp_path, target)
        except Exception as exc:
            if (failure := write_failure(target, exc)) is not None:
                raise failure from exc
            raise
        _fsync_dir(target.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (a power cut after it must not undo it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _rounded(value: Any) -> Any:
    """Round floats for stable, readable diffs; NaN and infinities become None (valid JSON)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{JSON_DIGITS}g}")
    if isinstance(value, dict):
        return {str(k): _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar
        return _rounded(value.item())
    return value


def write_json(target: str | Path, payload: Any) -> None:
    text = json.dumps(_rounded(payload), indent=2, ensure_ascii=False) + "\n"
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_parquet(target: str | Path, frame: pl.DataFrame) -> None:
    with atomic_path(target) as tmp:
        frame.write_parquet(tmp, compression="zstd", statistics=True)


def write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Atomically write `target` with a function that writes to a given path."""
    with atomic_path(target) as tmp:
        writer(tmp)


def md5_file(path: str | Path) -> str:
    """The file's md5, as DVC records a file dependency's hash in dvc.lock."""
    return _digest(path, hashlib.md5())


def sha256_file(path: str | Path) -> str:
    return _digest(path, hashlib.sha256())


def _digest(path: str | Path, digest, chunk: int = 1 << 20) -> str:
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_csv(target: str | Path, frame: pl.DataFrame) -> None:
    """A table as CSV, floats to 6 decimals (stable, readable diffs)."""
    with atomic_path(target) as tmp:
        frame.write_csv(tmp, float_precision=6)
