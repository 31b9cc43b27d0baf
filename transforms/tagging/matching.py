"""Finding patterns in paragraphs and resolving overlaps, shared by the entity and topic taggers.

One Aho-Corasick pass over the whole column (``str.find_many`` / ``str.extract_many``,
overlapping, optionally ASCII case-insensitive) finds every pattern at once; word boundaries
are read from the texts' bytes where the text is ASCII. Polars reports byte offsets; they are
converted to characters. Rules, on purpose conservative:

- whole words only: the characters before and after a match must not be letters or digits,
  so "Russia" is not found inside "Russian";
- overlapping matches: the leftmost, then longest, wins (:func:`keep_longest`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.langid import utf8_buffer
from transforms.schema import SPAN_END, SPAN_START, SURFACE, TEXT
from transforms.tagging.frames import ENDS_WORD, MATCH, ROW

_BYTE_START = "_byte_start"
_BYTE_END = "_byte_end"
_IS_ASCII = "_is_ascii"  # the paragraph's text is ASCII only: bytes are characters
# Bytes that are letters or digits: ASCII ones only, the others are parts of longer characters.
_WORD_BYTES = np.array([chr(byte).isascii() and chr(byte).isalnum() for byte in range(256)])
_ASCII_UPPERCASE = [chr(code) for code in range(ord("A"), ord("Z") + 1)]
_ASCII_LOWERCASE = [letter.lower() for letter in _ASCII_UPPERCASE]
FOLD_ASCII = str.maketrans(dict(zip(_ASCII_UPPERCASE, _ASCII_LOWERCASE, strict=True)))
"""``str.translate`` table folding ASCII capitals as ``ascii_case_insensitive`` matching does."""


def find_matches(
    frame: pl.DataFrame, patterns: pl.Series, *, ignore_case: bool = False
) -> pl.DataFrame:
    """ROW, TEXT -> one row per occurrence of a pattern that starts a word.

    ``frame`` is numbered by ROW = 0, 1, 2, ... in order, as :func:`ranked` leaves it.
    Output: ROW, TEXT, MATCH (the pattern matched: SURFACE, or with ``ignore_case`` SURFACE
    with its ASCII letters lower-cased, as the matching folds them), SURFACE (the text
    matched), SPAN_START, SPAN_END (characters) and ENDS_WORD (no letter or digit follows;
    the caller filters on it, or not for prefix keywords). Every overlapping occurrence is
    kept; the caller resolves overlaps. Rows come in no set order.
    """
    if patterns.len() == 0:
        return (
            frame.select(ROW, TEXT)
            .head(0)
            .with_columns(
                pl.lit(None, pl.String).alias(MATCH),
                pl.lit(None, pl.String).alias(SURFACE),
                pl.lit(None, pl.Int64).alias(SPAN_START),
                pl.lit(None, pl.Int64).alias(SPAN_END),
                pl.lit(None, pl.Boolean).alias(ENDS_WORD),
            )
        )
    found = _occurrences(frame, patterns.to_list(), ignore_case=ignore_case)
    # Most news copy is ASCII: there bytes are characters and the neighbours are read as bytes.
    return pl.concat(
        [
            _ascii_matches(found.filter(_IS_ASCII), ignore_case=ignore_case),
            _unicode_matches(found.filter(~pl.col(_IS_ASCII)), ignore_case=ignore_case),
        ]
    )


def _occurrences(frame: pl.DataFrame, patterns: list[str], *, ignore_case: bool) -> pl.DataFrame:
    """ROW, TEXT -> one row per occurrence not right after an ASCII letter or digit: ROW,
    TEXT, _IS_ASCII, SURFACE, _BYTE_START, _BYTE_END, ENDS_WORD (judged on the next byte).

    Polars reports byte offsets; find_many and extract_many list the same occurrences in the
    same order, and run in parallel within one select.
    """
    text = pl.col(TEXT)
    options = {"ascii_case_insensitive": ignore_case, "overlapping": True}
    found = (
        frame.select(
            ROW,
            TEXT,
            (text.str.len_bytes() == text.str.len_chars()).alias(_IS_ASCII),
            text.str.find_many(patterns, **options).alias(_BYTE_START),
            text.str.extract_many(patterns, **options).alias(SURFACE),
        )
        .explode(_BYTE_START, SURFACE)
        .drop_nulls(_BYTE_START)
        .with_columns(pl.col(_BYTE_START).cast(pl.Int64))
        .with_columns((pl.col(_BYTE_START) + pl.col(SURFACE).str.len_bytes()).alias(_BYTE_END))
    )
    before, after = _neighbour_bytes(frame[TEXT], found)
    # Most occurrences sit inside a word ("us" in "business"); a byte test drops them before
    # any work on characters.
    ends_word = pl.Series(ENDS_WORD, ~_WORD_BYTES[after])
    return found.with_columns(ends_word).filter(~_WORD_BYTES[before])


def _neighbour_bytes(texts: pl.Series, found: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The byte before and the byte after each occurrence (ROW = its text's row number,
    _BYTE_START, _BYTE_END), 0 at a text's edges: read from the texts' bytes at once."""
    data, offsets = utf8_buffer(texts)
    rows = found[ROW].to_numpy()
    first = offsets[rows] + found[_BYTE_START].to_numpy()
    end = offsets[rows] + found[_BYTE_END].to_numpy()
    last = len(data) - 1  # indices clipped to stay in bounds; those bytes are not used
    before = np.where(first > offsets[rows], data[np.clip(first - 1, 0, last)], 0)
    after = np.where(end < offsets[rows + 1], data[np.clip(end, 0, last)], 0)
    return before, after


