"""bench/story_entities.py: are the people and organisations a wire service filed a story under
among the story's tags?

Reuters labels each story with PEOPLE codes ("reagan", "james-baker") and ORGS codes ("opec",
"ec"); the table bench/data/reuters_people_orgs.csv maps the most frequent of them to the tags
nutgraf should give (REUTERS_CODE, KIND, TAG_TYPE, TAG_VALUES). A story labelled with a mapped
code is *found* for it when any of the story's tags has the mapped TAG_TYPE and one of the
mapped values as TAG_VALUE, compared in lower case (no other folding: no accents removed, no
surname or substring matches). Recall is the share of (story, code) pairs found. A person missed
is also marked SURNAME_ONLY when the story has a person tag that is the end of a mapped name
("Reagan" of "Ronald Reagan", "du Plessis" of "Barend du Plessis"): the tagger saw the person but
did not give the full name, which says where a miss comes from, not that it is a hit.

Nothing here reads files or the warehouse: an evaluation script reads the stories' tags, the
labels and the mapping, and passes frames in.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms import schema as S

MAPPING_FILE = Path(__file__).resolve().parent / "data" / "reuters_people_orgs.csv"
VALUE_SEPARATOR = "|"

# Columns of the label and mapping frames and of the recall report.
REUTERS_CODE = "reuters_code"  # a Reuters PEOPLE or ORGS code ("reagan"), as in the metadata
KIND = "kind"  # which metadata field the code is in: PEOPLE or ORGS
PEOPLE = "people"
ORGS = "orgs"
TAG_VALUES = "tag_values"  # VALUE_SEPARATOR-separated tag values that name the person or body
NOTE = "note"
FOUND = "found"  # the story has a tag with a mapped value
SURNAME_ONLY = "surname_only"  # a person not found, but the end of a mapped name is a tag
STORIES = "stories"  # stories labelled with the code (in a total row: (story, code) pairs)
MISSED = "missed"
RECALL = "recall"
ALL = "all"  # REUTERS_CODE of a KIND's micro-recall row

MAPPING = pl.Schema(
    {
        REUTERS_CODE: pl.String,
        KIND: pl.String,
        S.TAG_TYPE: pl.String,
        TAG_VALUES: pl.String,
        NOTE: pl.String,
    }
)
LABELS = pl.Schema({S.ARTICLE_ID: pl.String, KIND: pl.String, REUTERS_CODE: pl.String})
"""One row per story and label; a story's ARTICLE_ID is whatever key its tags carry."""
STORY_TAGS = pl.Schema({S.ARTICLE_ID: pl.String, S.TAG_TYPE: pl.String, S.TAG_VALUE: pl.String})
JUDGED = pl.Schema({**LABELS, FOUND: pl.Boolean, SURNAME_ONLY: pl.Boolean})
RECALLS = pl.Schema(
    {
        KIND: pl.String,
        REUTERS_CODE: pl.String,
        STORIES: pl.UInt32,
        FOUND: pl.UInt32,
        MISSED: pl.UInt32,
        SURNAME_ONLY: pl.UInt32,
        RECALL: pl.Float64,
    }
)
"""code_recall and micro_recall: counts and recall per code, or per KIND over all its pairs."""


def read_mapping(path: Path = MAPPING_FILE) -> pl.DataFrame:
    """The mapping table (CSV with a header, # comments) -> MAPPING."""
    return pl.read_csv(path, schema=MAPPING, comment_prefix="#")


def _name_ends(values: pl.DataFrame, key: str) -> pl.DataFrame:
    """Mapped person values (KIND, REUTERS_CODE, TAG_TYPE, `key` in lower case) -> the same
    rows for every ending of each value after one of its spaces."""
    words = pl.col(key).str.split(" ")
    return (
        values.filter(pl.col(S.TAG_TYPE) == "person")
        .with_columns(pl.int_ranges(1, words.list.len()).alias("_from"))
        .explode("_from")
        .drop_nulls("_from")
        .with_columns(words.list.slice(pl.col("_from")).list.join(" ").alias(key))
        .drop("_from")
    )


