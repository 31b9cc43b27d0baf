"""The topic tagger: IPTC Media Topics from keyword rules, and the roll-up to articles.

A paragraph gets a topic when the weights of the topic's keywords found in it (ASCII
case-insensitive, whole words, ``*`` a prefix; data/topics.toml) reach the threshold; a
subtopic's keywords count towards its parent too. :func:`article_topics` ranks each article's
top-level topics, the same rule as the warehouse view of that name.
"""

from __future__ import annotations

import polars as pl

from transforms.gazetteer import IS_PREFIX, KEYWORD, WEIGHT, Gazetteer
from transforms.schema import (
    ARTICLE_ID,
    PARAGRAPH_HASH,
    SCORE,
    TAG_TYPE,
    TAG_VALUE,
    conform,
)
from transforms.tagging.frames import ENDS_WORD, MATCH, ROW


def topic_patterns(gazetteer: Gazetteer) -> pl.Series:
    """What the topic tagger searches for on its own: its keywords, each once."""
    return gazetteer.topic_rules[KEYWORD].unique(maintain_order=True)


def topic_tags(found: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """find_matches rows (case-insensitive, any patterns) -> ROW + TAGS columns for topics."""
    rules = _with_parent_rules(gazetteer.topic_rules)
    hits = (
        found.select(ROW, MATCH, ENDS_WORD)
        .join(rules.rename({KEYWORD: MATCH}), on=MATCH, how="inner")
        .filter(pl.col(ENDS_WORD) | pl.col(IS_PREFIX))
    )
    scores = (
        hits.group_by(ROW, TAG_VALUE)
        .agg(pl.col(WEIGHT).sum().alias(SCORE))
        .filter(pl.col(SCORE) >= gazetteer.topic_threshold)
    )
    return scores.with_columns(pl.lit("topic").alias(TAG_TYPE))


def _with_parent_rules(rules: pl.DataFrame) -> pl.DataFrame:
    """TOPIC_RULES + a copy of each subtopic rule for its parent: a subtopic's weight also
    counts towards its parent ("politics/diplomacy" -> "politics")."""
    parents = rules.filter(pl.col(TAG_VALUE).str.contains("/", literal=True)).with_columns(
        pl.col(TAG_VALUE).str.split("/").list.first()
    )
    return pl.concat([rules, parents])


TOPIC = "topic"  # a top-level topic slug (TAG_VALUE of a topic tag without "/")
SHARE = "share"  # the topic's share of its article's summed top-level topic scores
RANK = "rank"  # 1 = the article's primary topic
ARTICLE_TOPICS = pl.Schema(
    {ARTICLE_ID: pl.String, TOPIC: pl.String, SCORE: pl.Float64, SHARE: pl.Float64, RANK: pl.Int32}
)
"""article_topics: one row per article and top-level topic found in its paragraphs."""


def article_topics(tags: pl.DataFrame, occurrences: pl.DataFrame) -> pl.DataFrame:
    """TAGS (topic rows used) + OCCURRENCES (ARTICLE_ID, PARAGRAPH_HASH) -> ARTICLE_TOPICS.

    The roll-up rule, the same as the SQL view of that name:

    - only top-level topic tags count (TAG_TYPE 'topic', TAG_VALUE without '/'): a subtopic's
      keywords already count towards its parent's score;
    - SCORE = the sum of the paragraph's topic SCORE over the article's occurrences, so a
      paragraph repeated in an article counts once per occurrence;
    - SHARE = SCORE / the sum of the article's SCOREs;
    - RANK = 1, 2, ... by SCORE descending, ties by TOPIC ascending (a row number: no two
      topics of an article share a rank).

    In SQL: ``sum(score)`` grouped by article and topic, then
    ``score / sum(score) OVER (PARTITION BY article_id)`` and
    ``row_number() OVER (PARTITION BY article_id ORDER BY score DESC, topic)``.
    `tags` holds one row per paragraph and topic, as the taggers emit them. Articles without
    a topic get no row. Rows come sorted by ARTICLE_ID, RANK.
    """
    top_level = tags.filter(
        (pl.col(TAG_TYPE) == "topic") & ~pl.col(TAG_VALUE).str.contains("/", literal=True)
    ).select(PARAGRAPH_HASH, pl.col(TAG_VALUE).alias(TOPIC), SCORE)
    scores = (
        occurrences.select(ARTICLE_ID, PARAGRAPH_HASH)
        .join(top_level, on=PARAGRAPH_HASH, how="inner")
        .group_by(ARTICLE_ID, TOPIC)
        .agg(pl.col(SCORE).sum())
        .sort(ARTICLE_ID, SCORE, TOPIC, descending=[False, True, False])
    )
    return scores.with_columns(
        (pl.col(SCORE) / pl.col(SCORE).sum().over(ARTICLE_ID)).alias(SHARE),
        pl.int_range(1, pl.len() + 1).over(ARTICLE_ID).alias(RANK),
    ).pipe(conform, ARTICLE_TOPICS)