def _ascii_matches(found: pl.DataFrame, *, ignore_case: bool) -> pl.DataFrame:
    """Occurrences in ASCII-only text -> find_matches rows (offsets in bytes = characters)."""
    matched = pl.col(SURFACE).str.to_lowercase() if ignore_case else pl.col(SURFACE)
    return found.select(
        ROW,
        TEXT,
        matched.alias(MATCH),
        SURFACE,
        pl.col(_BYTE_START).alias(SPAN_START),
        pl.col(_BYTE_END).alias(SPAN_END),
        ENDS_WORD,
    )


def _unicode_matches(found: pl.DataFrame, *, ignore_case: bool) -> pl.DataFrame:
    """Occurrences in other text -> find_matches rows (offsets in characters)."""
    text = pl.col(TEXT)
    # Characters before the match = the byte prefix decoded.
    prefix = text.cast(pl.Binary).bin.slice(0, pl.col(_BYTE_START)).cast(pl.String)
    found = found.with_columns(prefix.str.len_chars().cast(pl.Int64).alias(SPAN_START))
    found = found.with_columns(
        (pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END)
    )
    word_char = r"^[\p{L}\p{N}]"
    before = pl.when(pl.col(SPAN_START) > 0).then(text.str.slice(pl.col(SPAN_START) - 1, 1))
    after = text.str.slice(pl.col(SPAN_END), 1)
    # Only ASCII letters are folded, as the matching folds them ("ÉTAT" is not "état").
    surface = pl.col(SURFACE)
    folded = surface.str.replace_many(_ASCII_UPPERCASE, _ASCII_LOWERCASE)
    return found.filter(~before.str.contains(word_char).fill_null(False)).select(
        ROW,
        TEXT,
        (folded if ignore_case else surface).alias(MATCH),
        SURFACE,
        SPAN_START,
        SPAN_END,
        after.str.contains(word_char).fill_null(False).not_().alias(ENDS_WORD),
    )


def keep_longest(matches: pl.DataFrame, *, tie: str | None = None) -> pl.DataFrame:
    """Resolve overlaps per ROW: leftmost first, then longest, then the lowest `tie` column
    if given; a match that overlaps any match before it in that order goes (even one that
    itself went)."""
    length = pl.col(SPAN_END) - pl.col(SPAN_START)
    keys = [pl.col(ROW), pl.col(SPAN_START), length, *([pl.col(tie)] if tie else [])]
    ordered = matches.sort(keys, descending=[False, False, True, False][: len(keys)])
    # Offsets made global, paragraph after paragraph, so one running maximum serves them all.
    start, end = _global_offset(pl.col(SPAN_START)), _global_offset(pl.col(SPAN_END))
    return ordered.filter(start >= end.cum_max().shift(1).fill_null(0))


def _global_offset(offset: pl.Expr) -> pl.Expr:
    """A character offset shifted past every earlier paragraph's (texts are < 2**32 long)."""
    return pl.col(ROW).cast(pl.Int64) * 2**32 + offset
