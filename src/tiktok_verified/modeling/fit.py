"""The scikit-learn model: a design matrix built in polars (reference-coded dummies, then the
numeric predictors, all Float64), optional standardization and a LogisticRegression; and its
safe persistence with skops (no pickle: loading never executes code from the file).

Copies of a row (what upsampling makes) are fitted as one row with a frequency weight: the
penalised log-likelihood, the scaler's mean and SD, and so the fitted model are the same, with
a fraction of the rows and memory."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from tiktok_verified import schema
from tiktok_verified.config import Features, Model, Params
from tiktok_verified.features import Y
from tiktok_verified.io import write_with
from tiktok_verified.resample import WEIGHT, as_weighted

#: The only types a saved model may contain; anything else in a file is refused on load.
#: (Stricter than skops' own defaults, which trust every scikit-learn estimator.)
TRUSTED_TYPES = [
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.str_",
    "numpy.object_",
]
#: Plain data a skops file spells out in JSON.
PLAIN_TYPES = [f"builtins.{t}" for t in ("dict", "list", "tuple", "str", "int", "float", "bool")]
#: skops node kinds that only rebuild data or the trusted classes above. Function, method,
#: operator and reduce nodes (ways to call code while loading) are refused.
TRUSTED_LOADERS = (
    "DictNode",
    "ListNode",
    "TupleNode",
    "SliceNode",
    "JsonNode",
    "TypeNode",
    "NdArrayNode",
    "ObjectNode",
)
#: The model's steps, by name and class, as `load` expects them.
STEPS = [("scale", "StandardScaler"), ("classify", "LogisticRegression")]


class ModelFileError(ValueError):
    """A model file is missing, corrupt, or contains types outside the trusted list."""


def numeric_columns(cfg: Features) -> list[str]:
    return [*cfg.numeric, *cfg.text]


def dummy_columns(cfg: Features) -> list[tuple[str, str, str]]:
    """(design name, column, level) of each dummy: one per level but the first (reference)."""
    return [
        (f"{c}_{level}", c, level) for c in cfg.categorical for level in schema.CATEGORIES[c][1:]
    ]


def design(frame: pl.DataFrame, features: Features) -> pl.DataFrame:
    """The design matrix in raw units: dummies, then numerics, every column Float64.

    A categorical value outside schema.CATEGORIES is an error (ingest refuses such rows, so
    this only guards hand-made frames)."""
    categorical = {}
    for c in features.categorical:
        allowed = schema.CATEGORIES[c]
        if frame.schema[c] == pl.Enum(allowed):  # as ingest writes it: nothing else possible
            categorical[c] = pl.col(c)
            continue
        bad = frame.filter(pl.col(c).is_null() | ~pl.col(c).cast(pl.String).is_in(allowed))
        if bad.height:
            raise ValueError(f"column {c!r}: value {bad[c][0]!r} is not one of {list(allowed)}")
        categorical[c] = pl.col(c).cast(pl.String)
    return frame.select(
        *[
            (categorical[c] == level).cast(pl.Float64).alias(name)
            for name, c, level in dummy_columns(features)
        ],
        *[pl.col(c).cast(pl.Float64) for c in numeric_columns(features)],
    )


def as_array(design_frame: pl.DataFrame) -> np.ndarray:
    """A design frame as a row-major float64 array."""
    return design_frame.to_numpy(order="c").astype(np.float64, copy=False)


def encoded(frame: pl.DataFrame, features: Features) -> tuple[np.ndarray, list[str]]:
    """The design matrix as a float64 array (raw units, no scaling) and its column names."""
    X = design(frame, features)
    return as_array(X), X.columns


def build_pipeline(
    features: Features, model: Model, seed: int, class_weight: str | None
) -> Pipeline:
    # Without standardization the scaler is the identity; the model keeps one shape and the
    # predictor names it was fitted with (checked again at predict time).
    scaler = (
        StandardScaler() if model.standardize else StandardScaler(with_mean=False, with_std=False)
    )
    classifier = LogisticRegression(
        C=model.C if model.penalized else np.inf,
        l1_ratio=model.l1_ratio,
        solver=model.solver,
        max_iter=model.max_iter,
        class_weight=class_weight,
        random_state=seed,
    )
    return Pipeline([("scale", scaler), ("classify", classifier)])


def outcome(frame: pl.DataFrame) -> np.ndarray:
    return frame[Y].to_numpy().astype(np.int64)


def fit(train: pl.DataFrame, params: Params) -> tuple[Pipeline, dict]:
    """Fit the configured pipeline on the training rows (copies of a row as one row with a
    frequency weight; a `weight` column, as split writes it, gives them); report convergence
    instead of printing a warning."""
    class_weight = "balanced" if params.resample.strategy == "class_weight" else None
    pipeline = build_pipeline(params.features, params.model, params.base.seed, class_weight)
    rows = as_weighted(train)
    X = design(rows, params.features)
    y = outcome(rows)
    w = rows[WEIGHT].to_numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X, y, scale__sample_weight=w, classify__sample_weight=w)
    classifier = pipeline.named_steps["classify"]
    info = {
        "model": params.model.name,
        "C": params.model.C if params.model.penalized else None,
        "l1_ratio": params.model.l1_ratio,
        "solver": params.model.solver,
        "resample": params.resample.strategy,
        "class_weight": class_weight,
        "train_rows": int(w.sum()),
        "distinct_rows": rows.height,
        "iterations": int(np.max(classifier.n_iter_)),
        "converged": not any(issubclass(w.category, ConvergenceWarning) for w in caught),
    }
    return pipeline, info


def predict_proba(pipeline: Pipeline, frame: pl.DataFrame, features: Features) -> np.ndarray:
    """P(verified) for each row."""
    return pipeline.predict_proba(design(frame, features))[:, 1]


def _schema_nodes(node) -> Iterator[dict]:
    """Every mapping in a skops schema, parents before their children."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schema_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_nodes(value)


