"""What the stage runner guards against besides bad params and bad input: stop signals
(Ctrl-C's SIGINT, SIGTERM, SIGHUP: raised as exceptions, so the atomic writes' cleanup runs,
and reported in one line), and input files that are not what dvc.lock says the stage that
wrote them wrote (a damaged DVC cache copy)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal
import threading
from pathlib import Path

import yaml

from tiktok_verified.errors import NO_ROOM, PipelineError, write_failure

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: dvc.lock in 10 ms, not 80
#: Signals that stop a stage: Ctrl-C's, a `kill`'s or a CI job's, a closed terminal's.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: The stop signals received, in order (a library may turn the exception the first one raised
#: into another: asyncio into CancelledError, IPython's shell into a cell error).
received: list[int] = []


class Interrupted(BaseException):
    """Raised in the stage by a stop signal, so that `finally` blocks (the atomic writes'
    cleanup) run before it exits; not an Exception, so nothing catches it by accident."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum, frame) -> None:
    received.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


def catch_stop_signals() -> dict:
    """Stop signals raise from here on (SIGINT KeyboardInterrupt, the others Interrupted), so
    the atomic writes' cleanup runs; returns the handlers to put back (only the
    main thread can set them: a stage run in-process by a test elsewhere keeps the defaults)."""
    received.clear()  # this run's signals only (tests run stages in process, one after another)
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _raise_interrupted) for signum in STOP_SIGNALS}


def file_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None  # load_params says what is wrong with it


def interrupted_line(name: str, signum: int | None) -> str:
    by = f" by {signal.Signals(signum).name}" if signum else ""
    return (
        f"{name}: interrupted{by}; no output is half-written "
        "(each is the last good one or this run's complete one); run `dvc repro` to finish"
    )


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_inputs(name: str, args: argparse.Namespace, lock: Path = Path("dvc.lock")) -> None:
    """Refuse an input file whose bytes are not those dvc.lock records for the stage that wrote
    it. DVC checks a file out of its cache without re-hashing it, so a damaged cache copy
    (a flipped bit) reaches the workspace unnoticed and `dvc status` still says up to date;
    re-running the stage that wrote it does not help either (DVC finds the damaged copy in the
    cache and checks it out over the new file). Without a dvc.lock (a stage run by hand or by
    a test) there is nothing to check against."""
    if not lock.is_file():
        return
    written = {
        out["path"]: (stage, out["md5"])
        for stage, entry in (yaml.load(lock.read_bytes(), Loader=_LOADER) or {})
        .get("stages", {})
        .items()
        for out in entry.get("outs", [])
        if stage != name and "md5" in out and not out["md5"].endswith(".dir")
    }
    for value in vars(args).values():
        if not isinstance(value, Path) or value.as_posix() not in written or not value.is_file():
            continue
        stage, expected = written[value.as_posix()]
        actual = _md5(value)
        if actual == expected:
            continue
        cached = Path(".dvc/cache/files/md5") / expected[:2] / expected[2:]
        where = f"`rm -f {cached} {value}`" if cached.is_file() else f"`rm -f {value}`"
        raise PipelineError(
            f"{value}: damaged: its md5 is {actual} but dvc.lock records {expected} for stage "
            f"'{stage}' (DVC checks damaged cache copies out as they are, and a rerun keeps "
            f"them); remove it and its cache copy, then rebuild it: {where} && "
            f"dvc repro -f -s {stage}"
        )


def interruption(exc: BaseException) -> int | None:
    """The stop signal behind `exc`, or None when it is not an interruption: the first stop
    signal received (whatever a library turned its exception into), else SIGINT for a
    KeyboardInterrupt or an asyncio task cancelled without a signal of ours."""
    if received:
        return received[0]
    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError):
        return signal.SIGINT
    return None


def one_line(name: str, exc: BaseException) -> str | None:
    """The stage's one line for a failure it explains (bad params or input, a refused write,
    an interruption); None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, PipelineError):
        return f"{name}: error: {exc}"
    if isinstance(exc, OSError):
        if exc.errno not in NO_ROOM:  # a bug, or an input that cannot be read: the traceback
            return None
        # no room for a write outside the atomic writers (a library's scratch file)
        return f"{name}: error: {write_failure(Path(exc.filename or 'a scratch file'), exc)}"
    if (signum := interruption(exc)) is None:
        return None
    return interrupted_line(name, signum if received else None)


def restore_signals(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def check_unchanged(params: Path, read: bytes | None) -> None:
    """Fail the stage when params.yaml changed while it ran: DVC would record the new values in
    dvc.lock beside outputs computed from the old ones."""
    if file_bytes(params) != read:
        raise PipelineError(
            f"{params} changed while the stage ran (a `dvc exp run` started meanwhile rewrites "
            "it, even when DVC then refuses to run), so its outputs may not match it; put back "
            f"the values you mean (`git checkout {params}`) and run `dvc repro` again"
        )
