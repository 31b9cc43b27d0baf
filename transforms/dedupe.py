"""Exact dedupe after normalisation: every position becomes an occurrence with a kind.

Kinds (schema.OCCURRENCE_KINDS):
- ``first``: the first place the paragraph appears — not in the warehouse, and the earliest
  article of the batch (articles ordered by published_at, then path, record and article id,
  so reruns agree; the publish step applies the same order across the warehouse, so a copy
  loaded before its original becomes ``corpus`` once the original arrives);
- ``repeat``: the paragraph already appeared earlier in the same article; REPEAT_OF holds that
  position (an in-article repeat is a repeat even when the corpus had the paragraph before);
- ``corpus``: the paragraph was already seen in an earlier article or in the warehouse.
"""

from __future__ import annotations

import polars as pl

from transforms import schema as S

_ORDER = "article_order"
_FIRST_IN_ARTICLE = "first_in_article"


FIRST_SEEN_ORDER = (S.PUBLISHED_AT, S.PATH, S.RECORD, S.ARTICLE_ID)
"""The order in which articles count as having seen a paragraph first (nulls last); the same
order as warehouse/sql/reorder_first_seen.sql."""


def order_articles(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_ID, PATH, PUBLISHED_AT, RECORD -> ARTICLE_ID, article_order: the deterministic
    order of first sight."""
    return (
        articles.select(FIRST_SEEN_ORDER)
        .sort(FIRST_SEEN_ORDER, nulls_last=True)
        .with_row_index(_ORDER)
        .select(S.ARTICLE_ID, _ORDER)
    )


def mark_occurrences(
    normalised: pl.DataFrame, *, articles: pl.DataFrame, known_hashes: pl.Series
) -> pl.DataFrame:
    """NORMALISED -> OCCURRENCES with KIND and REPEAT_OF.

    `articles` (ARTICLE_ID, PATH, PUBLISHED_AT, RECORD) fixes which article saw a paragraph
    first; `known_hashes` holds the paragraph hashes already in the warehouse.
    """
    marked = (
        normalised.join(order_articles(articles), on=S.ARTICLE_ID, how="left")
        .with_columns(
            pl.col(S.POSITION).min().over(S.ARTICLE_ID, S.PARAGRAPH_HASH).alias(_FIRST_IN_ARTICLE)
        )
        .with_columns(
            (pl.col(_ORDER) == pl.col(_ORDER).min().over(S.PARAGRAPH_HASH)).alias(
                "in_first_article"
            ),
            pl.col(S.PARAGRAPH_HASH).is_in(known_hashes.implode()).alias("known"),
        )
        .with_columns(
            pl.when(pl.col(S.POSITION) != pl.col(_FIRST_IN_ARTICLE))
            .then(pl.lit(S.KIND_REPEAT))
            .when(pl.col("in_first_article") & ~pl.col("known"))
            .then(pl.lit(S.KIND_FIRST))
            .otherwise(pl.lit(S.KIND_CORPUS))
            .alias(S.KIND),
        )
        .with_columns(
            pl.when(pl.col(S.KIND) == S.KIND_REPEAT)
            .then(pl.col(_FIRST_IN_ARTICLE))
            .otherwise(None)
            .alias(S.REPEAT_OF)
        )
        .sort(_ORDER, S.POSITION)
    )
    return S.conform(marked, S.OCCURRENCES)


def collect_new_paragraphs(normalised: pl.DataFrame, occurrences: pl.DataFrame) -> pl.DataFrame:
    """NORMALISED + OCCURRENCES -> PARAGRAPHS: one row per hash first seen in this batch.

    LANGUAGE is left null here; the language step fills it.
    """
    firsts = occurrences.filter(pl.col(S.KIND) == S.KIND_FIRST).select(
        S.ARTICLE_ID, S.POSITION, S.PARAGRAPH_HASH
    )
    paragraphs = firsts.join(
        normalised.select(S.ARTICLE_ID, S.POSITION, S.TEXT), on=[S.ARTICLE_ID, S.POSITION]
    ).with_columns(
        pl.col(S.TEXT).str.len_chars().alias(S.N_CHARS),
        pl.col(S.TEXT).str.count_matches(r"\S+").alias(S.N_WORDS),
        pl.lit(None, dtype=pl.String).alias(S.LANGUAGE),
    )
    return S.conform(paragraphs.sort(S.PARAGRAPH_HASH), S.PARAGRAPHS)
