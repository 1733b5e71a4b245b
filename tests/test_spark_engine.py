"""The Spark engine against the local one, on the course file (the stand-in where it is absent)
and the same split: the data stages give the same rows and figures, `GeneralizedLinearRegression`
the estimates and SEs of statsmodels' Logit, MLlib's `LogisticRegression` with the mapped
penalty the coefficients of scikit-learn's, and the evaluation the same confusion matrix and
metrics. One Spark session (local[2]) for the module.

Where Java or pyspark is missing these tests are skipped with the reason, unless
TIKTOK_REQUIRE_SPARK=1 (set by .ci/run), which turns the skip into a failure."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from tests.conftest import REPO_ROOT, SHARED_CSV, compose_params, link_environment
from tiktok_verified.config import Engine
from tiktok_verified.data import schema, standin
from tiktok_verified.data.csv_structure import InputError
from tiktok_verified.data.features import build_features
from tiktok_verified.data.reader import read_videos
from tiktok_verified.errors import PipelineError
from tiktok_verified.modeling import inference
from tiktok_verified.modeling.evaluation import evaluate
from tiktok_verified.modeling.fit import fit as sklearn_fit
from tiktok_verified.modeling.resampling import as_weighted
from tiktok_verified.modeling.split import make_split

REQUIRED = os.environ.get("TIKTOK_REQUIRE_SPARK") == "1"


@pytest.fixture(scope="module")
def spark_available(request) -> None:
    """Skip where Java or pyspark is missing (fail under TIKTOK_REQUIRE_SPARK=1); then the
    class-data archive, as `make spark-env` builds it (conftest.spark_archive)."""
    from tiktok_verified.engines.spark.session import check_available

    try:
        check_available()
    except PipelineError as exc:
        if REQUIRED:
            pytest.fail(f"TIKTOK_REQUIRE_SPARK=1 but {exc}")
        pytest.skip(str(exc))
    request.getfixturevalue("spark_archive")


@pytest.fixture(scope="module")
def spark(spark_available):
    """One session for the tests below; they run in one xdist worker (the `spark` group of
    `make test`'s --dist loadgroup), so the suite starts one JVM for them, not one per worker."""
    from tiktok_verified.engines.spark.session import session

    engine = Engine(name="spark", master="local[2]", conf={"spark.sql.shuffle.partitions": "4"})
    with session(engine, "tests", inputs=[]) as s:  # small frames: the quick compiler
        yield s


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The local engine's ingest, features and split of the course file (or the stand-in),
    as files the Spark functions read."""
    params = compose_params()
    tmp = tmp_path_factory.mktemp("engines")
    raw = tmp / "raw"
    raw.mkdir()
    if SHARED_CSV.exists():
        shutil.copyfile(SHARED_CSV, raw / schema.RAW_NAME)
    else:
        standin.write_csv(raw / schema.RAW_NAME, 19_382, 0)
    videos = read_videos(raw, "auto", params.data.synthetic_rows, params.base.seed)
    videos.frame.write_parquet(tmp / "videos.parquet")
    features = build_features(pl.scan_parquet(tmp / "videos.parquet"), params.features).collect()
    split = make_split(features, params, "features")
    paths = {}
    for name in ("train", "train_original", "test"):
        paths[name] = tmp / f"{name}.parquet"
        getattr(split, name).write_parquet(paths[name])
    return SimpleNamespace(
        tmp=tmp, raw=raw, params=params, videos=videos, features=features, split=split, **paths
    )


@pytest.fixture(scope="module")
def local_features_file(local):
    path = local.tmp / "features.parquet"
    local.features.write_parquet(path)
    return path


def by_video(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(schema.VIDEO_ID)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_ingest_and_features_give_the_local_rows_and_figures(spark, local, tmp_path):
    from tiktok_verified.engines.spark import data

    p = local.params
    report = data.ingest(
        spark, local.raw, tmp_path / "videos", "auto", p.data.synthetic_rows, p.base.seed
    )
    for key in ("source", "sha256", "rows_in", "rows_dropped", "rows_kept", "class_counts"):
        assert report[key] == local.videos.report[key], key
    rows = data.features(spark, tmp_path / "videos", tmp_path / "features", p.features)
    assert rows == local.features.height
    theirs = by_video(pl.read_parquet(tmp_path / "features"))
    ours = by_video(local.features)
    assert theirs.columns == ours.columns
    for column in ours.columns:
        a, b = theirs[column], ours[column]
        if a.dtype.is_numeric():
            assert np.array_equal(a.to_numpy(), b.to_numpy()), column
        else:
            assert a.cast(pl.String).to_list() == b.cast(pl.String).to_list(), column


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_a_bad_value_is_refused_naming_file_row_and_column(spark, local, tmp_path, monkeypatch):
    """Spark's own check (a file above the size the reader of record checks first)."""
    from tiktok_verified.engines.spark import data

    monkeypatch.setattr(data, "LOCAL_CHECK_BYTES", 0)

    lines = (local.raw / schema.RAW_NAME).read_text().splitlines()
    header = lines[0].split(",")
    col = header.index("video_share_count")
    cells = lines[42].split(",")
    cells[col] = "-3"
    lines[42] = ",".join(cells)
    bad = tmp_path / "raw"
    bad.mkdir()
    (bad / schema.RAW_NAME).write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        data.ingest(spark, bad, tmp_path / "videos", "auto", 100, 0)
    message = str(caught.value)
    assert f"row #{cells[0]}" in message and "video_share_count" in message
    assert "'-3' is negative" in message and str(bad / schema.RAW_NAME) in message
    assert not (tmp_path / "videos").exists()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_a_folder_at_the_course_path_is_refused_as_the_local_engine_refuses_it(spark, tmp_path):
    """One rule for which file a run reads (data.source.course_file): a folder where the
    course file should be is refused by both engines with the same line, not replaced by the
    stand-in (Spark's own copy of the rule asked `is_file()` and ran the stand-in)."""
    from tiktok_verified.engines.spark import data

    raw = tmp_path / "raw"
    (raw / schema.RAW_NAME).mkdir(parents=True)
    with pytest.raises(InputError) as local_refusal:
        read_videos(raw, "auto", 100, 0)
    with pytest.raises(InputError) as spark_refusal:
        data.ingest(spark, raw, tmp_path / "videos", "auto", 100, 0)
    assert str(spark_refusal.value) == str(local_refusal.value)
    assert "cannot read the file" in str(spark_refusal.value)
    assert not (tmp_path / "videos").exists()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
@pytest.mark.parametrize("strategy", ["upsample", "downsample", "class_weight", "none"])
def test_split_puts_every_video_where_the_local_engine_does(
    spark, local, local_features_file, tmp_path, strategy
):
    """One split rule (`modeling.partition`), run by both engines: the same videos in each
    part, the same caps, the same resampled weights, the same split.json."""
    from tiktok_verified.engines.spark import parts

    p = replace(local.params, resample=replace(local.params.resample, strategy=strategy))
    ours = make_split(local.features, p, "features") if strategy != "upsample" else local.split
    outs = {n: tmp_path / n for n in ("train", "train_original", "test")}
    report = parts.split(spark, local_features_file, outs, p)
    assert report == json.loads(json.dumps(ours.report)), strategy  # split.json, every figure
    for name in ("train", "train_original", "test"):
        theirs = by_video(pl.read_parquet(outs[name]))
        mine = by_video(getattr(ours, name))
        assert theirs[schema.VIDEO_ID].to_list() == mine[schema.VIDEO_ID].to_list(), name
        for column in mine.columns:
            a, b = theirs[column].to_numpy(), mine[column].to_numpy()
            if mine[column].dtype.is_numeric():
                assert np.array_equal(a.astype(float), b.astype(float)), (name, column)
    assert report["test_rows_whose_video_is_in_train"] == 0


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_joint_test_without_claim_status_is_the_local_one(spark, local):
    """With claim status not a predictor, the joint test compares the full model with the
    intercept alone, on both engines (Spark once raised TypeError here)."""
    from tiktok_verified.engines.spark import inference as spark_inference
    from tiktok_verified.modeling import associations

    cfg = replace(local.params.features, categorical=("author_ban_status",))
    original = local.split.train_original
    full = inference.coefficient_inference(original, cfg)["log_likelihood"]
    ours = associations.joint_test(original, cfg, full)
    theirs = spark_inference.joint_test(spark.read.parquet(str(local.train_original)), cfg, full)
    assert ours["kept"] == theirs["kept"] == []
    assert theirs["tested"] == ours["tested"] and theirs["df"] == ours["df"]
    assert theirs["statistic"] == pytest.approx(ours["statistic"], rel=1e-9)
    assert theirs["p_value"] == pytest.approx(ours["p_value"], rel=1e-9)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_missing_values_and_unnumbered_rows_are_read_as_the_local_reader_reads_them(
    spark, tmp_path, capsys
):
    """The input rules both engines share: a missing value is one of the spellings exactly
    (" NA " in a count is a bad value, not a missing one), a row without `#` is refused, and a
    run on the stand-in prints the same loud warning."""
    from tiktok_verified.data import reader
    from tiktok_verified.engines.spark import data

    base = standin.csv_bytes(300, seed=11).decode()
    lines = base.split("\r\n")
    cells = lines[5].split(",")
    for name, value in (("video_view_count", " NA "), ("#", "")):
        edited = list(cells)
        edited[lines[0].split(",").index(name)] = value
        raw = tmp_path / name.strip("#") / "raw" if name != "#" else tmp_path / "hash" / "raw"
        raw.mkdir(parents=True)
        (raw / schema.RAW_NAME).write_text("\r\n".join([*lines[:5], ",".join(edited), *lines[6:]]))
        with pytest.raises(InputError) as local_error:
            reader.read_videos(raw, "auto", 100, 0)
        with pytest.raises(InputError) as spark_error:
            data.ingest(spark, raw, tmp_path / f"out-{len(value)}", "auto", 100, 0)
        assert local_error.value.column == spark_error.value.column == name, str(spark_error.value)
    capsys.readouterr()
    data.ingest(spark, tmp_path / "absent", tmp_path / "standin", "auto", 300, 0)
    spark_warning = capsys.readouterr().err
    reader.read_videos(tmp_path / "absent", "auto", 300, 0)
    assert "SYNTHETIC stand-in" in spark_warning and spark_warning == capsys.readouterr().err


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_glm_gives_statsmodels_estimates_and_standard_errors(spark, local):
    from tiktok_verified.engines.spark import inference as spark_inference

    cfg = local.params.features
    ours = inference.coefficient_inference(local.split.train_original, cfg)
    theirs = spark_inference.coefficient_inference(
        spark.read.parquet(str(local.train_original)), cfg
    )
    assert theirs["rows"] == ours["rows"] and theirs["events"] == ours["events"]
    assert set(theirs["coefficients"]) == set(ours["coefficients"])
    for name, o in ours["coefficients"].items():
        t = theirs["coefficients"][name]
        assert relative(t["coef"], o["coef"]) < 1e-4, (name, t["coef"], o["coef"])
        assert relative(t["std_err"], o["std_err"]) < 1e-4, (name, t["std_err"], o["std_err"])
    assert relative(theirs["intercept"]["coef"], ours["intercept"]["coef"]) < 1e-4
    assert relative(theirs["log_likelihood"], ours["log_likelihood"]) < 1e-6
    # The resampled rows (a weight column) against statsmodels' GLM with freq_weights.
    weighted = spark_inference.coefficient_inference(
        spark.read.parquet(str(local.train)), cfg, weighted=True
    )
    rows = as_weighted(local.split.train)
    reference = inference.coefficient_inference(rows, cfg, weights=rows[schema.WEIGHT].to_numpy())
    for name, o in reference["coefficients"].items():
        assert relative(weighted["coefficients"][name]["coef"], o["coef"]) < 1e-4, name
        assert relative(weighted["coefficients"][name]["std_err"], o["std_err"]) < 1e-4, name


def coefficients(pipeline) -> np.ndarray:
    classify = pipeline.named_steps["classify"]
    return np.r_[classify.intercept_, classify.coef_.ravel()]


def converged_sklearn(train: pl.DataFrame, params):
    """The configured scikit-learn pipeline fitted to its optimum (tol 1e-10)."""
    from tiktok_verified.modeling.design import design, outcome
    from tiktok_verified.modeling.fit import build_pipeline

    rows = as_weighted(train)
    pipeline = build_pipeline(params.features, params.model, params.base.seed, None)
    pipeline.set_params(classify__tol=1e-10, classify__max_iter=100_000)
    w = rows[schema.WEIGHT].to_numpy()
    X, y = design(rows, params.features), outcome(rows)
    return pipeline.fit(X, y, scale__sample_weight=w, classify__sample_weight=w)


#: Both fits at the optimum of the same objective agree to 1e-7 on the standardized scale
#: (measured on the course file: at most 1.6e-7 for l2 at C = 1 and 0.01); 1e-5 leaves room for
#: other data. The deployed scikit-learn model is fitted to the optimum too (newton-cholesky,
#: tol 1e-8, numbers kept to 8 digits), so the same bound holds against it.
AT_OPTIMUM = 1e-5


@pytest.mark.parametrize(("group", "C"), [("l2", 1.0), ("l2", 0.01), ("elasticnet", 0.05)], ids=str)
@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_mllib_with_the_mapped_penalty_gives_scikit_learns_coefficients(spark, local, group, C):
    from tiktok_verified.engines.spark import model as spark_model

    base = compose_params(f"model={group}")
    params = replace(base, model=replace(base.model, C=C))
    train = spark.read.parquet(str(local.train))
    fitted = spark_model.fit(train, params)
    theirs = coefficients(spark_model.as_sklearn(*fitted, params))
    optimum = converged_sklearn(local.split.train, params)
    assert np.max(np.abs(theirs - coefficients(optimum))) < AT_OPTIMUM
    if group == "l2":
        deployed, _ = sklearn_fit(local.split.train, params)
        assert np.max(np.abs(theirs - coefficients(deployed))) < AT_OPTIMUM
    # The scaler is scikit-learn's (weighted mean, population SD).
    scale = optimum.named_steps["scale"]
    assert np.allclose(fitted[2], scale.mean_, rtol=1e-9)
    assert np.allclose(fitted[3], scale.scale_, rtol=1e-9)
    # Without the mapping (regParam = 1/C, as if the two penalties were on one scale) the fit
    # is another one: the comparison can tell.
    naive = replace(params, model=replace(params.model, C=C / fitted[4]))
    assert spark_model.reg_param(naive.model.C, fitted[4], True) == pytest.approx(1 / C)
    wrong = coefficients(spark_model.as_sklearn(*spark_model.fit(train, naive), params))
    assert np.max(np.abs(wrong - coefficients(optimum))) > 1000 * AT_OPTIMUM


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_evaluation_gives_the_local_confusion_matrix_and_metrics(spark, local):
    from tiktok_verified.engines.spark import model as spark_model
    from tiktok_verified.modeling.evaluation import evaluate_scored

    params = local.params
    fitted = spark_model.fit(spark.read.parquet(str(local.train)), params)
    pipeline = spark_model.as_sklearn(*fitted, params)
    cells = {
        part: spark_model.cells(spark.read.parquet(str(path)), pipeline, params.features, 10**4)
        for part, path in (("train", local.train_original), ("test", local.test))
    }
    assert cells["test"].w.sum() == local.split.test.height
    theirs = evaluate_scored(cells["train"], cells["test"], params)
    # The same model scored by scikit-learn on every row.
    ours = evaluate(pipeline, local.split.train_original, local.split.test, params)
    assert theirs[1] == ours[1]  # confusion matrix
    for part in ("train", "test"):
        for key, value in ours[0][part].items():
            assert theirs[0][part][key] == pytest.approx(value, rel=1e-9, abs=1e-12), (part, key)
    assert theirs[0]["opinion_rule"]["test"] == pytest.approx(ours[0]["opinion_rule"]["test"])
    recommended = theirs[0]["calibration"]["recommended"]
    assert recommended["threshold"] == ours[0]["calibration"]["recommended"]["threshold"]
    for part in ("train", "test"):
        mine = ours[0]["calibration"]["recommended"][part]
        assert recommended[part] == pytest.approx(mine, rel=1e-12)
    assert theirs[2].sort(["actual", "predicted"]).equals(ours[2].sort(["actual", "predicted"]))
    for name, frame in ours[3].items():
        assert np.allclose(theirs[3][name].to_numpy(), frame.to_numpy(), rtol=1e-9), name
    # And against the local engine's own fit: the confusion matrices match, or differ only by
    # videos whose two probabilities straddle the threshold.
    local_pipeline, _ = sklearn_fit(local.split.train, params)
    local_eval = evaluate(local_pipeline, local.split.train_original, local.split.test, params)
    t = params.evaluate.threshold
    from tiktok_verified.modeling.metrics import predict_proba

    p_ours = predict_proba(local_pipeline, local.split.test, params)
    p_theirs = predict_proba(pipeline, local.split.test, params)
    straddle = int(np.sum((p_ours >= t) != (p_theirs >= t)))
    moved = sum(
        abs(a - b)
        for ra, rb in zip(theirs[1]["matrix"], local_eval[1]["matrix"], strict=True)
        for a, b in zip(ra, rb, strict=True)
    )
    assert moved == 2 * straddle
    assert straddle <= 2, straddle


#: Keys that say how a figure was computed (engine, solver, method, rows collected), not what.
PROVENANCE = {
    "computed_on",
    "marginal_computed_on",
    "engine",
    "method",
    "solver",
    "iterations",
    "reg_param",
}


@pytest.mark.e2e
@pytest.mark.spark
def test_make_spark_runs_the_stages_on_spark_and_metrics_diff_compares_the_engines(
    spark_available, request
):
    """The README's one command, in a copy where the local engine's results are committed
    (the session's pipeline run, conftest.shared_run)."""
    repo = request.getfixturevalue("real_copy" if SHARED_CSV.exists() else "standin_copy")
    link_environment(repo.root, "spark-env")
    assert repo.run("git", "status", "--porcelain", "--untracked-files=no").stdout == ""
    local_data = json.loads((repo.root / "metrics/data.json").read_text())
    ran = repo.run("make", "--no-print-directory", "spark")
    assert "Traceback" not in ran.stderr
    for stage in ("ingest", "features", "split", "statistics", "model"):
        assert f"Running stage '{stage}'" in ran.stdout, stage
    predictor = json.loads((repo.root / "metrics/predictor.json").read_text())["predictor"]
    assert predictor["engine"] == "spark" and predictor["converged"]
    coefficients = json.loads((repo.root / "metrics/coefficients.json").read_text())
    assert coefficients["inference"]["engine"] == "spark"
    # One contract: the same rules, split and draws, so `dvc metrics diff` shows no change in
    # the data, features, split, held-out metrics or confusion matrix, and the rest moves only
    # in provenance text or, for the predictor's coefficients, within 1e-4 relative.
    assert json.loads((repo.root / "metrics/data.json").read_text()) == local_data
    diff = json.loads(repo.dvc("metrics", "diff", "--json").stdout)
    for unchanged in ("data", "features", "split", "metrics", "confusion_matrix"):
        assert f"metrics/{unchanged}.json" not in diff, diff.get(f"metrics/{unchanged}.json")
    for name, rows in diff.items():
        for key, row in rows.items():
            old, new = row.get("old"), row.get("new")
            if (
                name == "metrics/predictor.json"
                and key.endswith((".coef", ".odds_ratio"))
                or name == "metrics/predictor.json"
                and key.startswith("predictor.intercept")
            ):
                assert abs(new - old) <= 1e-4 * abs(old), (key, row)
            else:  # provenance: which engine, solver, method; never a figure
                assert key.split(".")[-1] in PROVENANCE, (name, key, row)
    summary = (repo.root / "reports/executive_summary.md").read_text()
    assert "held-out" in summary


def test_the_class_archive_is_mapped_only_where_it_exists(tmp_path, monkeypatch):
    """`make spark-env`'s class-data archive: its JVM options name it when it is there, and
    nothing otherwise (a driver without it starts as before, only slower)."""
    from tiktok_verified.engines.spark import session

    monkeypatch.setattr(session, "ARCHIVE", tmp_path / "spark-classes.jsa")
    assert session.java_options() is None
    (tmp_path / "spark-classes.jsa").write_bytes(b"")
    assert session.java_options().startswith(f"-XX:SharedArchiveFile={tmp_path}")
    assert session.QUICK_JIT not in session.java_options()


def test_small_local_inputs_get_the_quick_compiler_and_large_or_remote_ones_do_not(
    tmp_path, monkeypatch
):
    from tiktok_verified.engines.spark import session

    monkeypatch.setattr(session, "ARCHIVE", tmp_path / "absent.jsa")
    (tmp_path / "part").mkdir()
    (tmp_path / "part" / "a.parquet").write_bytes(b"x" * 600)
    (tmp_path / "b.csv").write_bytes(b"y" * 400)
    inputs = [tmp_path / "part", tmp_path / "b.csv"]
    assert session.input_bytes(inputs) == 1000
    monkeypatch.setattr(session, "QUICK_JIT_MAX_BYTES", 1000)
    assert session.java_options(inputs) == session.QUICK_JIT == "-XX:TieredStopAtLevel=1"
    monkeypatch.setattr(session, "QUICK_JIT_MAX_BYTES", 999)
    assert session.java_options(inputs) is None  # one byte over: the default compilers
    monkeypatch.setattr(session, "QUICK_JIT_MAX_BYTES", 10**9)
    assert session.java_options(None) is None  # not known (the stand-in generated in ingest)
    assert session.java_options([*inputs, "s3a://bucket/videos"]) is None
    assert session.java_options([tmp_path / "missing.parquet"]) is None
    (tmp_path / "spark-classes.jsa").write_bytes(b"")
    monkeypatch.setattr(session, "ARCHIVE", tmp_path / "spark-classes.jsa")
    assert session.java_options(inputs).endswith(f"{session.QUIET} {session.QUICK_JIT}")


def test_without_java_a_spark_stage_stops_with_one_line(tmp_path, monkeypatch, capsys):
    import yaml

    from tiktok_verified.engines.spark import session as spark_session
    from tiktok_verified.stages import features

    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["engine"]["name"] = "spark"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setattr(spark_session.shutil, "which", lambda name: None)
    # pyspark as if installed (`make check` runs without it): the check under test is Java's.
    find_spec = spark_session.importlib.util.find_spec
    monkeypatch.setattr(
        spark_session.importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "pyspark" else find_spec(name, *a),
    )
    args = ["--params", str(tmp_path / "params.yaml")]
    args += ["--videos", "v", "--out", str(tmp_path / "f"), "--summary", str(tmp_path / "s")]
    assert features.main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        "features: error: no java on PATH; engine=spark needs pyspark (make spark-env) and "
        "Java 17+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
    ]
    assert not (tmp_path / "f").exists()


