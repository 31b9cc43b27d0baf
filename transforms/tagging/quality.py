"""The quality tagger: flags a paragraph that is short, mostly not letters, in capitals, a table
of figures, a sign-off or markup; SCORE holds the measure behind each flag.

Counts of ASCII text are read straight from its bytes (numpy), others with regexes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.boilerplate import is_sign_off
from transforms.gazetteer import QUALITY_FLAGS
from transforms.langid import utf8_buffer
from transforms.markup import first_element, has_markup
from transforms.schema import SCORE, TAG_DETAIL, TAG_TYPE, TAG_VALUE, TEXT
from transforms.tagging.frames import ROW

MIN_WORDS = 5
"""too_short: fewer words than this. Whitespace-separated tokens, and in scripts written without
spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each character counts as a word."""
MIN_LETTER_SHARE = 0.5
"""mostly_non_letters: letters are less than this share of the non-space characters."""
MIN_CAPITALS = 8
MIN_CAPITAL_SHARE = 0.9
"""all_caps: at least MIN_CAPITALS capital letters making up this share of all letters."""
MIN_TABLE_DIGITS = 4
MIN_TABLE_DIGIT_SHARE = 0.3
"""numeric_table: at least MIN_TABLE_DIGITS digits making up this share of letters and digits
(a line of results, an earnings table, an index level: "Revs 29.5 mln vs 19.8 mln" is 0.32).
Prose that cites figures stays below it ("Sales rose 12% to 3.4bn in 2004, the company said"
is 0.2): 24 of the BBC corpus's 9,779 paragraphs reach it, most a number alone."""
DETAIL_SIGN_OFF = "sign_off"  # likely_boilerplate by rule (transforms.boilerplate)
_MAX_BYTES_COUNTED = 2**16 - 1  # longer texts are counted with regexes (see _ascii_counts)
_CHUNK_BYTES = 2**20  # how many bytes of text numpy classifies at a time


def quality_tags(frame: pl.DataFrame) -> pl.DataFrame:
    """ROW, TEXT -> ROW + TAGS columns for quality flags."""
    too_short, non_letters, all_caps, numeric_table, boilerplate, markup = QUALITY_FLAGS
    words = _word_counts(frame)
    counts = _character_counts(frame)
    letter_share = pl.col("_letters") / pl.col("_visible")
    upper_share = pl.col("_upper") / pl.col("_letters")
    digit_share = pl.col("_digits") / (pl.col("_letters") + pl.col("_digits"))
    flags = pl.concat(
        [
            words.filter(pl.col("_words") < MIN_WORDS).select(
                ROW, pl.lit(too_short).alias(TAG_VALUE), pl.col("_words").alias(SCORE)
            ),
            counts.filter((pl.col("_visible") > 0) & (letter_share < MIN_LETTER_SHARE)).select(
                ROW, pl.lit(non_letters).alias(TAG_VALUE), letter_share.alias(SCORE)
            ),
            counts.filter(
                (pl.col("_upper") >= MIN_CAPITALS) & (upper_share >= MIN_CAPITAL_SHARE)
            ).select(ROW, pl.lit(all_caps).alias(TAG_VALUE), upper_share.alias(SCORE)),
            counts.filter(
                (pl.col("_digits") >= MIN_TABLE_DIGITS) & (digit_share >= MIN_TABLE_DIGIT_SHARE)
            ).select(ROW, pl.lit(numeric_table).alias(TAG_VALUE), digit_share.alias(SCORE)),
            frame.filter(is_sign_off(pl.col(TEXT))).select(
                ROW,
                pl.lit(boilerplate).alias(TAG_VALUE),
                pl.lit(DETAIL_SIGN_OFF).alias(TAG_DETAIL),
            ),
            # The text keeps its markup; the tag names the first element found. Most
            # paragraphs hold no "<": a literal search skips the regex for them.
            frame.filter(pl.col(TEXT).str.contains("<", literal=True))
            .filter(has_markup(pl.col(TEXT)))
            .select(
                ROW,
                pl.lit(markup).alias(TAG_VALUE),
                first_element(pl.col(TEXT)).alias(TAG_DETAIL),
            ),
        ],
        how="diagonal_relaxed",
    )
    return flags.with_columns(pl.lit("quality").alias(TAG_TYPE))


