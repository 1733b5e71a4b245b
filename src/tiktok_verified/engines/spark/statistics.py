"""The statistics stage's body on Spark: the inference in Spark (`inference`), the assumption
checks and the specification comparison on a stratified sample collected to this machine."""

from __future__ import annotations

from tiktok_verified import contracts
from tiktok_verified.config import Params
from tiktok_verified.engines.spark.session import session
from tiktok_verified.files import write_csv


def run(args, params: Params) -> str:
    import polars as pl

    from tiktok_verified.data import schema
    from tiktok_verified.engines.spark import inference as spark_inference
    from tiktok_verified.modeling import associations, inference, specification
    from tiktok_verified.modeling.assumptions import MAX_ROWS, check_all

    cfg, seed = params.features, params.base.seed
    with session(
        params.engine,
        "statistics",
        inputs=[args.videos, args.features, args.train, args.train_original],
    ) as spark:
        original = spark.read.parquet(str(args.train_original))
        stats = spark_inference.coefficient_inference(original, cfg)
        weighted = spark.read.parquet(str(args.train))
        compared = spark_inference.coefficient_inference(weighted, cfg, weighted=True)
        stats["resampled_rows_comparison"] = inference.resampled_rows_comparison(stats, compared)
        adjusted = associations.adjusted_p_values(stats)
        sample, sampled_from = spark_inference.sample(original, MAX_ROWS, seed)
        note = (
            f"a sample of {sample.height} rows collected from Spark"
            if sampled_from
            else "every row (collected from Spark)"
        )
        found = {
            "alpha": associations.ALPHA,
            "adjusted_p": adjusted,
            "survive_holm": [n for n, a in adjusted.items() if a["holm"] < associations.ALPHA],
            "joint_test_besides_claim_status": spark_inference.joint_test(
                original, cfg, stats["log_likelihood"]
            ),
            # Each predictor alone, by the local engine's fits, on the stratified sample
            # (every row up to MAX_ROWS): its interval sqrt(rows / sample) times as wide as a
            # fit on every row would give, for one pass over the sample instead of ~8 fits
            # of ~8 passes over the whole part.
            "marginal": associations.marginal(sample, cfg, stats["coefficients"]),
            "marginal_computed_on": note,
        }
        ids = spark.createDataFrame(sample.select(schema.VIDEO_ID).to_arrow())
        videos = pl.from_arrow(  # only the sampled videos come to this machine
            spark.read.parquet(str(args.videos))
            .select(schema.VIDEO_ID, schema.DURATION, *schema.COUNT_COLUMNS)
            .join(ids, on=schema.VIDEO_ID, how="semi")
            .toArrow()
        )
        facts = table_facts(spark.read.parquet(str(args.features)))
    report = check_all(
        facts, sample, videos, cfg, contracts.read(args.split_report, "split.json"), seed
    )
    report["computed_on"] = note
    report["sampled_from"] = sampled_from
    specs = specification.compare_for(sample, videos, cfg, seed)
    specs["computed_on"] = note
    contracts.write(args.assumptions, report, "assumptions.json")
    contracts.write(
        args.coefficients,
        {
            "inference": stats,
            "associations": found,
            "strongest": inference.strongest(stats, adjusted),
        },
        "coefficients.json",
    )
    contracts.write(args.specifications, specs, "specifications.json")
    write_csv(args.plot, inference.plot_rows(stats))
    return f"inference on {stats['rows']} videos on Spark; assumptions on {note}"


def table_facts(features):
    """What the outcome and independence checks read of the whole predictor table."""
    from pyspark.sql import functions as F

    from tiktok_verified.data import schema
    from tiktok_verified.modeling.assumptions import TableFacts

    y = schema.Y
    counts = {int(r[y]): int(r["count"]) for r in features.groupBy(y).count().collect()}
    distinct = features.select(F.countDistinct(schema.VIDEO_ID)).first()[0]
    return TableFacts(counts=counts, duplicated_video_ids=sum(counts.values()) - distinct)