def _hostile_cases():
    import test_hostile_input as hostile

    return hostile


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
@pytest.mark.parametrize("name", list(_hostile_cases().BROKEN))
def test_a_broken_file_is_refused_as_the_local_engine_refuses_it(spark, tmp_path, name):
    """The hostile-input suite under Spark: the same files refused with the same line."""
    from tiktok_verified.data import reader
    from tiktok_verified.engines.spark import data

    hostile = _hostile_cases()
    mutate, _ = hostile.BROKEN[name]
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / schema.RAW_NAME).write_bytes(mutate(hostile.BASE))
    with pytest.raises(InputError) as local_error:
        reader.read_videos(raw, "auto", 100, 0)
    with pytest.raises(InputError) as spark_error:
        data.ingest(spark, raw, tmp_path / "videos", "auto", 100, 0)
    assert str(spark_error.value) == str(local_error.value)
    assert not (tmp_path / "videos").exists()


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
@pytest.mark.parametrize("name", list(_hostile_cases().VARIANTS))
def test_a_harmless_variant_is_accepted_with_the_local_rows(spark, tmp_path, name):
    from tiktok_verified.data import reader
    from tiktok_verified.engines.spark import data

    hostile = _hostile_cases()
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / schema.RAW_NAME).write_bytes(hostile.VARIANTS[name](hostile.BASE))
    report = data.ingest(spark, raw, tmp_path / "videos", "auto", 100, 0)
    ours = reader.read_videos(raw, "auto", 100, 0)
    for key in ("rows_in", "rows_dropped", "rows_kept", "class_counts", "incomplete_rows"):
        assert report[key] == ours.report[key], key
    theirs = by_video(pl.read_parquet(tmp_path / "videos"))
    mine = by_video(ours.frame)
    for column in mine.columns:
        assert theirs[column].cast(pl.String).to_list() == mine[column].cast(pl.String).to_list()


