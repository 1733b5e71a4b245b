"""Features on Spark: `data.features` in a session of the configured engine."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session


def run(args, params: Params) -> str:
    from tiktok_verified.data.features import summarise
    from tiktok_verified.engines.spark.data import features as compute

    with session(params.engine, "features", inputs=[args.videos]) as spark:
        rows = compute(spark, args.videos, args.out, params.features)
    summary = summarise(_Rows(rows), params.features)
    contracts.write(args.summary, summary, "features.json")
    return f"{rows} rows on Spark, predictors {summary['predictors']}"


class _Rows:
    """What `summarise` reads of a frame: its height."""

    def __init__(self, height: int):
        self.height = height
