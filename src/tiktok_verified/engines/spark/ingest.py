"""Ingest on Spark: `data.ingest` in a session of the configured engine."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session


def run(args, params: Params) -> str:
    from tiktok_verified.data.schema import RAW_NAME
    from tiktok_verified.engines.spark.data import ingest as compute

    course = args.raw_dir / RAW_NAME
    read = [course] if params.data.source == "auto" and course.is_file() else None
    with session(params.engine, "ingest", inputs=read) as spark:
        d = params.data
        report = compute(
            spark, args.raw_dir, args.out, d.source, d.synthetic_rows, params.base.seed
        )
    contracts.write(args.metrics, report, "data.json")
    return (
        f"{report['source']} data on Spark, {report['rows_in']} rows in, {report['rows_kept']} kept"
    )
