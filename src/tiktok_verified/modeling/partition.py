"""Which part a video belongs to, and which rows resampling copies: the rules both engines run.

The split is a seeded hash of `video_id`: a video is held out when its hash, read as a number in
[0, 1), is below `test_size`. So a video's part depends only on its id and the seed:
- both engines put every video in the same part (the Spark engine runs these very functions on
  Arrow batches, `mapInArrow`);
- adding rows to the data never moves a video that was already there, so the held-out set stays
  comparable across data versions (`dvc metrics diff` between two versions of the data);
- each class is split at `test_size` in expectation, and split.json records the share each class
  actually got (a hash cannot hit a quota exactly; 1,200 verified videos are held out at
  25% ± 1.3%, one standard deviation).

The hash is splitmix64's finaliser (Steele, Lea & Flood 2014, the mixer of Java's
SplittableRandom): numpy's wrapping uint64 arithmetic computes it exactly, on any machine.

Resampling draws (`upsample_draws`, `downsample_keep`) order the class's videos by id before
drawing with numpy's seeded generator, so the draws do not depend on the order in which an
engine happens to hold the rows. Only numpy here: Spark's Python workers import this module.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_UNIT = 2.0**-53


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of each uint64 value (wrapping arithmetic, as in C)."""
    z = np.asarray(values, dtype=np.uint64).reshape(-1) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def unit_draw(video_ids: np.ndarray, seed: int, copies: np.ndarray | None = None) -> np.ndarray:
    """A number in [0, 1) for each (video id, copy) under `seed`, the same on every machine.

    `copies` numbers the copies of a video (0 for the video itself); only the course's
    `exemplar` protocol, which upsamples before splitting, has copies to number."""
    ids = np.asarray(video_ids, dtype=np.int64).reshape(-1).view(np.uint64)
    key = mix64(ids ^ mix64(np.array([seed], dtype=np.uint64))[0])
    if copies is not None:
        key = mix64(key ^ np.asarray(copies, dtype=np.uint64).reshape(-1))
    return (key >> np.uint64(11)).astype(np.float64) * _UNIT


def held_out(
    video_ids: np.ndarray, seed: int, test_size: float, copies: np.ndarray | None = None
) -> np.ndarray:
    """True for the rows of the test part."""
    return unit_draw(video_ids, seed, copies) < test_size


def upsample_draws(minority_ids: np.ndarray, majority_rows: int, seed: int) -> np.ndarray:
    """Copies each minority video gets (1 + its extra draws), in `minority_ids` order: extra
    videos drawn with replacement, by id order, until the minority has the majority's count."""
    ids = np.asarray(minority_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    rng = np.random.default_rng(seed)
    extra = rng.integers(0, len(ids), majority_rows - len(ids))
    copies = np.ones(len(ids), dtype=np.int64)
    copies[order] += np.bincount(extra, minlength=len(ids))
    return copies


def downsample_keep(majority_ids: np.ndarray, minority_rows: int, seed: int) -> np.ndarray:
    """True for the majority videos kept: a seeded draw without replacement, by id order, of
    as many as the minority has."""
    ids = np.asarray(majority_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(ids), dtype=bool)
    keep[order[rng.choice(len(ids), minority_rows, replace=False)]] = True
    return keep
