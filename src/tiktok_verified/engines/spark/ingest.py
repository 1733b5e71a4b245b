"""Ingest on Spark: `data.ingest` in a session of the configured engine."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session


def run(args, params: Params) -> str:
    from tiktok_verified.data.source import course_file
    from tiktok_verified.engines.spark.data import ingest as compute

    course = course_file(args.raw_dir, params.data.source)
    with session(params.engine, "ingest", inputs=None if course is None else [course]) as spark:
        d = params.data
        report = compute(
            spark, args.raw_dir, args.out, d.source, d.synthetic_rows, params.base.seed
        )
    contracts.write(args.metrics, report, "data.json")
    return (
        f"{report['source']} data on Spark, {report['rows_in']} rows in, {report['rows_kept']} kept"
    )
