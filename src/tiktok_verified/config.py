"""Typed, validated view of params.yaml, read once at each stage's edge.

Every check names the offending key and what is allowed, so a mistyped `-S` override or a
hand edit fails before any work is done.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tiktok_verified.data import schema
from tiktok_verified.errors import PipelineError

TEXT_FEATURES = ("text_length", "word_count")
RESAMPLE_STRATEGIES = ("none", "upsample", "downsample", "class_weight", "exemplar")
SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
DATA_SOURCES = ("auto", "synthetic")
ENGINES = ("local", "spark")


class ConfigError(PipelineError):
    """A parameter is missing, misspelled or out of range."""


def _fail(key: str, message: str) -> None:
    raise ConfigError(f"params: {key}: {message}")


@dataclass(frozen=True)
class Base:
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            _fail("base.seed", f"must be a non-negative integer, got {self.seed!r}")


@dataclass(frozen=True)
class Data:
    source: str = "auto"
    synthetic_rows: int = 19382

    def __post_init__(self) -> None:
        if self.source not in DATA_SOURCES:
            _fail("data.source", f"must be one of {list(DATA_SOURCES)}, got {self.source!r}")
        if not _is_int(self.synthetic_rows) or self.synthetic_rows < 100:
            _fail("data.synthetic_rows", f"must be an integer >= 100, got {self.synthetic_rows!r}")


@dataclass(frozen=True)
class Features:
    name: str = "exemplar"
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    cap_iqr: tuple[str, ...] = ()
    iqr_factor: float = 1.5
    log_counts: bool = False
    interactions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        allowed_numeric = (schema.DURATION, *schema.COUNT_COLUMNS)
        for key, values, allowed in (
            ("features.numeric", self.numeric, allowed_numeric),
            ("features.categorical", self.categorical, ("claim_status", "author_ban_status")),
            ("features.text", self.text, TEXT_FEATURES),
            ("features.cap_iqr", self.cap_iqr, allowed_numeric),
            ("features.interactions", self.interactions, schema.COUNT_COLUMNS),
        ):
            if not isinstance(values, tuple):
                _fail(key, f"must be a list of column names from {list(allowed)}, got {values!r}")
            unknown = [v for v in values if v not in allowed]
            if unknown:
                _fail(key, f"unknown column(s) {unknown}; allowed: {list(allowed)}")
            if len(set(values)) != len(values):
                _fail(key, f"lists a column twice: {list(values)}")
        uncapped = [c for c in self.cap_iqr if c not in self.numeric]
        if uncapped:
            _fail("features.cap_iqr", f"{uncapped} not among features.numeric {list(self.numeric)}")
        if not (self.numeric or self.categorical or self.text):
            _fail("features", "select at least one predictor (numeric, categorical or text)")
        if not _is_number(self.iqr_factor) or self.iqr_factor <= 0:
            _fail("features.iqr_factor", f"must be a positive number, got {self.iqr_factor!r}")
        if not isinstance(self.log_counts, bool):
            _fail("features.log_counts", f"must be true or false, got {self.log_counts!r}")
        outside = [c for c in self.interactions if c not in self.numeric]
        if outside:
            _fail("features.interactions", f"{outside} not among features.numeric")
        if self.interactions and "claim_status" not in self.categorical:
            _fail("features.interactions", "needs claim_status among features.categorical")

    @property
    def columns(self) -> tuple[str, ...]:
        """Predictor columns of the features table, in model order."""
        return (*self.numeric, *self.text, *self.categorical)


@dataclass(frozen=True)
class Split:
    test_size: float = 0.25

    def __post_init__(self) -> None:
        if not _is_number(self.test_size) or not 0 < self.test_size < 1:
            _fail("split.test_size", f"must be a fraction in (0, 1), got {self.test_size!r}")


@dataclass(frozen=True)
class Resample:
    strategy: str = "upsample"

    def __post_init__(self) -> None:
        if self.strategy not in RESAMPLE_STRATEGIES:
            _fail(
                "resample.strategy",
                f"must be one of {list(RESAMPLE_STRATEGIES)}, got {self.strategy!r}",
            )


@dataclass(frozen=True)
class Model:
    name: str = "l2"
    C: float = 1.0
    l1_ratio: float = 0.0
    penalized: bool = True
    solver: str = "newton-cholesky"
    max_iter: int = 800
    tol: float = 1e-8
    standardize: bool = True

    def __post_init__(self) -> None:
        if not _is_number(self.C) or not self.C > 0:
            _fail("model.C", f"must be a positive number, got {self.C!r}")
        if not _is_number(self.l1_ratio) or not 0 <= self.l1_ratio <= 1:
            _fail("model.l1_ratio", f"must be in [0, 1] (0 = L2, 1 = L1), got {self.l1_ratio!r}")
        if not isinstance(self.penalized, bool):
            _fail("model.penalized", f"must be true or false, got {self.penalized!r}")
        if self.solver not in SOLVERS:
            _fail("model.solver", f"must be one of {list(SOLVERS)}, got {self.solver!r}")
        if self.penalized and self.l1_ratio > 0 and self.solver not in ("saga", "liblinear"):
            _fail(
                "model.solver", f"l1_ratio > 0 needs solver saga or liblinear, got {self.solver!r}"
            )
        if not _is_int(self.max_iter) or self.max_iter < 1:
            _fail("model.max_iter", f"must be a positive integer, got {self.max_iter!r}")
        if not _is_number(self.tol) or not 0 < self.tol < 1:
            _fail("model.tol", f"must be a number in (0, 1), got {self.tol!r}")
        if not isinstance(self.standardize, bool):
            _fail("model.standardize", f"must be true or false, got {self.standardize!r}")
        object.__setattr__(self, "C", float(self.C))  # `-S model.C=1` arrives as an int
        object.__setattr__(self, "tol", float(self.tol))


@dataclass(frozen=True)
class Evaluate:
    threshold: float = 0.5
    cv_folds: int = 5
    cv_max_rows: int = 200_000

    def __post_init__(self) -> None:
        if not _is_int(self.cv_max_rows) or self.cv_max_rows < 100:
            _fail("evaluate.cv_max_rows", f"must be an integer >= 100, got {self.cv_max_rows!r}")
        if not _is_number(self.threshold) or not 0 < self.threshold < 1:
            _fail("evaluate.threshold", f"must be in (0, 1), got {self.threshold!r}")
        if not _is_int(self.cv_folds) or self.cv_folds < 2:
            _fail("evaluate.cv_folds", f"must be an integer >= 2, got {self.cv_folds!r}")


@dataclass(frozen=True)
class Engine:
    """Where the data-reading stages run: `local` (polars, scikit-learn, statsmodels) or
    `spark` (Spark DataFrames and MLlib) on `master`, with Spark settings `conf`."""

    name: str = "local"
    master: str = "local[*]"
    conf: Any = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            _fail("engine.name", f"must be one of {list(ENGINES)}, got {self.name!r}")
        if not isinstance(self.master, str) or not self.master:
            _fail("engine.master", f"must be a Spark master URL, got {self.master!r}")
        if not isinstance(self.conf, dict) or not all(isinstance(k, str) for k in self.conf):
            _fail("engine.conf", f"must be a mapping of Spark settings, got {self.conf!r}")


@dataclass(frozen=True)
class Params:
    base: Base = field(default_factory=Base)
    data: Data = field(default_factory=Data)
    features: Features = field(default_factory=Features)
    split: Split = field(default_factory=Split)
    resample: Resample = field(default_factory=Resample)
    model: Model = field(default_factory=Model)
    evaluate: Evaluate = field(default_factory=Evaluate)
    engine: Engine = field(default_factory=Engine)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def _section(cls: type, key: str, raw: Any) -> Any:
    if not isinstance(raw, dict):
        _fail(key, f"must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        _fail(f"{key}.{unknown[0]}", f"unknown key; allowed keys: {sorted(fields)}")
    missing = sorted(set(fields) - set(raw))
    if missing:
        _fail(
            f"{key}.{missing[0]}",
            "missing; params.yaml must hold every key of conf/ (`make params`)",
        )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**values)


def parse_params(raw: Any) -> Params:
    """Validate a params mapping (as composed from conf/) into typed sections."""
    if not isinstance(raw, dict):
        raise ConfigError("params: the file must hold a mapping of sections")
    sections = {f.name: f.type for f in dataclasses.fields(Params)}
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        _fail(unknown[0], f"unknown section; allowed: {sorted(sections)}")
    classes = {
        "base": Base,
        "data": Data,
        "features": Features,
        "split": Split,
        "resample": Resample,
        "model": Model,
        "evaluate": Evaluate,
        "engine": Engine,
    }
    missing = sorted(set(classes) - set(raw))
    if missing:
        _fail(missing[0], "missing section")
    return Params(**{name: _section(cls, name, raw[name]) for name, cls in classes.items()})


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml (the file DVC tracks)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"params: {path} not found (run `make params`)") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"params: {path} is not valid YAML: {exc}") from None
    return parse_params(raw)
