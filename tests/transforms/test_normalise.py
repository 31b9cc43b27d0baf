import hashlib

import polars as pl

from transforms import schema as S
from transforms.normalise import normalise_paragraphs, normalise_text


def _norm(*texts: str) -> list[str]:
    return pl.DataFrame({"t": texts}).select(normalise_text(pl.col("t"))).to_series().to_list()


def test_quotes_dashes_ellipsis_and_whitespace_are_folded():
    assert _norm("\u201cHi\u201d \u2014 it\u2019s\u2026  \n there\u00a0now ") == [
        '"Hi" - it\'s... there now'
    ]


def test_nfkc_and_zero_width_removal():
    assert _norm("\ufb01ne\u200b \uff21") == ["fine A"]


def test_hash_is_sha256_of_normalised_text():
    split = pl.DataFrame(
        {
            S.ARTICLE_ID: ["a", "a"],
            S.POSITION: [0, 1],
            S.CHAR_START: [0, 10],
            S.CHAR_END: [9, 20],
            S.RAW_TEXT: ["Hello\n world", "Hello world"],
        },
        schema=S.SPLIT,
    )
    out = normalise_paragraphs(split)
    expected = hashlib.sha256(b"Hello world").hexdigest()
    assert out[S.PARAGRAPH_HASH].to_list() == [expected, expected]
    assert out.schema == S.NORMALISED
