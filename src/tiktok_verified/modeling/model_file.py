"""The model file: the fitted Pipeline saved with skops (no pickle), byte-reproducible, and
loaded only after its schema is audited against a trusted list, so loading never runs code
from the file."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline

from tiktok_verified.errors import PipelineError
from tiktok_verified.files import write_with

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


class ModelFileError(PipelineError):
    """A model file is missing, corrupt, or contains types outside the trusted list."""


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
