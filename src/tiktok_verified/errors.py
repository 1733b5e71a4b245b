"""The one base class of the failures a stage explains in one line (bad params, bad input, a
refused model file, an output the disk refused): the stage runner prints
`<stage>: error: <message>` and exits 1 for these, and lets anything else (a bug) show its
traceback."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


class PipelineError(ValueError):
    """A failure the user can act on; its message names what is wrong and where."""


AGAIN = "run `dvc repro` again"
#: The OS errors that mean "this file cannot be written here", and what to do about each;
#: any other error (a bug, a missing input read while writing) keeps its traceback.
WRITE_HINTS = {
    errno.ENOSPC: f"free space and {AGAIN}",
    errno.EDQUOT: f"free space (or raise the disk quota) and {AGAIN}",
    errno.EFBIG: f"raise the file size limit (`ulimit -f`) or free space and {AGAIN}",
    errno.EROFS: f"the file system is read-only; remount it writable and {AGAIN}",
    errno.EACCES: f"make its folder writable by you and {AGAIN}",
    errno.EPERM: f"make its folder writable by you and {AGAIN}",
    errno.EIO: f"the disk reported an I/O error; check it and {AGAIN}",
}
#: The ones only a write can meet (a failed read of an input must not say "cannot write").
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# polars and pyarrow report an OS error inside their own exception's message
_OS_ERROR = re.compile(r"os error (\d+)|\[Errno (\d+)\]")


class OutputWriteError(PipelineError):
    """An output could not be written (full disk, file size limit, no permission): the stage
    stops with one line naming the file and the reason; the previous output stays."""


def _os_errno(exc: BaseException) -> int | None:
    """The OS error behind a failed write, whether raised as OSError or wrapped in a library's
    exception (polars: `ComputeError(... File too large (os error 27))`)."""
    for link in (exc, exc.__cause__, exc.__context__):
        if isinstance(link, OSError) and link.errno:
            return link.errno
        if link is not None and (m := _OS_ERROR.search(str(link))):
            return int(m.group(1) or m.group(2))
    return None


def write_failure(target: Path, exc: BaseException) -> OutputWriteError | None:
    """The one-line error for a write of `target` that the OS refused (WRITE_HINTS), None for
    anything else."""
    code = None if isinstance(exc, PipelineError) else _os_errno(exc)
    if code not in WRITE_HINTS:
        return None
    return OutputWriteError(f"cannot write {target}: {os.strerror(code)}; {WRITE_HINTS[code]}")
