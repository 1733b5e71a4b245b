"""The Spark session a stage runs on, from the `engine` params: the master (`local[*]` by
default; a `spark://`, `yarn` or `k8s://` master as given) and every Spark setting passed
through unchanged. Missing pyspark or Java is a one-line error saying what to install."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from tiktok_verified.config import Engine
from tiktok_verified.errors import PipelineError

SETUP = (
    "engine=spark needs pyspark (make spark-env) and Java 17+ "
    "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
)


#: The class-data archive `make spark-env` builds (`warm`), beside the pyspark it archives.
ARCHIVE = Path(sys.prefix) / "spark-classes.jsa"
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


#: A stage whose local inputs total at most this many bytes runs its driver JVM with the quick
#: compiler only (C1, `-XX:TieredStopAtLevel=1`): such a JVM lives for seconds, and the
#: optimising compiler's threads (C2) cost more CPU than its code saves. The course file's
#: `make spark` (inputs of 0.2-3 MB a stage): 115 -> 76-80 CPU-seconds, 72-74 -> 63-66 s wall.
#: At 1M rows, under a 64 MiB line, C1 was slower where the work is heavy (statistics 69 s
#: against 52 s with C2), so the line is 8 MiB: above the course file's stages, below 1M rows'
#: parts (~50x the course file's). benchmarks/FINDINGS.md, "the test suite, bound by two cores;
#: the Spark JIT". Remote inputs (an object store) and unknown ones keep the default compilers.
QUICK_JIT_MAX_BYTES = 8 * 2**20
QUICK_JIT = "-XX:TieredStopAtLevel=1"


def input_bytes(paths) -> int | None:
    """The total size of local files and folders (recursively); None when `paths` is None
    (not known) or one of them is not a local path (a URI) or does not exist."""
    if paths is None:
        return None
    total = 0
    for path in paths:
        p = Path(path)
        if "://" in str(path) or not p.exists():
            return None
        files = (f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        total += sum(f.stat().st_size for f in files)
    return total


def java_options(inputs=None) -> str | None:
    """The driver's JVM options: the archive's mapping where it exists, the quick compiler
    where the stage's `inputs` are small (`QUICK_JIT_MAX_BYTES`); None when neither applies."""
    options = [f"-XX:SharedArchiveFile={ARCHIVE} {QUIET}"] if ARCHIVE.is_file() else []
    size = input_bytes(inputs)
    if size is not None and size <= QUICK_JIT_MAX_BYTES:
        options.append(QUICK_JIT)
    return " ".join(options) or None


def check_available() -> None:
    if importlib.util.find_spec("pyspark") is None:
        raise PipelineError(f"pyspark is not installed; {SETUP}")
    if shutil.which("java") is None:
        raise PipelineError(f"no java on PATH; {SETUP}")
    major = java_major()
    if major is not None and major < 17:
        raise PipelineError(f"java is Java {major}, Spark 4 needs 17 or later; {SETUP}")


def java_major() -> int | None:
    """The major version `java -version` reports (None if it cannot be read)."""
    try:
        text = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    except OSError:
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


@contextmanager
def session(engine: Engine, app: str, archive: bool = True, inputs=None):
    """A SparkSession for one stage, stopped when the stage is done. A local driver maps the
    class-data archive of `make spark-env` (`warm`) and, when the stage's `inputs` (paths; None:
    not known) are small, compiles with C1 only (`java_options`), unless the conf sets its JVM
    options."""
    check_available()
    local = engine.master.startswith("local")
    if local:
        # One machine: bind to loopback (Spark would pick the first interface) unless told.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # The Python workers (mapInArrow, UDFs) run in this interpreter, the project's venv:
        # pyspark starts `$PYSPARK_PYTHON`, else `python3` from PATH, which outside an
        # activated venv has neither pyarrow nor tiktok_verified.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Data come back through Arrow into polars; pandas is never used, so pyspark's warning
    # about the installed pandas version is noise.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"tiktok_verified.{app}").master(engine.master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        **engine.conf,
    }
    if archive and local:
        options = java_options(inputs)
        if options and "spark.driver.extraJavaOptions" not in settings:
            settings["spark.driver.extraJavaOptions"] = options
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
