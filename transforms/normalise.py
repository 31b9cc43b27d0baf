"""Normalise paragraph text and give it a content address.

The normal form, fixed and versioned as ``NORMAL_FORM``:
1. zero-width characters (U+200B/C/D, U+2060, U+FEFF) removed, before composing: a letter and
   the combining mark they separated must compose in one pass, so the form is idempotent;
2. Unicode NFKC;
3. curly single/double quotes folded to ' and ", en/em dashes and minus signs to -, the
   ellipsis character to three dots;
4. whitespace runs (any Unicode whitespace, newlines included) collapsed to one space, ends trimmed.

The paragraph hash is sha256 of the UTF-8 bytes of that text, as lowercase hex. A
cryptographic hash keeps crafted text from colliding with (and hiding) a real paragraph, and
unlike ``pl.Expr.hash`` it is stable across library versions.
"""

from __future__ import annotations

import hashlib
import unicodedata

import polars as pl

from transforms import schema as S

NORMAL_FORM = "zw-nfkc-quotes-ws_v2"
HASH_ALGORITHM = "sha256"

_ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
_FOLDS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    "\u2026": "...",
}  # fmt: skip
# Faster than r"\s+" for the same result: most gaps are already a single space, which this
# pattern leaves unmatched instead of replacing it with itself.
_WHITESPACE = r"\s\s+|[^\S ]"


def _nfkc_batch(texts: pl.Series) -> pl.Series:
    """NFKC over a whole column; Python's unicodedata passes ASCII through almost for free."""
    return pl.Series(
        texts.name,
        [unicodedata.normalize("NFKC", t) if t is not None else None for t in texts.to_list()],
        dtype=pl.String,
    )


def sha256_hex(texts: pl.Series) -> pl.Series:
    """sha256 hex of each text's UTF-8 bytes, over a whole column."""
    return pl.Series(
        texts.name,
        [hashlib.sha256(t.encode()).hexdigest() for t in texts.to_list()],
        dtype=pl.String,
    )


def normalise_text(text: pl.Expr) -> pl.Expr:
    """The normal form as an expression over a String column."""
    return (
        text.str.replace_many(_ZERO_WIDTH, [""] * len(_ZERO_WIDTH))
        .map_batches(_nfkc_batch, return_dtype=pl.String, is_elementwise=True)
        .str.replace_many(list(_FOLDS), list(_FOLDS.values()))
        .str.replace_all(_WHITESPACE, " ")
        .str.strip_chars(" ")
    )


def hash_text(text: pl.Expr) -> pl.Expr:
    """sha256 hex of a String column (already normalised)."""
    return text.map_batches(sha256_hex, return_dtype=pl.String, is_elementwise=True)


def normalise_paragraphs(split: pl.DataFrame) -> pl.DataFrame:
    """SPLIT -> NORMALISED: RAW_TEXT becomes normalised TEXT, plus its PARAGRAPH_HASH.

    Paragraphs that normalise to nothing (only format characters) are dropped and positions
    renumbered; the split step only emits tokens that start with a visible character, so this
    is rare.
    """
    normalised = (
        split.with_columns(normalise_text(pl.col(S.RAW_TEXT)).alias(S.TEXT))
        .filter(pl.col(S.TEXT) != "")
        .with_columns(pl.int_range(pl.len()).over(S.ARTICLE_ID).alias(S.POSITION))
    )
    return S.conform(
        normalised.with_columns(hash_text(pl.col(S.TEXT)).alias(S.PARAGRAPH_HASH)), S.NORMALISED
    )
