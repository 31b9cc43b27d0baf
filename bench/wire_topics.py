"""bench/wire_topics.py: does nutgraf's topic ranking agree with a wire service's own topics?

Reuters files each story under its own topics ("earn", "acq", "grain"...); the table
bench/data/reuters_topics.csv maps the ten most frequent of them to nutgraf's IPTC vocabulary
(REUTERS_TOPIC -> IPTC_TOPIC, a top-level slug or a "parent/child" subtopic). A story agrees on
one of its Reuters topics when the mapped IPTC topic is among the article's first AGREE_WITHIN
topics *at the mapped level*: a subtopic among the article's subtopics, ranked by summed score
as :func:`transforms.tagging.article_topics` ranks top-level topics (see :func:`article_subtopics`);
a top-level topic among its top-level topics. ``top_level=True`` measures every mapping at its
top-level parent instead.

Nothing here reads files or the warehouse: an evaluation script reads the stories, the labels
and the mapping, and passes frames in.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.tagging import ARTICLE_TOPICS, RANK, SHARE, TOPIC

MAPPING_FILE = Path(__file__).resolve().parent / "data" / "reuters_topics.csv"
AGREE_WITHIN = 2  # the mapped topic must be the article's first or second

# Columns of the label and mapping frames and of the agreement report.
REUTERS_TOPIC = "reuters_topic"  # a Reuters topic code ("earn"), as in the corpus metadata
IPTC_TOPIC = "iptc_topic"  # a slug of nutgraf's topic vocabulary ("economy-business-finance/...")
NOTE = "note"
STORIES = "stories"  # stories filed under the Reuters topic (overall: under any mapped one)
AGREEING = "agreeing"
OVERALL_STRICT = "all (every mapped topic)"  # REUTERS_TOPIC of the strict overall row
OVERALL_ANY = "all (any mapped topic)"  # REUTERS_TOPIC of the loose overall row

MAPPING = pl.Schema({REUTERS_TOPIC: pl.String, IPTC_TOPIC: pl.String, NOTE: pl.String})
LABELS = pl.Schema({S.ARTICLE_ID: pl.String, REUTERS_TOPIC: pl.String})
COUNTS = pl.Schema(
    {REUTERS_TOPIC: pl.String, IPTC_TOPIC: pl.String, STORIES: pl.UInt32, AGREEING: pl.UInt32}
)
AGREEMENT = pl.Schema({**COUNTS, SHARE: pl.Float64})
"""topic_agreement: one row per mapped Reuters topic, then OVERALL_STRICT and OVERALL_ANY."""


def read_mapping(path: Path = MAPPING_FILE) -> pl.DataFrame:
    """The mapping table (CSV with a header) -> MAPPING."""
    return pl.read_csv(path, schema=MAPPING)


def article_subtopics(tags: pl.DataFrame, occurrences: pl.DataFrame) -> pl.DataFrame:
    """TAGS + OCCURRENCES (ARTICLE_ID, PARAGRAPH_HASH) -> ARTICLE_TOPICS for subtopics.

    :func:`transforms.tagging.article_topics`'s roll-up applied to the subtopic tags ("parent/child"
    values) instead of the top-level ones: SCORE summed over the article's occurrences, SHARE of
    the article's subtopic scores, RANK 1, 2, ... by SCORE descending, ties by TOPIC ascending.
    An article's subtopics are ranked together, whatever their parents.
    """
    subtopics = tags.filter(
        (pl.col(S.TAG_TYPE) == "topic") & pl.col(S.TAG_VALUE).str.contains("/", literal=True)
    ).select(S.PARAGRAPH_HASH, pl.col(S.TAG_VALUE).alias(TOPIC), S.SCORE)
    scores = (
        occurrences.select(S.ARTICLE_ID, S.PARAGRAPH_HASH)
        .join(subtopics, on=S.PARAGRAPH_HASH, how="inner")
        .group_by(S.ARTICLE_ID, TOPIC)
        .agg(pl.col(S.SCORE).sum())
        .sort(S.ARTICLE_ID, S.SCORE, TOPIC, descending=[False, True, False])
    )
    return scores.with_columns(
        (pl.col(S.SCORE) / pl.col(S.SCORE).sum().over(S.ARTICLE_ID)).alias(SHARE),
        pl.int_range(1, pl.len() + 1).over(S.ARTICLE_ID).alias(RANK),
    ).pipe(S.conform, ARTICLE_TOPICS)


def topic_agreement(
    article_topics: pl.DataFrame,
    labels: pl.DataFrame,
    mapping: pl.DataFrame,
    *,
    top_level: bool = False,
    within: int = AGREE_WITHIN,
) -> pl.DataFrame:
    """Ranked article topics + wire labels + mapping -> AGREEMENT.

    - `article_topics`: ARTICLE_ID, TOPIC, RANK (other columns ignored). Top-level rows ranked
      among the article's top-level topics (the warehouse view ``article_topics``,
      :func:`transforms.tagging.article_topics`) and, to measure subtopic mappings, subtopic rows
      ranked among its subtopics (:func:`article_subtopics`); concatenate the two.
    - `labels`: ARTICLE_ID, REUTERS_TOPIC, one row per story and wire topic; topics the mapping
      does not name are ignored, and so are stories with none of them. A labelled story
      without any topic row counts as disagreeing.
    - `mapping`: REUTERS_TOPIC, IPTC_TOPIC (MAPPING; one row per Reuters topic).

    A story agrees on one of its Reuters topics when the mapped IPTC topic (its top-level
    parent when `top_level`) has RANK <= `within`. Rows: one per mapped Reuters topic (stories
    filed under it, how many agree on it, SHARE = agreeing / stories), in the mapping's order;
    then OVERALL_STRICT (stories agreeing on every mapped topic they are filed under) and
    OVERALL_ANY (on at least one), over stories filed under any mapped topic.
    """
    target = pl.col(IPTC_TOPIC)
    if top_level:
        target = target.str.split("/").list.first()
    mapped = mapping.select(REUTERS_TOPIC, target.alias(TOPIC)).with_row_index("order")
    ranked = article_topics.select(S.ARTICLE_ID, TOPIC, (pl.col(RANK) <= within).alias(AGREEING))
    judged = (
        labels.select(S.ARTICLE_ID, REUTERS_TOPIC)
        .unique()
        .join(mapped, on=REUTERS_TOPIC, how="inner")
        .join(ranked, on=[S.ARTICLE_ID, TOPIC], how="left")
        .with_columns(pl.col(AGREEING).fill_null(False))
    )
    per_topic = (
        judged.group_by("order", REUTERS_TOPIC, TOPIC)
        .agg(pl.len().alias(STORIES), pl.col(AGREEING).sum())
        .sort("order")
        .select(REUTERS_TOPIC, pl.col(TOPIC).alias(IPTC_TOPIC), STORIES, AGREEING)
    )
    stories = judged.group_by(S.ARTICLE_ID).agg(
        pl.col(AGREEING).all().alias(OVERALL_STRICT), pl.col(AGREEING).any().alias(OVERALL_ANY)
    )
    overall = pl.DataFrame(
        {
            REUTERS_TOPIC: [OVERALL_STRICT, OVERALL_ANY],
            IPTC_TOPIC: [None, None],
            STORIES: [stories.height, stories.height],
            AGREEING: [stories[OVERALL_STRICT].sum(), stories[OVERALL_ANY].sum()],
        },
        schema=COUNTS,
    )
    return (
        pl.concat([per_topic.pipe(S.conform, COUNTS), overall])
        .with_columns((pl.col(AGREEING) / pl.col(STORIES)).alias(SHARE))
        .pipe(S.conform, AGREEMENT)
    )
