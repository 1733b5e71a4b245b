"""Which file a run reads, on either engine and in the raw stage: the course file at
`data/raw/tiktok_dataset.csv` when the source is `auto` and anything stands there, else the
synthetic stand-in; and the one refusal of a course path that cannot be read (a folder, a file
without read permission), naming it."""

from __future__ import annotations

from pathlib import Path

from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.schema import RAW_NAME


def course_file(raw_dir: Path, source_mode: str) -> Path | None:
    """The course file a run reads, or None when it runs on the stand-in: source `synthetic`,
    or `auto` with nothing at `raw_dir`/tiktok_dataset.csv. Whatever is there is read: a folder
    or an unreadable file is refused (`read_course_file`, `check_readable`), never replaced by
    the stand-in."""
    path = raw_dir / RAW_NAME
    return path if source_mode == "auto" and path.exists() else None


def _unreadable(path: Path, exc: OSError) -> InputError:
    return InputError(str(path), f"cannot read the file ({exc.strerror})")


def read_course_file(path: Path) -> bytes:
    """The file's bytes, or the refusal naming it."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from None


def check_readable(path: Path) -> None:
    """The same refusal, without reading the file (Spark reads files above the size the
    reader of record checks in memory itself)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise _unreadable(path, exc) from None
