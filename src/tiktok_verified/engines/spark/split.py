"""Split on Spark: `data.split` in a session of the configured engine."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session


def run(args, params: Params) -> str:
    from tiktok_verified.engines.spark.parts import split as compute

    outs = {"train": args.train, "train_original": args.train_original, "test": args.test}
    with session(params.engine, "split", inputs=[args.features]) as spark:
        report = compute(spark, args.features, outs, params)
    contracts.write(args.report, report, "split.json")
    return f"train {report['rows']['train']} rows, test {report['rows']['test']} rows on Spark"
