"""Title tags: the entity and topic taggers run over article titles.

A title is tagged by the paragraph rules; one in capitals is read title-cased (see
:func:`tag_titles`).
"""

from __future__ import annotations

import polars as pl

from transforms.gazetteer import Gazetteer
from transforms.normalise import normalise_text
from transforms.schema import (
    ARTICLE_ID,
    SPAN_END,
    SPAN_START,
    SURFACE,
    TEXT,
    TITLE,
    TITLE_TAGS,
    conform,
)
from transforms.tagging.entities import entity_tags
from transforms.tagging.frames import AS_WRITTEN, ROW, sorted_without_duplicates
from transforms.tagging.matching import find_matches
from transforms.tagging.registry import TAGGERS, search_patterns, stamp
from transforms.tagging.topics import topic_tags

HEADLINE_WORDS = ("WHO",)
"""Gazetteer acronyms that are also English words: in an all-capitals title they are read as
the word ("WHO WILL PAY FOR IT")."""


def tag_titles(titles: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """ARTICLE_ID, TITLE (null allowed) -> TITLE_TAGS: the entity and topic tags of each title.

    A title is normalised as a paragraph is (:func:`transforms.normalise.normalise_text`) and
    tagged by the paragraph rules; spans are offsets into that normal form and SURFACE is the
    text there. A title in capitals ("U.S. SELLS 1-YEAR BILLS") is read title-cased where that
    keeps its length ("U.S. Sells 1-Year Bills"), so gazetteer names are found in their usual
    case, and its acronyms as written ("IMF", "U.S."). Every word of such a title is
    capitalised, so neither capitalised runs nor names after a person's title are read from it:
    only gazetteer names, datelines and tickers. Untitled articles get no rows.
    """
    text = pl.col(TEXT)
    in_capitals = ~text.str.contains(r"\p{Ll}") & text.str.contains(r"\p{Lu}.*\p{Lu}")
    titled = text.str.to_titlecase()
    # Title-casing may change a length ("ß" -> "Ss"); such a title is read as written.
    readable = in_capitals & (titled.str.len_chars() == text.str.len_chars())
    frame = (
        titles.select(ARTICLE_ID, normalise_text(pl.col(TITLE)).alias(TEXT))
        .filter(text.is_not_null() & (text != ""))
        .unique(ARTICLE_ID, keep="first")
        .sort(ARTICLE_ID)
        .with_row_index(ROW)
        .select(
            ROW,
            ARTICLE_ID,
            pl.when(readable).then(titled).otherwise(text).alias(TEXT),
            text.alias(AS_WRITTEN),
            readable.alias("_title_cased"),
        )
    )
    found = find_matches(frame.select(ROW, TEXT), search_patterns(gazetteer), ignore_case=True)
    cased = frame.filter(pl.col("_title_cased"))
    as_written = (
        found.join(cased.select(ROW, AS_WRITTEN), on=ROW, how="inner")
        .with_columns(
            pl.col(AS_WRITTEN)
            .str.slice(pl.col(SPAN_START), pl.col(SPAN_END) - pl.col(SPAN_START))
            .alias(SURFACE)
        )
        .drop(AS_WRITTEN)
        .filter(~pl.col(SURFACE).is_in(list(HEADLINE_WORDS)))
    )
    in_cased = pl.col(ROW).is_in(cased[ROW].implode())
    entities, topics = TAGGERS["entities"], TAGGERS["topics"]
    entity_rows = pl.concat(
        [
            stamp(
                entity_tags(
                    found.filter(~in_cased),
                    frame.filter(~pl.col("_title_cased")).drop(AS_WRITTEN),
                    gazetteer=gazetteer,
                ),
                entities,
            ),
            stamp(
                entity_tags(
                    pl.concat([found.filter(in_cased), as_written]),
                    cased,
                    gazetteer=gazetteer,
                    read_case=False,
                ),
                entities,
            ),
        ]
    )
    tags = sorted_without_duplicates(
        pl.concat([entity_rows, stamp(topic_tags(found, gazetteer=gazetteer), topics)])
    )
    span = pl.col(SPAN_END) - pl.col(SPAN_START)
    return (
        tags.join(
            frame.select(ROW, ARTICLE_ID, AS_WRITTEN), on=ROW, how="left", maintain_order="left"
        )
        .with_columns(
            pl.when(pl.col(SPAN_START).is_not_null())
            .then(pl.col(AS_WRITTEN).str.slice(pl.col(SPAN_START), span))
            .alias(SURFACE)
        )
        .pipe(conform, TITLE_TAGS)
    )