def _word_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """ROW, TEXT -> ROW, _words for the paragraphs that may have fewer than MIN_WORDS words."""
    text = pl.col(TEXT)
    # Five runs of non-space characters split by whitespace: at least five words, no need to
    # count. The search stops at the fifth word, so ordinary paragraphs cost next to nothing.
    enough_words = text.str.contains(r"(?:\S+\s+){4}\S").fill_null(False)
    unspaced_script = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
    stripped = text.str.strip_chars()
    words = (
        pl.when(stripped.str.len_bytes() > 0).then(stripped.str.count_matches(r"\s+") + 1)
        + text.str.count_matches(unspaced_script)
    ).fill_null(0)
    return frame.filter(~enough_words).select(ROW, words.cast(pl.Float64).alias("_words"))


def _character_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """ROW, TEXT -> ROW, _visible, _letters, _upper, _digits (characters)."""
    text = pl.col(TEXT)
    on_bytes = (text.str.len_bytes() == text.str.len_chars()) & (
        text.str.len_bytes() <= _MAX_BYTES_COUNTED
    )
    plain = frame.filter(on_bytes.fill_null(False))
    counts = _ascii_counts(plain[TEXT])
    measured = plain.select(
        ROW,
        (text.str.len_chars() - pl.Series(counts["space"])).alias("_visible"),
        pl.Series("_letters", counts["letter"]),
        pl.Series("_upper", counts["upper"]),
        pl.Series("_digits", counts["digit"]),
    )
    # Other scripts: count the rare characters (spaces, non-letters, capitals) and derive the
    # rest; a regex hit per letter is several times slower on ordinary prose.
    visible = text.str.len_chars() - text.str.count_matches(r"\s")
    other = frame.filter(~on_bytes.fill_null(False)).select(
        ROW,
        visible.alias("_visible"),
        (visible - text.str.count_matches(r"[^\p{L}\s]")).alias("_letters"),
        text.str.count_matches(r"\p{Lu}").alias("_upper"),
        text.str.count_matches(r"\p{Nd}").alias("_digits"),
    )
    return pl.concat([measured, other], how="vertical_relaxed")


def _ascii_counts(texts: pl.Series) -> dict[str, np.ndarray]:
    """Whitespace, letters, capitals and digits in each ASCII text, counted on its bytes.

    Texts are taken about _CHUNK_BYTES at a time, so numpy's temporary arrays stay in the CPU
    cache. Counts are summed as uint16, hence texts of at most _MAX_BYTES_COUNTED bytes.
    """
    data, offsets = utf8_buffer(texts)
    counts = {name: np.zeros(len(texts), dtype=np.int64) for name in _BYTE_CLASSES}
    for first, stop in _chunks(offsets, _CHUNK_BYTES):
        chunk = data[offsets[first] : offsets[stop]]
        starts = offsets[first:stop] - offsets[first]
        # reduceat sums from one start to the next, so an empty text would get a byte
        filled = offsets[first + 1 : stop + 1] > offsets[first:stop]
        if not filled.any():
            continue
        for name, is_in_class in _BYTE_CLASSES.items():
            flags = is_in_class(chunk).view(np.uint8)
            counts[name][first:stop][filled] = np.add.reduceat(
                flags, starts[filled], dtype=np.uint16
            )
    return counts


def _is_ascii_space(byte: np.ndarray) -> np.ndarray:
    """Tab, line feed, vertical tab, form feed, carriage return or space: ASCII ``\\s``."""
    return ((byte - np.uint8(ord("\t"))) <= ord("\r") - ord("\t")) | (byte == ord(" "))


def _is_ascii_letter(byte: np.ndarray) -> np.ndarray:
    return ((byte | np.uint8(0x20)) - np.uint8(ord("a"))) <= ord("z") - ord("a")


def _is_ascii_capital(byte: np.ndarray) -> np.ndarray:
    return (byte - np.uint8(ord("A"))) <= ord("Z") - ord("A")


def _is_ascii_digit(byte: np.ndarray) -> np.ndarray:
    return (byte - np.uint8(ord("0"))) <= ord("9") - ord("0")


_BYTE_CLASSES = {
    "space": _is_ascii_space,
    "letter": _is_ascii_letter,
    "upper": _is_ascii_capital,
    "digit": _is_ascii_digit,
}


def _chunks(offsets: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(first, stop) ranges of texts, each about `size` bytes (a longer text alone)."""
    n_texts = len(offsets) - 1
    cuts = np.searchsorted(offsets, np.arange(0, offsets[-1], size), side="right") - 1
    bounds = np.unique(np.concatenate([[0], np.clip(cuts, 0, n_texts), [n_texts]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
