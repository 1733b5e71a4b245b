"""Stage raw: the folder that holds the course file, as a DVC output, so that DVC caches the
file and checks it out in a queued experiment's temporary copy of the repository.

It changes nothing: it makes sure `data/raw/` exists (empty where the course file is absent,
so that ingest runs on the synthetic stand-in) and says which case this is, by the rule ingest
follows on either engine (data/source.py). Two cases are errors, under source `auto`: something
that cannot be read where the course file should be (a folder), and a queued experiment whose
temporary copy lacks the course file that the workspace it was queued from holds (the file was
never cached): it would silently run on the stand-in."""

from __future__ import annotations

from pathlib import Path

from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.schema import RAW_NAME
from tiktok_verified.data.source import check_readable, course_file
from tiktok_verified.stages import exit_with
from tiktok_verified.stages.runner import stage_main

PATHS = {"dir": "folder of the course file"}
#: Where DVC runs a queued experiment: `<workspace>/.dvc/tmp/exps/<tmp>/`.
EXPERIMENT_COPY = (".dvc", "tmp", "exps")


def queued_from(cwd: Path) -> Path | None:
    """The workspace a queued experiment's copy was made from, or None outside one."""
    parts = cwd.resolve().parts
    for k in range(len(parts) - len(EXPERIMENT_COPY), 0, -1):
        if parts[k : k + len(EXPERIMENT_COPY)] == EXPERIMENT_COPY:
            return Path(*parts[:k])
    return None


def body(args, params) -> str:
    args.dir.mkdir(parents=True, exist_ok=True)
    course = args.dir / RAW_NAME
    source = params.data.source
    if source != "auto":
        return f"data.source is {source}: ingest will use the SYNTHETIC stand-in"
    if course_file(args.dir, source) is not None:
        check_readable(course)  # a folder there is refused here, not at ingest
        return f"{course}: the course file ({course.stat().st_size:,} bytes)"
    workspace = queued_from(Path.cwd())
    if workspace is not None and course_file(workspace / args.dir, source) is not None:
        check_readable(workspace / course)  # a folder there: its refusal, not the cache's
        raise InputError(
            str(course),
            "absent from this queued experiment's copy, though the workspace holds it: DVC "
            "has not cached it yet; run `dvc repro` in the workspace once, then queue again",
        )
    return f"{course} is absent: ingest will use the SYNTHETIC stand-in"


main = stage_main("raw", "Make sure data/raw/ exists; say what it holds.", body, PATHS)


if __name__ == "__main__":
    exit_with(main())