def story_hits(tags: pl.DataFrame, labels: pl.DataFrame, mapping: pl.DataFrame) -> pl.DataFrame:
    """Story tags + labels + mapping -> JUDGED: one row per distinct (story, code) the mapping
    names, FOUND when a tag of the story has the code's TAG_TYPE and one of its TAG_VALUES
    (lower case on both sides); SURNAME_ONLY when not FOUND but a person tag is the ending of a
    mapped person value after a space.

    - `tags`: ARTICLE_ID, TAG_TYPE, TAG_VALUE (other columns ignored); a story may have none.
    - `labels`: LABELS; codes the mapping does not name (for their KIND) are ignored.
    - `mapping`: MAPPING.
    Rows come in the labels' order of first appearance.
    """
    key = "_value"
    values = mapping.select(
        KIND,
        REUTERS_CODE,
        S.TAG_TYPE,
        pl.col(TAG_VALUES).str.split(VALUE_SEPARATOR).alias(key),
    ).explode(key)
    values = values.with_columns(pl.col(key).str.strip_chars().str.to_lowercase())
    present = tags.select(
        S.ARTICLE_ID, S.TAG_TYPE, pl.col(S.TAG_VALUE).str.to_lowercase().alias(key)
    ).unique()

    def pairs_with(wanted: pl.DataFrame, column: str) -> pl.DataFrame:
        return (
            present.join(wanted, on=[S.TAG_TYPE, key], how="inner")
            .select(S.ARTICLE_ID, KIND, REUTERS_CODE)
            .unique()
            .with_columns(pl.lit(True).alias(column))
        )

    on = [S.ARTICLE_ID, KIND, REUTERS_CODE]
    return (
        labels.select(*on)
        .unique(maintain_order=True)
        .join(mapping.select(KIND, REUTERS_CODE), on=[KIND, REUTERS_CODE], how="semi")
        .join(pairs_with(values, FOUND), on=on, how="left", maintain_order="left")
        .join(
            pairs_with(_name_ends(values, key), SURNAME_ONLY),
            on=on,
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col(FOUND).fill_null(False))
        .with_columns((~pl.col(FOUND) & pl.col(SURNAME_ONLY).fill_null(False)).alias(SURNAME_ONLY))
        .pipe(S.conform, JUDGED)
    )


def _counts(judged: pl.DataFrame, *by: str) -> pl.DataFrame:
    return judged.group_by(*by).agg(
        pl.len().alias(STORIES),
        pl.col(FOUND).sum(),
        (~pl.col(FOUND)).sum().alias(MISSED),
        pl.col(SURNAME_ONLY).sum(),
        pl.col(FOUND).mean().alias(RECALL),
    )


def code_recall(judged: pl.DataFrame) -> pl.DataFrame:
    """JUDGED -> RECALLS, one row per code: most stories first, then by KIND and code."""
    return (
        _counts(judged, KIND, REUTERS_CODE)
        .sort([STORIES, KIND, REUTERS_CODE], descending=[True, False, False])
        .pipe(S.conform, RECALLS)
    )


def micro_recall(judged: pl.DataFrame) -> pl.DataFrame:
    """JUDGED -> RECALLS, one row per KIND (REUTERS_CODE = ALL) over all its (story, code)
    pairs, KINDs in alphabetical order."""
    return (
        _counts(judged, KIND)
        .with_columns(pl.lit(ALL).alias(REUTERS_CODE))
        .sort(KIND)
        .pipe(S.conform, RECALLS)
    )


def most_missed(recalls: pl.DataFrame, kind: str, n: int = 5) -> pl.DataFrame:
    """code_recall rows of one KIND with the most missed stories first (ties: lower recall,
    then code), the first `n`."""
    return (
        recalls.filter((pl.col(KIND) == kind) & (pl.col(MISSED) > 0))
        .sort([MISSED, RECALL, REUTERS_CODE], descending=[True, False, False])
        .head(n)
    )
