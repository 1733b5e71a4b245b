"""The Spark session a stage runs on, from the `engine` params: the master (`local[*]` by
default; a `spark://`, `yarn` or `k8s://` master as given) and every Spark setting passed
through unchanged. Missing pyspark or Java is a one-line error saying what to install."""

from __future__ import annotations

import importlib.util
import os
import shutil
from contextlib import contextmanager

from tiktok_verified.config import Engine
from tiktok_verified.errors import PipelineError

SETUP = (
    "engine=spark needs pyspark (`make spark-env`) and Java 17 "
    "(Debian: `apt-get install openjdk-17-jre-headless`)"
)


def check_available() -> None:
    if importlib.util.find_spec("pyspark") is None:
        raise PipelineError(f"pyspark is not installed; {SETUP}")
    if shutil.which("java") is None:
        raise PipelineError(f"no `java` on PATH; {SETUP}")


@contextmanager
def session(engine: Engine, app: str):
    """A SparkSession for one stage, stopped when the stage is done."""
    check_available()
    # Loopback unless told otherwise: Spark would otherwise bind to the first interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"tiktok_verified.{app}").master(engine.master)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        **engine.conf,
    }
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