@pytest.mark.parametrize(
    "name",
    ["text in a numeric column", "count beyond 64 bits", "negative count", "unknown claim_status",
     "missing required value", "too many fields"],
)  # fmt: skip
@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_above_the_local_check_size_spark_refuses_in_one_line_naming_the_column(
    spark, tmp_path, monkeypatch, name
):
    """A file too large for the reader of record is checked on Spark alone: still one
    InputError naming the file, the row (by `#`) and the local engine's column, never a
    traceback (under ANSI mode a plain cast would raise first)."""
    from tiktok_verified.data import reader
    from tiktok_verified.engines.spark import data

    hostile = _hostile_cases()
    monkeypatch.setattr(data, "LOCAL_CHECK_BYTES", 0)
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / schema.RAW_NAME).write_bytes(hostile.BROKEN[name][0](hostile.BASE))
    with pytest.raises(InputError) as local_error:
        reader.read_videos(raw, "auto", 100, 0)
    with pytest.raises(InputError) as spark_error:
        data.ingest(spark, raw, tmp_path / "videos", "auto", 100, 0)
    message = str(spark_error.value)
    assert message.startswith(str(raw / schema.RAW_NAME))
    if name == "too many fields":  # Spark's reader refuses the record itself, quoting it
        assert "a record that cannot be parsed ('7,claim,7926614566," in message
    else:
        assert "row #" in message and spark_error.value.column == local_error.value.column
