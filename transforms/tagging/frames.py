"""The working frame the taggers share: distinct paragraphs keyed by rank, and their output.

For speed the taggers key paragraphs by their rank (:func:`ranked`) instead of the 64-character
hash; :func:`with_hashes` puts the hash back once the tags are sorted and without duplicates.
Spans are CHARACTER offsets into the paragraph's normalised TEXT.
"""

from __future__ import annotations

import polars as pl

from transforms.schema import (
    PARAGRAPH_HASH,
    SPAN_START,
    TAG_TYPE,
    TAG_VALUE,
    TAGGER,
    TAGGER_VERSION,
    TAGS,
    conform,
)

# Working columns private to the taggers (never stored).
ROW = "_row"  # the paragraph's rank by PARAGRAPH_HASH (see ranked)
MATCH = "_match"  # the pattern a find_matches row matched
ENDS_WORD = "_ends_word"  # no letter or digit follows the match
AS_WRITTEN = "_as_written"  # a title's normalised text where TEXT holds it title-cased

# Sorting by the rank sorts by PARAGRAPH_HASH.
_OUTPUT_ORDER = (ROW, TAG_TYPE, SPAN_START, TAG_VALUE)
# What the gate holds unique per tagger version (paragraphs_suite tag_key_unique): a dateline's
# "WASHINGTON" and the gazetteer's "WASHINGTON, D.C." start alike and name the same city.
_OUTPUT_KEY = (ROW, TAG_TYPE, TAG_VALUE, SPAN_START)


def ranked(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """One row per PARAGRAPH_HASH (the first), sorted by it, with its rank in ROW: sorting
    and joining on the rank is much cheaper than on the 64-character hash."""
    return (
        paragraphs.unique(PARAGRAPH_HASH, keep="first", maintain_order=True)
        .sort(PARAGRAPH_HASH, nulls_last=False)
        .with_row_index(ROW)
    )


def sorted_without_duplicates(tags: pl.DataFrame) -> pl.DataFrame:
    """Tags in _OUTPUT_ORDER, each _OUTPUT_KEY once (its first row in `tags`)."""
    # A stable sort on the key brings duplicates together, first one first; each run is cut
    # to its first row.
    ordered = tags.sort(_OUTPUT_ORDER, nulls_last=False, maintain_order=True)
    repeated = pl.all_horizontal(
        pl.col(name).eq_missing(pl.col(name).shift()) for name in _OUTPUT_KEY
    )
    return ordered.filter(~repeated)


def with_hashes(tags: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """ROW + TAGS columns -> TAGS, the rank replaced by the paragraph's hash; order kept."""
    hashes = frame.select(ROW, PARAGRAPH_HASH)
    return tags.join(hashes, on=ROW, how="left", maintain_order="left").pipe(conform, TAGS)


def finish(frame: pl.DataFrame, tagger: str, version: str) -> pl.DataFrame:
    """ROW + some TAGS columns -> ROW + all TAGS columns but PARAGRAPH_HASH: absent ones null,
    TAGGER / TAGGER_VERSION set to `tagger` and `version`."""
    filled = {TAGGER: pl.lit(tagger), TAGGER_VERSION: pl.lit(version)}
    columns = [
        filled.get(name, pl.col(name) if name in frame.columns else pl.lit(None))
        .cast(dtype)
        .alias(name)
        for name, dtype in TAGS.items()
        if name != PARAGRAPH_HASH
    ]
    return frame.select(ROW, *columns)
