"""A seeded stand-in for the course file: same schema, similar distributions.

Used where `data/raw/tiktok_dataset.csv` is absent (a fresh clone, a CI run without data) and
by the benchmarks, which need millions of rows. The figures below were read off the course file
(19,084 complete rows): claims are ~50% of videos; 2.2% of claim videos and 10.5% of opinion
videos have verified authors; claim videos have ~100x the views of opinions; ban status
depends on claim status; 1.5% of rows lack the claim status, text and counts (`#N/A`).

Written chunk by chunk, so 10M rows stream to disk in bounded memory.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from tiktok_verified import schema

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


def generate_chunk(start: int, n: int, seed: int) -> pl.DataFrame:
    """Rows `start .. start+n-1` of the stand-in; each chunk has its own derived seed."""
    rng = np.random.default_rng([seed, start])
    is_claim = rng.random(n) < P_CLAIM
    claim_status = np.where(is_claim, "claim", "opinion")

    p_verified = np.where(is_claim, P_VERIFIED["claim"], P_VERIFIED["opinion"])
    verified = np.where(rng.random(n) < p_verified, schema.POSITIVE, schema.NEGATIVE)

    u = rng.random(n)
    cum_claim = np.cumsum(P_BAN["claim"])
    cum_opinion = np.cumsum(P_BAN["opinion"])
    ban_idx = np.where(
        is_claim, np.searchsorted(cum_claim, u), np.searchsorted(cum_opinion, u)
    ).clip(0, 2)
    ban = np.asarray(BAN_STATUS)[ban_idx]

    lo = np.where(is_claim, VIEWS["claim"][0], VIEWS["opinion"][0])
    hi = np.where(is_claim, VIEWS["claim"][1], VIEWS["opinion"][1])
    views = rng.integers(lo, hi)
    likes = np.rint(views * rng.beta(1.6, 4.0, n)).astype(np.int64)
    shares = np.rint(likes * rng.beta(1.5, 6.0, n)).astype(np.int64)
    downloads = np.rint(shares * rng.beta(1.5, 20.0, n)).astype(np.int64)
    comments = np.rint(downloads * rng.beta(1.2, 3.6, n)).astype(np.int64)

    opener_claim = rng.integers(0, len(CLAIM_OPENERS), n)
    opener_opinion = rng.integers(0, len(OPINION_OPENERS), n)
    fact = rng.integers(0, len(FACTS), n)

    frame = pl.DataFrame(
        {
            "#": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "claim_status": claim_status,
            "video_id": _video_ids(start, n),
            "video_duration_sec": rng.integers(5, 61, n),
            "_claim_opener": opener_claim,
            "_opinion_opener": opener_opinion,
            "_fact": fact,
            "verified_status": verified,
            "author_ban_status": ban,
            "video_view_count": views,
            "video_like_count": likes,
            "video_share_count": shares,
            "video_download_count": downloads,
            "video_comment_count": comments,
            "_incomplete": rng.random(n) < P_INCOMPLETE,
        }
    )
    opener = (
        pl.when(pl.col("claim_status") == "claim")
        .then(pl.col("_claim_opener").replace_strict(dict(enumerate(CLAIM_OPENERS))))
        .otherwise(pl.col("_opinion_opener").replace_strict(dict(enumerate(OPINION_OPENERS))))
    )
    text = pl.concat_str(
        [opener, pl.col("_fact").replace_strict(dict(enumerate(FACTS)))], separator=" "
    )
    missing = pl.col("_incomplete")
    blanked = [
        pl.when(missing).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("claim_status", *schema.COUNT_COLUMNS)
    ]
    return frame.with_columns(
        pl.when(missing).then(None).otherwise(text).alias(schema.TEXT), *blanked
    ).select(HEADER)


def write_csv_to(fh: BinaryIO, n_rows: int, seed: int, chunk_rows: int = CHUNK_ROWS) -> None:
    """Stream `n_rows` stand-in rows into a binary file in the course file's format."""
    for start in range(0, n_rows, chunk_rows):
        chunk = generate_chunk(start, min(chunk_rows, n_rows - start), seed)
        chunk.write_csv(fh, include_header=start == 0, null_value="#N/A", line_terminator="\r\n")


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
