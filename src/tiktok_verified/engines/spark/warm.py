"""The class-data archive that halves a Spark stage's start-up (`make spark-env` builds it).

Each Spark stage starts its own JVM, which loads and verifies ~15k classes of Spark's jars
before the first job runs (~15 s a stage on two cores, most of `make spark`'s time on the
course file). Java's application class-data sharing maps those classes from an archive
instead: this module runs the stages' code once on a small stand-in with
`-XX:ArchiveClassesAtExit`, and `session` passes `-XX:SharedArchiveFile` to every local
driver after. The JVM checks the archive against its own version and class path and ignores
it (silently, with the logging below) when either differs, so a stale archive costs nothing."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from tiktok_verified.engines.spark.session import ARCHIVE, QUICK_JIT, QUIET


def build(params_path: Path = Path("params.yaml")) -> Path:
    """Run ingest, features, split, the GLM and the penalised fit once on 2,000 stand-in rows
    in a JVM that writes the archive of every class it loaded when it exits."""
    from pyspark import SparkContext

    from tiktok_verified.config import Engine, load_params
    from tiktok_verified.engines.spark import data, inference, model, parts
    from tiktok_verified.engines.spark.session import session

    tmp_archive = ARCHIVE.with_suffix(".jsa.tmp")
    tmp_archive.unlink(missing_ok=True)
    # The quick compiler only: the archive holds classes, not compiled code, and C2's threads
    # cost this short JVM a quarter of its CPU (make spark-env: 80 -> 59-61 CPU-s, 58 -> 54 s).
    options = f"-XX:ArchiveClassesAtExit={tmp_archive} {QUIET} {QUICK_JIT}"
    engine = Engine(
        name="spark", master="local[2]", conf={"spark.driver.extraJavaOptions": options}
    )
    params = load_params(params_path)
    params = replace(params, engine=engine)
    with tempfile.TemporaryDirectory() as tmp, session(engine, "warm", archive=False) as spark:
        t = Path(tmp)
        data.ingest(spark, t / "absent", t / "videos", "synthetic", 2000, 0)
        data.features(spark, t / "videos", t / "features", params.features)
        outs = {n: t / n for n in ("train", "train_original", "test")}
        parts.split(spark, t / "features", outs, params)
        inference.coefficient_inference(
            spark.read.parquet(str(outs["train_original"])), params.features
        )
        model.fit(spark.read.parquet(str(outs["train"])), params)
    gateway = SparkContext._gateway
    if gateway is not None and getattr(gateway, "proc", None) is not None:
        gateway.proc.stdin.close()  # the JVM exits on EOF, writing the archive first
        gateway.proc.wait()
    if not tmp_archive.is_file():
        raise RuntimeError("the JVM wrote no class-data archive")
    tmp_archive.replace(ARCHIVE)
    return ARCHIVE


if __name__ == "__main__":
    print(f"spark class-data archive: {build()}")
