"""The scikit-learn model: one-hot encoding + (optional scaling) + LogisticRegression, and
its safe persistence with skops (no pickle: loading never executes code from the file)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import polars as pl
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tiktok_verified import schema
from tiktok_verified.config import Features, Model
from tiktok_verified.features import Y
from tiktok_verified.io import write_with

#: The only types a saved model may contain; anything else in a file is refused on load.
TRUSTED_TYPES = [
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "numpy.str_",
    "numpy.object_",
]


class ModelFileError(ValueError):
    """A model file is missing, corrupt, or contains types outside the trusted list."""


def numeric_columns(cfg: Features) -> list[str]:
    return [*cfg.numeric, *cfg.text]


def build_encoder(features: Features, standardize: bool) -> ColumnTransformer:
    """One-hot (reference level dropped) for categoricals; numerics as-is or standardized."""
    numeric = numeric_columns(features)
    categorical = list(features.categorical)
    transformers = []
    if categorical:
        transformers.append(
            (
                "onehot",
                OneHotEncoder(
                    categories=[list(schema.CATEGORIES[c]) for c in categorical],
                    drop="first",
                    sparse_output=False,
                    handle_unknown="error",
                ),
                categorical,
            )
        )
    if numeric:
        transformers.append(
            ("numeric", StandardScaler() if standardize else "passthrough", numeric)
        )
    return ColumnTransformer(transformers, verbose_feature_names_out=False)


def encoded(frame: pl.DataFrame, features: Features) -> tuple[np.ndarray, list[str]]:
    """The design matrix in raw units (no scaling) and its column names, for inference."""
    encoder = build_encoder(features, standardize=False)
    matrix = encoder.fit_transform(design(frame, features))
    return np.asarray(matrix, dtype=np.float64), [str(n) for n in encoder.get_feature_names_out()]


def build_pipeline(
    features: Features, model: Model, seed: int, class_weight: str | None
) -> Pipeline:
    encoder = build_encoder(features, model.standardize)
    classifier = LogisticRegression(
        C=model.C if model.penalized else np.inf,
        l1_ratio=model.l1_ratio,
        solver=model.solver,
        max_iter=model.max_iter,
        class_weight=class_weight,
        random_state=seed,
    )
    return Pipeline([("encode", encoder), ("classify", classifier)])


def design(frame: pl.DataFrame, features: Features):
    """Predictor columns as the pandas frame the ColumnTransformer selects from by name."""
    cols = [*numeric_columns(features), *features.categorical]
    out = frame.select(
        *[pl.col(c).cast(pl.Float64) for c in numeric_columns(features)],
        *[pl.col(c).cast(pl.String) for c in features.categorical],
    )
    return out.select(cols).to_pandas()


def outcome(frame: pl.DataFrame) -> np.ndarray:
    return frame[Y].to_numpy().astype(np.int64)


def _canonical_schema(schema_json: bytes) -> tuple[bytes, dict[str, str]]:
    """Replace skops' memory-address ids (and the array file names derived from them) by
    sequence numbers in traversal order; returns the new schema and the file renames."""
    state = json.loads(schema_json)
    ids: dict[int, int] = {}
    files: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            if "__id__" in node:
                node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
            if isinstance(node.get("file"), str):
                node["file"] = files.setdefault(node["file"], f"array-{len(files) + 1}.npy")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(state)
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
    data = _reproducible_zip(sio.dumps(pipeline))
    write_with(path, lambda tmp: tmp.write_bytes(data))


def load(path: str | Path) -> Pipeline:
    path = Path(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found; run `dvc repro train`") from None
    except Exception as exc:  # zip/JSON damage surfaces as several exception types
        raise ModelFileError(f"{path}: not a readable skops model file ({exc})") from None
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise ModelFileError(f"{path}: refusing to load untrusted types {refused}")
    try:
        model = sio.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:
        raise ModelFileError(f"{path}: model file is damaged ({exc})") from None
    if not isinstance(model, Pipeline):
        raise ModelFileError(f"{path}: expected a Pipeline, found {type(model).__name__}")
    return model


def feature_names(pipeline: Pipeline) -> list[str]:
    return [str(n) for n in pipeline.named_steps["encode"].get_feature_names_out()]
