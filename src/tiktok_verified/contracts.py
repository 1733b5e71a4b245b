"""The metrics files' contracts: one pydantic model per file, the keys stated once.

Both engines' writers validate what they write (`write`), and every reader (the reports, the
notebook, the pull-request report) reads through `read`, so a key that a writer drops or
renames stops the writer, or the reader, with one line naming the file and the key, instead of
a KeyError deep in a report or a blank where a figure should be.

The models list what readers rely on; the files hold more (`extra="allow"`: figures for the
curious, provenance such as `engine` or `computed_on`), which they keep when validated. Why
pydantic: it is already installed with DVC, its errors name the path of the bad key, and a
model is the JSON Schema (`python -m tiktok_verified.contracts` prints them); hand-written
checks of nested keys would be a second definition of the same thing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tiktok_verified.errors import PipelineError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class RowsDropped(_Open):
    incomplete: int
    duplicate_video_id: int


class DataReport(_Open):
    source: str
    path: str
    sha256: str
    rows_in: int
    rows_dropped: RowsDropped
    rows_kept: int
    class_counts: dict[str, int]
    verified_share: float
    incomplete_rows: dict[str, Any]
    by_claim_status: dict[str, dict[str, Any]]


class FeaturesReport(_Open):
    feature_set: str
    rows: int
    predictors: list[str]
    numeric: list[str]
    categorical: list[str]


class SplitRows(_Open):
    train_before_resample: int
    train: int
    train_distinct: int
    test: int


class SplitReport(_Open):
    resample: str
    test_size: float
    test_share: dict[str, float | None]
    rows: SplitRows
    class_counts: dict[str, dict[str, int]]
    test_rows_whose_video_is_in_train: int
    caps: dict[str, dict[str, float | int]]


class HeldOut(_Open):
    accuracy: float
    balanced_accuracy: float
    precision: float
    recall: float
    f1: float
    rows: int
    roc_auc: float
    log_loss: float
    brier: float


class Metrics(_Open):
    threshold: float
    resample: str
    train: HeldOut
    test: HeldOut
    no_skill: dict[str, Any]
    opinion_rule: dict[str, Any]
    calibration: dict[str, Any]
    predictive_gain: dict[str, Any]


class ConfusionMatrix(_Open):
    labels: list[str]
    matrix: list[list[int]]
    true_negative: int
    false_positive: int
    false_negative: int
    true_positive: int


class Inference(_Open):
    method: str
    rows: int
    events: int
    log_likelihood: float
    aic: float
    intercept: dict[str, Any]
    coefficients: dict[str, dict[str, Any]]


class Associations(_Open):
    alpha: float
    adjusted_p: dict[str, dict[str, float]]
    survive_holm: list[str]
    joint_test_besides_claim_status: dict[str, Any]
    marginal: dict[str, dict[str, Any]]
    #: the rows the marginal fits used: "every row", or the stratified sample's size
    marginal_computed_on: str


class Coefficients(_Open):
    inference: Inference
    associations: Associations
    strongest: Any


class Specifications(_Open):
    rows: int
    folds: int
    specifications: dict[str, dict[str, Any]]
    sensitivity: Any
    interactions_lr_test: dict[str, Any]


class PredictorFit(_Open):
    model: str
    solver: str
    resample: str
    train_rows: int
    iterations: int
    converged: bool
    intercept: float
    coefficients: dict[str, dict[str, float]]


class Predictor(_Open):
    predictor: PredictorFit


class AssumptionCheck(_Open):
    name: str  # the display title: free to change, never a key
    verdict: str
    rule: str
    figures: dict[str, Any]


class AssumptionChecks(_Open):
    """The assumption checks by their stable keys (what readers index)."""

    binary_outcome: AssumptionCheck
    independent_observations: AssumptionCheck
    no_severe_multicollinearity: AssumptionCheck
    linearity_of_the_logit: AssumptionCheck
    no_extreme_outliers_or_overly_influential_points: AssumptionCheck
    sample_size: AssumptionCheck


#: The assumption checks' stable keys, in report order.
ASSUMPTION_KEYS = tuple(AssumptionChecks.model_fields)


class Assumptions(_Open):
    resample: str
    rows: int
    summary: dict[str, int]
    checks: AssumptionChecks


class CrossValidation(_Open):
    folds: int
    rows: int
    mean: dict[str, float]
    std: dict[str, float]
    per_fold: list[dict[str, Any]]


#: Each metrics file's model, by file name.
CONTRACTS: dict[str, type[BaseModel]] = {
    "data.json": DataReport,
    "features.json": FeaturesReport,
    "split.json": SplitReport,
    "metrics.json": Metrics,
    "confusion_matrix.json": ConfusionMatrix,
    "coefficients.json": Coefficients,
    "specifications.json": Specifications,
    "predictor.json": Predictor,
    "assumptions.json": Assumptions,
    "cv.json": CrossValidation,
}


class ContractError(PipelineError):
    """A metrics file lacks a key its readers rely on, or holds one of the wrong type."""


def _first_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(the file)"
    if err["type"] == "missing":
        return f"no key {where!r}"
    return f"key {where!r}: {err['msg']}"


def check(name: str, payload: Any, path: str | Path) -> Any:
    """`payload` if it meets the contract of metrics file `name`, else ContractError."""
    model = CONTRACTS[name]
    try:
        model.model_validate(payload)
    except ValidationError as exc:
        raise ContractError(
            f"{path}: {_first_problem(exc)} (the contract of {name}: "
            f"tiktok_verified.contracts.{model.__name__}); rerun the stage that writes it "
            "(`dvc repro`), or update the contract and its readers together"
        ) from None
    return payload


def write(path: str | Path, payload: Any, contract: str) -> None:
    """Validate a metrics file against its contract (a key of CONTRACTS), then write it
    (atomically)."""
    from tiktok_verified.files import write_json

    write_json(path, check(contract, json.loads(json.dumps(payload, default=_plain)), path))


def read(path: str | Path, contract: str | None = None) -> Any:
    """A metrics file, as JSON, after checking it against its contract (by default the one of
    its file name)."""
    from tiktok_verified.files import read_json

    path = Path(path)
    try:
        payload = read_json(path)
    except FileNotFoundError:
        raise ContractError(f"{path}: not found; run `dvc repro`") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: not valid JSON ({exc.msg}); run `dvc repro`") from None
    return check(contract or path.name, payload, path)


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


if __name__ == "__main__":
    json.dump({n: m.model_json_schema() for n, m in CONTRACTS.items()}, sys.stdout, indent=1)
