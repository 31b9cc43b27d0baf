"""The language tagger: py3langid's verdict on each paragraph, and a tag for each verdict.

:func:`detect_language` fills LANGUAGE (the pipeline lets a paragraph it cannot judge inherit
its article's language); :func:`language_tags` turns LANGUAGE into tags. The model comes from
:mod:`transforms.langid`, unpacked into the caller's cache folder.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms.langid import classify, load_model
from transforms.schema import LANGUAGE, SCORE, TAG_TYPE, TAG_VALUE, TEXT
from transforms.tagging.frames import ROW

MIN_LETTERS_FOR_LANGUAGE = 20
"""Fewer letters than this (any script) and detect_language returns None: too little to judge."""
MIN_LANGUAGE_CONFIDENCE = 0.5
"""Below this py3langid probability detect_language returns None (on BBC paragraphs every
wrong guess - headlines, team sheets - fell below it)."""
MAX_CHARS_FOR_LANGUAGE = 400
"""Only the first characters are read: the classifier's cost grows with length, its verdict
hardly does (a paragraph's language shows in its first sentences, in every script of the
multilingual corpus alike)."""


def detect_language(paragraphs: pl.DataFrame, *, cache_dir: Path | None = None) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> same + LANGUAGE (ISO 639-1).

    LANGUAGE is None when the text has fewer than MIN_LETTERS_FOR_LANGUAGE letters or the
    model is less sure than MIN_LANGUAGE_CONFIDENCE; the pipeline then lets the paragraph
    inherit its article's language. `cache_dir`: see :func:`identify_languages`.
    """
    # "at least N letters" stops at the Nth: 25x cheaper than counting every letter
    judgeable = pl.col(TEXT).str.contains(rf"^(?:\P{{L}}*\p{{L}}){{{MIN_LETTERS_FOR_LANGUAGE}}}")
    return paragraphs.with_columns(
        pl.when(judgeable)
        .then(pl.col(TEXT).str.head(MAX_CHARS_FOR_LANGUAGE))
        .map_batches(
            lambda texts: identify_languages(texts, cache_dir=cache_dir), return_dtype=pl.String
        )
        .alias(LANGUAGE)
    )


def identify_languages(texts: pl.Series, *, cache_dir: Path | None = None) -> pl.Series:
    """py3langid's verdict on each text, the whole column at once (:mod:`transforms.langid`);
    null, or less sure than MIN_LANGUAGE_CONFIDENCE -> null.

    The model is kept unpacked in `cache_dir` (the ``cache_dir`` setting); None keeps no copy
    on disk, so every process builds it from py3langid's file again.
    """
    verdicts = classify(texts, load_model(cache_dir))
    sure = pl.col(SCORE) >= MIN_LANGUAGE_CONFIDENCE
    return verdicts.select(pl.when(sure).then(pl.col(LANGUAGE))).to_series().alias(texts.name)


def language_tags(frame: pl.DataFrame) -> pl.DataFrame:
    """ROW, LANGUAGE -> ROW + TAGS columns for languages: one per paragraph whose LANGUAGE is
    set."""
    return frame.filter(pl.col(LANGUAGE).is_not_null()).select(
        ROW, pl.lit("language").alias(TAG_TYPE), pl.col(LANGUAGE).alias(TAG_VALUE)
    )
