"""A seeded stand-in for the course file: same schema, similar distributions.

Used where `data/raw/tiktok_dataset.csv` is absent (a fresh clone, a CI run without data) and
by the benchmarks, which need millions of rows. The figures below were read off the course file
(19,084 complete rows): claims are ~50% of videos; 2.2% of claim videos and 10.5% of opinion
videos have verified authors; claim videos have ~100x the views of opinions; ban status
depends on claim status; 1.5% of rows lack the claim status, text and counts (`#N/A`).

Written chunk by chunk, so 10M rows stream to disk in bounded memory: rows are drawn as numpy
codes and counts, strings come from small Enum tables, and the next chunk is generated while
the current one is written (`benchmarks/RESULTS.md`).
"""

from __future__ import annotations

import argparse
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from tiktok_verified.data import schema

P_CLAIM = 0.503
P_VERIFIED = {"claim": 0.0218, "opinion": 0.1046}
BAN_STATUS = ("active", "under review", "banned")
P_BAN = {"claim": (0.683, 0.167, 0.150), "opinion": (0.930, 0.049, 0.021)}
VIEWS = {"claim": (1_000, 1_000_000), "opinion": (20, 10_000)}
P_INCOMPLETE = 298 / 19_382
CHUNK_ROWS = 1_000_000

CLAIM_OPENERS = (
    "someone shared with me that",
    "a friend read in the media that",
    "a colleague learned from the news that",
    "someone read in a contest that",
    "i learned from a discussion board that",
    "a friend discovered on the internet that",
    "i read on a website that",
    "someone learned on a podcast that",
)
OPINION_OPENERS = (
    "i think that",
    "i believe that",
    "my friends are willing to bet that",
    "i'm of the opinion that",
    "my family's opinion is that",
    "i'm willing to wager that",
)
FACTS = (
    "drone deliveries are already happening and will become common by 2025",
    "there are more microorganisms in one teaspoon of soil than people on the planet",
    "the longest recorded flight of a chicken is thirteen seconds",
    "the metro of st. petersburg is the deepest metro in the world",
    "octopuses have three hearts and blue blood",
    "honey never spoils, even after thousands of years",
    "a day on venus is longer than a year on venus",
    "humans will live on mars by 2035",
    "we will all fly with individual jetpacks by 2032",
    "bananas are berries but strawberries are not",
    "the eiffel tower can grow more than six inches in summer",
    "sharks existed before trees appeared on earth",
    "a group of flamingos is called a flamboyance",
    "the human nose can detect over one trillion different scents",
    "wombats produce cube-shaped droppings",
    "the shortest war in history lasted thirty-eight minutes",
)

#: Column order of the course file.
HEADER = tuple(schema.COLUMNS)

# An odd multiplier coprime with 9e9 maps row numbers to distinct 10-digit ids.
_ID_MULTIPLIER = 2_654_435_761
_ID_SPAN = 9_000_000_000


def _video_ids(start: int, n: int) -> np.ndarray:
    idx = np.arange(start, start + n, dtype=np.int64)
    return 1_000_000_000 + (idx * _ID_MULTIPLIER) % _ID_SPAN


#: Every transcription is an opener followed by a fact: claim texts first, then opinion texts.
TEXTS = tuple(f"{o} {f}" for o in (*CLAIM_OPENERS, *OPINION_OPENERS) for f in FACTS)
#: Beta(a, b) shares: likes of views, shares of likes, downloads of shares, comments of downloads.
BETA_SHARES = ((1.6, 4.0), (1.5, 6.0), (1.5, 20.0), (1.2, 3.6))


def _pick(values: tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """A string column from small integer codes, as an Enum: no Python strings per row."""
    return pl.Series(values, dtype=pl.Enum(values)).gather(pl.Series(codes, dtype=pl.UInt32))


def generate_chunk(start: int, n: int, seed: int) -> pl.DataFrame:
    """Rows `start .. start+n-1` of the stand-in; each chunk has its own derived seed.

    Vectorised end to end: numpy draws integer codes and counts, polars turns codes into
    (Enum) strings, so no per-row Python object is made; 1M rows take a fraction of a second.
    """
    rng = np.random.default_rng([seed, start])
    is_claim = rng.random(n) < P_CLAIM
    is_opinion = (~is_claim).astype(np.uint32)

    p_verified = np.where(is_claim, P_VERIFIED["claim"], P_VERIFIED["opinion"])
    verified = (rng.random(n) < p_verified).astype(np.uint32)

    u = rng.random(n)
    ban = np.where(
        is_claim,
        np.searchsorted(np.cumsum(P_BAN["claim"]), u),
        np.searchsorted(np.cumsum(P_BAN["opinion"]), u),
    ).clip(0, 2)

    lo = np.where(is_claim, VIEWS["claim"][0], VIEWS["opinion"][0])
    hi = np.where(is_claim, VIEWS["claim"][1], VIEWS["opinion"][1])
    views = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    counts = [views]
    for a, b in BETA_SHARES:
        counts.append(np.rint(counts[-1] * rng.beta(a, b, n)).astype(np.int64))

    # Text code: opener (claim openers for claims, opinion openers otherwise), then a fact.
    opener = np.where(
        is_claim,
        rng.integers(0, len(CLAIM_OPENERS), n),
        len(CLAIM_OPENERS) + rng.integers(0, len(OPINION_OPENERS), n),
    )
    text = opener * len(FACTS) + rng.integers(0, len(FACTS), n)
    missing = pl.Series(rng.random(n) < P_INCOMPLETE)

    frame = pl.DataFrame(
        {
            "#": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "claim_status": _pick(schema.CATEGORIES["claim_status"], is_opinion),
            "video_id": _video_ids(start, n),
            "video_duration_sec": rng.integers(5, 61, n),
            schema.TEXT: _pick(TEXTS, text),
            schema.OUTCOME: _pick(schema.CATEGORIES[schema.OUTCOME], verified),
            "author_ban_status": _pick(BAN_STATUS, ban),
            **dict(zip(schema.COUNT_COLUMNS, counts, strict=True)),
        }
    )
    # Incomplete rows (as in the course file) lack the claim status, text and counts.
    return frame.with_columns(
        pl.when(missing).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("claim_status", schema.TEXT, *schema.COUNT_COLUMNS)
    ).select(HEADER)


def write_csv_to(fh: BinaryIO, n_rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> None:
    """Stream `n_rows` stand-in rows into a binary file in the course file's format.

    The next chunk is generated in a worker thread while the current one is written (numpy's
    generator and polars' writer release the GIL), so at most two chunks are in memory."""
    starts = range(0, n_rows, chunk_rows)

    def make(start: int) -> pl.DataFrame:
        return generate_chunk(start, min(chunk_rows, n_rows - start), seed)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(make, starts[0]) if starts else None
        for k, start in enumerate(starts):
            chunk = pending.result()
            pending = pool.submit(make, starts[k + 1]) if k + 1 < len(starts) else None
            chunk.write_csv(
                fh, include_header=start == 0, null_value="#N/A", line_terminator="\r\n"
            )


def write_csv(path: str | Path, n_rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> None:
    """Stream `n_rows` stand-in rows to `path` (CRLF endings, `#N/A` for missing, as the course)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        write_csv_to(fh, n_rows, seed, chunk_rows)


def csv_bytes(n_rows: int, seed: int) -> bytes:
    """The stand-in as CSV bytes, for in-memory use at the course file's size."""
    buf = io.BytesIO()
    write_csv_to(buf, n_rows, seed)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=19_382)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    write_csv(args.out, args.rows, args.seed)


if __name__ == "__main__":
    main()
