"""What the reports are made from: the metrics files (with the md5 of each, as dvc.lock
records them) and the params, read once into `Inputs`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tiktok_verified import contracts
from tiktok_verified.files import md5_file

SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these figures come from the seeded stand-in, NOT the course file. "
    "Do not quote them."
)
#: The metrics files a report is made from, by field of `Inputs`.
INPUT_FILES = {
    "data": "data.json",
    "features": "features.json",
    "split": "split.json",
    "metrics": "metrics.json",
    "confusion": "confusion_matrix.json",
    "coefficients": "coefficients.json",
    "specifications": "specifications.json",
    "predictor": "predictor.json",
    "assumptions": "assumptions.json",
    "cv": "cv.json",
}


@dataclass(frozen=True)
class Inputs:
    """Everything the reports say, read from the pipeline's outputs."""

    data: dict
    features: dict
    split: dict
    metrics: dict
    confusion: dict
    coefficients: dict
    specifications: dict
    predictor: dict
    assumptions: dict
    cv: dict
    #: md5 of each metrics file read, as dvc.lock records the report stage's deps.
    md5: dict
    #: The params the report names (params.yaml, as the stage read it).
    params: dict

    @property
    def synthetic(self) -> bool:
        return self.data["source"] != "real"


def load_inputs(metrics_dir: Path, params: dict) -> Inputs:
    """Read the metrics files, each checked against its contract (`contracts`: a missing or
    renamed key stops here in one line, never a blank in a report), with the md5 of each (what
    dvc.lock records for them)."""
    read = {key: contracts.read(metrics_dir / name) for key, name in INPUT_FILES.items()}
    read["predictor"] = read["predictor"]["predictor"]
    return Inputs(
        **read,
        md5={name: md5_file(metrics_dir / name) for name in INPUT_FILES.values()},
        params=params,
    )