def _canonical_schema(schema_json: bytes) -> tuple[bytes, dict[str, str]]:
    """Replace skops' memory-address ids (and the array file names derived from them) by
    sequence numbers in traversal order; returns the new schema and the file renames."""
    state = json.loads(schema_json)
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    for node in _schema_nodes(state):
        if "__id__" in node:
            node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
        if isinstance(node.get("file"), str):
            node["file"] = files.setdefault(node["file"], f"array-{len(files) + 1}.npy")
    return json.dumps(state, indent=2).encode(), files


def _reproducible_zip(data: bytes) -> bytes:
    """Re-pack skops' zip with canonical ids and fixed timestamps: equal models, equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        schema_json, renames = _canonical_schema(src.read("schema.json"))
        members = {"schema.json": schema_json}
        members |= {
            renames.get(name, name): src.read(name)
            for name in src.namelist()
            if name != "schema.json"
        }
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, members[name])
    return out.getvalue()


def save(pipeline: Pipeline, path: str | Path) -> None:
    import skops.io as sio  # 1.6 s to import: only the stages that save or load pay it

    data = _reproducible_zip(sio.dumps(pipeline))
    write_with(path, lambda tmp: tmp.write_bytes(data))


def _schema_types(data: bytes) -> set[tuple[str, str]]:
    """Every (loader, type) a skops file asks for, read from its schema without loading it."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        state = json.loads(archive.read("schema.json"))
    return {
        (str(node.get("__loader__")), f"{node.get('__module__')}.{node.get('__class__')}")
        for node in _schema_nodes(state)
        if "__class__" in node or "__loader__" in node
    }


def load(path: str | Path) -> Pipeline:
    """Load a saved model without executing code from the file, or raise ModelFileError.

    The file is read once; its schema is audited against TRUSTED_TYPES/TRUSTED_LOADERS
    before skops builds anything; the result must be our two-step Pipeline with finite
    coefficients."""
    import skops.io as sio

    path = Path(path)
    rebuild = "rebuild it with `dvc repro train`"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found; run `dvc repro train`") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read the model file ({exc.strerror})") from None
    try:
        found = _schema_types(data)
    except Exception as exc:  # zip/JSON damage surfaces as several exception types
        raise ModelFileError(
            f"{path}: not a readable skops model file ({_reason(exc)}); {rebuild}"
        ) from None
    allowed = set(TRUSTED_TYPES) | set(PLAIN_TYPES)
    refused = sorted(
        {kind for loader, kind in found if kind not in allowed or loader not in TRUSTED_LOADERS}
    )
    if not refused:
        try:
            refused = sorted(set(sio.get_untrusted_types(data=data)) - allowed)
        except Exception as exc:
            raise ModelFileError(
                f"{path}: model file is damaged ({_reason(exc)}); {rebuild}"
            ) from None
    if refused:
        raise ModelFileError(
            f"{path}: refusing to load: the file asks for types outside the trusted list "
            f"{refused}; it was not written by this pipeline (tampered?); {rebuild}"
        )
    try:
        model = sio.loads(data, trusted=TRUSTED_TYPES)
    except Exception as exc:
        raise ModelFileError(f"{path}: model file is damaged ({_reason(exc)}); {rebuild}") from None
    problem = _structure_problem(model)
    if problem:
        raise ModelFileError(f"{path}: not a model of this pipeline ({problem}); {rebuild}")
    return model


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _structure_problem(model: object) -> str | None:
    if not isinstance(model, Pipeline):
        return f"expected a Pipeline, found {type(model).__name__}"
    steps = [(name, type(step).__name__) for name, step in model.steps]
    if steps != STEPS:
        return f"unexpected steps {steps}"
    classifier = model.named_steps["classify"]
    coef = getattr(classifier, "coef_", None)
    intercept = getattr(classifier, "intercept_", None)
    if coef is None or intercept is None:
        return "the classifier is not fitted"
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        return "coefficients are not finite numbers"
    names = getattr(model.named_steps["scale"], "feature_names_in_", None)
    if names is None:
        return "the model does not name its predictors"
    if np.shape(coef) != (1, len(names)):
        return f"{np.shape(coef)[-1]} coefficients for {len(names)} predictors"
    return None


def feature_names(pipeline: Pipeline) -> list[str]:
    return [str(n) for n in pipeline.named_steps["scale"].feature_names_in_]
