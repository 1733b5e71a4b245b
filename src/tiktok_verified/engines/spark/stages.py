"""The data stages' bodies on Spark (ingest, features, split): each reads and writes what the
local stage does, so dvc.yaml's outputs and what reads them are the same whichever engine ran
them. The statistics and model stages' bodies are in `statistics` and `model`."""

from __future__ import annotations

from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session
from tiktok_verified.files import write_json


def ingest(args, params: Params) -> str:
    from tiktok_verified.engines.spark.data import ingest as run

    with session(params.engine, "ingest") as spark:
        d = params.data
        report = run(spark, args.raw_dir, args.out, d.source, d.synthetic_rows, params.base.seed)
    write_json(args.metrics, report)
    return (
        f"{report['source']} data on Spark, {report['rows_in']} rows in, {report['rows_kept']} kept"
    )


def features(args, params: Params) -> str:
    from tiktok_verified.data.features import summarise
    from tiktok_verified.engines.spark.data import features as run

    with session(params.engine, "features") as spark:
        rows = run(spark, args.videos, args.out, params.features)
    summary = summarise(_Rows(rows), params.features)
    write_json(args.summary, summary)
    return f"{rows} rows on Spark, predictors {summary['predictors']}"


class _Rows:
    """What `summarise` reads of a frame: its height."""

    def __init__(self, height: int):
        self.height = height


def split(args, params: Params) -> str:
    from tiktok_verified.engines.spark.data import split as run

    outs = {"train": args.train, "train_original": args.train_original, "test": args.test}
    with session(params.engine, "split") as spark:
        report = run(spark, args.features, outs, params)
    write_json(args.report, report)
    return f"train {report['rows']['train']} rows, test {report['rows']['test']} rows on Spark"
