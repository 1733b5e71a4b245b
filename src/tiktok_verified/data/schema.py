"""The claims classification dataset's columns, types and allowed values: one source of truth."""

from __future__ import annotations

import polars as pl

ROW_NUMBER = "#"
VIDEO_ID = "video_id"
OUTCOME = "verified_status"
TEXT = "video_transcription_text"

#: Positive class of the outcome (coded 1).
POSITIVE = "verified"
NEGATIVE = "not verified"

#: Categorical columns and their allowed values, in a fixed order (the first is the
#: reference level dropped by one-hot encoding).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "claim_status": ("claim", "opinion"),
    OUTCOME: (NEGATIVE, POSITIVE),
    "author_ban_status": ("active", "under review", "banned"),
}

COUNT_COLUMNS: tuple[str, ...] = (
    "video_view_count",
    "video_like_count",
    "video_share_count",
    "video_download_count",
    "video_comment_count",
)
DURATION = "video_duration_sec"

#: Columns of the course file, in the course file's order, with the dtype each parses to.
COLUMNS: dict[str, pl.DataType] = {
    ROW_NUMBER: pl.Int64(),
    "claim_status": pl.String(),
    VIDEO_ID: pl.Int64(),
    DURATION: pl.Int64(),
    TEXT: pl.String(),
    OUTCOME: pl.String(),
    "author_ban_status": pl.String(),
    **{c: pl.Int64() for c in COUNT_COLUMNS},
}

#: Integer columns that must be >= 0.
NON_NEGATIVE: tuple[str, ...] = (DURATION, *COUNT_COLUMNS)
NUMERIC_COLUMNS: tuple[str, ...] = (ROW_NUMBER, VIDEO_ID, DURATION, *COUNT_COLUMNS)

#: Spellings of a missing value accepted in the CSV (Excel/Sheets, pandas, R).
NULL_VALUES: tuple[str, ...] = ("", "#N/A", "NA", "N/A")

#: Columns that may legitimately be missing together (the course file's 298 incomplete rows);
#: a row missing any of them is dropped and counted as incomplete.
NULLABLE: tuple[str, ...] = ("claim_status", TEXT, *COUNT_COLUMNS)


#: Dtypes of the cleaned interim table (compact: counts fit in Int64, categories as Enum).
def interim_schema() -> dict[str, pl.DataType]:
    out: dict[str, pl.DataType] = {}
    for name, dtype in COLUMNS.items():
        out[name] = pl.Enum(list(CATEGORIES[name])) if name in CATEGORIES else dtype
    return out
