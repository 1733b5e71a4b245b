"""The claims classification dataset's columns, types and allowed values: one source of truth."""

from __future__ import annotations

#: The course file's name in data/raw/.
RAW_NAME = "tiktok_dataset.csv"

ROW_NUMBER = "#"
VIDEO_ID = "video_id"
OUTCOME = "verified_status"
TEXT = "video_transcription_text"

#: The outcome coded 0/1 (verified = 1) in the features and the training and test parts.
Y = "y"
#: Frequency weight of a training row: how many copies of it the resampled rows hold.
WEIGHT = "weight"

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

#: Columns of the course file, in the course file's order, with the type each parses to
#: (whole numbers as 64-bit integers, the rest as text). Plain names, so that reading the
#: schema costs no import; `interim_schema` gives the polars dtypes.
COLUMNS: dict[str, str] = {
    ROW_NUMBER: "int",
    "claim_status": "text",
    VIDEO_ID: "int",
    DURATION: "int",
    TEXT: "text",
    OUTCOME: "text",
    "author_ban_status": "text",
    **{c: "int" for c in COUNT_COLUMNS},
}

#: Integer columns that must be >= 0.
NON_NEGATIVE: tuple[str, ...] = (DURATION, *COUNT_COLUMNS)
NUMERIC_COLUMNS: tuple[str, ...] = (ROW_NUMBER, VIDEO_ID, DURATION, *COUNT_COLUMNS)

#: Spellings of a missing value accepted in the CSV (Excel/Sheets, pandas, R).
NULL_VALUES: tuple[str, ...] = ("", "#N/A", "NA", "N/A")

#: Columns that may legitimately be missing together (the course file's 298 incomplete rows);
#: a row missing any of them is dropped and counted as incomplete.
NULLABLE: tuple[str, ...] = ("claim_status", TEXT, *COUNT_COLUMNS)


def interim_schema() -> dict:
    """Polars dtypes of the cleaned interim table: Int64 numbers, String text, Enum categories."""
    import polars as pl

    kinds = {"int": pl.Int64(), "text": pl.String()}
    return {
        name: pl.Enum(list(CATEGORIES[name])) if name in CATEGORIES else kinds[kind]
        for name, kind in COLUMNS.items()
    }
