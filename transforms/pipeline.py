"""The transform stage read top to bottom: each step a plain function, composed with `.pipe()`.

Nothing here touches the warehouse; what a step needs from it (hashes already stored, the
latest version of each article) comes in as an argument.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import polars as pl

from transforms import schema as S
from transforms.decode import MOJIBAKE
from transforms.dedupe import collect_new_paragraphs, mark_occurrences
from transforms.gazetteer import Gazetteer
from transforms.normalise import normalise_paragraphs, sha256_hex
from transforms.split import BODY_START, find_titles, split_paragraphs
from transforms.tag import detect_language, tag_paragraphs

N_PARAGRAPHS = S.N_PARAGRAPHS
_LANG_WEIGHT = "lang_weight"
LETTER_SAMPLE_CHARS = 2_000
"""Letters are counted in each article's first characters: counting every letter of a batch
costs ~1.5 s per 10,000 articles, and a feed of garbage is garbage from its first line.
Combining marks count as letters: Khmer or Devanagari write vowels as marks (Khmer news is
half letters, four fifths letters or marks)."""


@dataclass
class Stopwatch:
    """Seconds spent per named stage, summed over the batches of a run."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def identify_articles(decoded: pl.DataFrame, *, latest_versions: pl.DataFrame) -> pl.DataFrame:
    """PATH, SHA256, TEXT, ENCODING (+ latest_versions: ARTICLE_KEY, VERSION) -> ARTICLES.

    In v1 an article is identified by its path: a new file version under a known path is the
    next version of that article. ARTICLE_ID is derived from the key and the bytes' sha256, so a
    rerun over the same files yields the same ids.
    """
    keyed = decoded.with_columns(pl.col(S.PATH).alias(S.ARTICLE_KEY))
    # Several new versions of one key in one batch cannot happen: one path has one current file.
    versioned = keyed.join(
        latest_versions.rename({S.VERSION: "previous"}), on=S.ARTICLE_KEY, how="left"
    ).with_columns(
        (pl.col("previous").fill_null(0) + 1).cast(pl.Int32).alias(S.VERSION),
        pl.concat_str(S.ARTICLE_KEY, S.SHA256, separator="\x00")
        .map_batches(_article_ids, return_dtype=pl.String)
        .alias(S.ARTICLE_ID),
        pl.lit(None, dtype=pl.String).alias(S.TITLE),
    )
    return S.conform(versioned, S.ARTICLES)


def _article_ids(keys: pl.Series) -> pl.Series:
    return sha256_hex(keys).str.slice(0, 32)


def split_articles(
    articles: pl.DataFrame, clock: Stopwatch | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """ARTICLES -> (ARTICLES with TITLE filled, NORMALISED paragraphs of every article)."""
    clock = clock or Stopwatch()
    with clock.stage("split"):
        titled = articles.drop(S.TITLE).pipe(find_titles).drop(BODY_START)
        split = split_paragraphs(articles)
    with clock.stage("normalise_hash"):
        normalised = normalise_paragraphs(split)
    return S.conform(titled, S.ARTICLES), normalised


def screen_articles(
    articles: pl.DataFrame, normalised: pl.DataFrame, *, max_paragraph_chars: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Set aside articles that cannot be built into a batch, each with a reason code.

    -> (ARTICLES kept, their NORMALISED paragraphs, ARTICLE_ID/PATH/REASON/DETAIL set aside):
    `paragraph_too_long` (a paragraph over `max_paragraph_chars`, typically a file with no
    line breaks at all). An article with no paragraph passes through: the gate's
    `not_empty_after_splitting` check sets it aside.
    """
    longest = normalised.group_by(S.ARTICLE_ID).agg(
        pl.col(S.TEXT).str.len_chars().max().alias("_longest")
    )
    judged = articles.join(longest, on=S.ARTICLE_ID, how="left").with_columns(
        pl.when(pl.col("_longest") > max_paragraph_chars)
        .then(pl.lit("paragraph_too_long"))
        .alias(S.REASON)
    )
    aside = judged.filter(pl.col(S.REASON).is_not_null()).select(
        S.ARTICLE_ID,
        S.PATH,
        S.REASON,
        pl.format(
            "a paragraph of {} characters is over max_paragraph_chars={}",
            pl.col("_longest"),
            pl.lit(max_paragraph_chars),
        ).alias(S.DETAIL),
    )
    kept = articles.join(aside.select(S.ARTICLE_ID), on=S.ARTICLE_ID, how="anti")
    kept_paragraphs = normalised.join(aside.select(S.ARTICLE_ID), on=S.ARTICLE_ID, how="anti")
    return kept, kept_paragraphs, aside


def assign_languages(
    normalised: pl.DataFrame, known: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """NORMALISED (+ known: PARAGRAPH_HASH, LANGUAGE already stored) -> (ARTICLE_ID, LANGUAGE
    per article; PARAGRAPH_HASH, LANGUAGE per paragraph).

    Only paragraphs new to the warehouse are run through the language model; stored ones bring
    their stored language. An article's language is the one most of its characters are in; a
    paragraph too short to judge inherits the language of the first article it appears in.
    """
    distinct = (
        normalised.unique(S.PARAGRAPH_HASH, keep="first")
        .select(S.PARAGRAPH_HASH, S.TEXT)
        .join(known, on=S.PARAGRAPH_HASH, how="anti")
    )
    if distinct.is_empty():  # nothing to judge: skip loading the language model
        fresh = distinct.select(S.PARAGRAPH_HASH, pl.lit(None, pl.String).alias(S.LANGUAGE))
    else:
        fresh = detect_language(distinct).select(S.PARAGRAPH_HASH, S.LANGUAGE)
    detected = pl.concat([fresh, known.select(S.PARAGRAPH_HASH, S.LANGUAGE)])
    weighted = normalised.join(detected, on=S.PARAGRAPH_HASH).with_columns(
        pl.col(S.TEXT).str.len_chars().alias(_LANG_WEIGHT)
    )
    article_languages = (
        weighted.drop_nulls(S.LANGUAGE)
        .group_by(S.ARTICLE_ID, S.LANGUAGE)
        .agg(pl.col(_LANG_WEIGHT).sum())
        .sort(S.ARTICLE_ID, _LANG_WEIGHT, S.LANGUAGE, descending=[False, True, False])
        .unique(S.ARTICLE_ID, keep="first")
        .select(S.ARTICLE_ID, S.LANGUAGE)
    )
    inherited = (
        weighted.join(
            article_languages.rename({S.LANGUAGE: "article_language"}), on=S.ARTICLE_ID, how="left"
        )
        .with_columns(pl.col(S.LANGUAGE).fill_null(pl.col("article_language")))
        .sort(S.ARTICLE_ID, S.POSITION)
        .unique(S.PARAGRAPH_HASH, keep="first")
        .select(S.PARAGRAPH_HASH, S.LANGUAGE)
    )
    return article_languages, inherited


def measure_articles(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLES -> adds N_CHARS, LETTER_SHARE, MOJIBAKE_MARKS, TITLE_EXPECTED (for the gate)."""
    text = pl.col(S.TEXT)
    sample = text.str.head(LETTER_SAMPLE_CHARS)
    n_sample = sample.str.len_chars()
    return articles.with_columns(
        text.str.len_chars().alias(S.N_CHARS),
        pl.when(n_sample > 0)
        .then(sample.str.count_matches(r"[\p{L}\p{M}]") / n_sample)
        .otherwise(0.0)
        .alias(S.LETTER_SHARE),
        # the pairs transforms.decode counts when it rejects a whole file
        text.str.count_matches(MOJIBAKE.pattern).cast(pl.Int64).alias(S.MOJIBAKE_MARKS),
        # paragraphs on blank lines: the layout in which the first line is a title
        text.str.contains(r"\n[ \t]*\n").alias(S.TITLE_EXPECTED),
    )


@dataclass(frozen=True)
class TransformedBatch:
    """The frames a batch publishes, each in its declared schema."""

    articles: pl.DataFrame  # ARTICLES minus TEXT, plus LANGUAGE, N_PARAGRAPHS, N_CHARS
    occurrences: pl.DataFrame  # OCCURRENCES
    paragraphs: pl.DataFrame  # PARAGRAPHS, new to the warehouse
    tags: pl.DataFrame  # TAGS of the new paragraphs


def build_batch(
    articles: pl.DataFrame,
    normalised: pl.DataFrame,
    *,
    known: pl.DataFrame,
    gazetteer: Gazetteer | None,
    clock: Stopwatch | None = None,
) -> TransformedBatch:
    """ARTICLES + NORMALISED (+ known: PARAGRAPH_HASH, LANGUAGE of paragraphs already stored)
    -> occurrences, new paragraphs, tags.

    `gazetteer` may be None only when there is nothing to tag.
    """
    clock = clock or Stopwatch()
    with clock.stage("dedupe"):
        occurrences = mark_occurrences(
            normalised, articles=articles, known_hashes=known[S.PARAGRAPH_HASH]
        )
        new = collect_new_paragraphs(normalised, occurrences).drop(S.LANGUAGE)
    with clock.stage("language"):
        article_languages, paragraph_languages = assign_languages(normalised, known)
    paragraphs = new.join(paragraph_languages, on=S.PARAGRAPH_HASH, how="left").pipe(
        S.conform, S.PARAGRAPHS
    )
    with clock.stage("tag"):
        if paragraphs.is_empty() or gazetteer is None:
            if not paragraphs.is_empty():
                raise ValueError("build_batch needs a gazetteer to tag new paragraphs")
            tags = S.empty(S.TAGS)
        else:
            tags = tag_paragraphs(
                paragraphs.select(S.PARAGRAPH_HASH, S.TEXT, S.LANGUAGE), gazetteer=gazetteer
            )
    stats = occurrences.group_by(S.ARTICLE_ID).agg(pl.len().cast(pl.Int32).alias(N_PARAGRAPHS))
    article_rows = (
        articles.pipe(measure_articles)
        .drop(S.TEXT)
        .join(article_languages, on=S.ARTICLE_ID, how="left")
        .join(stats, on=S.ARTICLE_ID, how="left")
        .with_columns(pl.col(N_PARAGRAPHS).fill_null(0))
        .sort(S.PATH)
    )
    return TransformedBatch(article_rows, occurrences, paragraphs, tags)
