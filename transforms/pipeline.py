"""The transform stage read top to bottom: each step a plain function, composed with `.pipe()`.

Nothing here touches the warehouse; what a step needs from it (hashes already stored, the
latest version of each article) comes in as an argument.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.dateline import find_datelines
from transforms.decode import MOJIBAKE
from transforms.dedupe import collect_new_paragraphs, mark_occurrences
from transforms.gazetteer import Gazetteer
from transforms.markup import count_active_content
from transforms.normalise import normalise_paragraphs, sha256_hex
from transforms.split import BODY_START, find_titles, split_paragraphs
from transforms.tagging import TAGGERS, detect_language, tag_paragraphs, tag_titles, tag_with

N_PARAGRAPHS = S.N_PARAGRAPHS
_LANG_WEIGHT = "lang_weight"
GARBAGE_CHARACTERS = r"[\x7f-\x9f\p{Co}\p{Cn}]"
"""Characters no text article holds: DEL and the C1 controls (bytes decoded as Latin-1 that
were something else), private-use and unassigned code points. C0 controls never get this far:
transforms.decode rejects them as binary."""
LETTER_SAMPLE_CHARS = 2_000
"""Letters are counted in each article's first characters: counting every letter of a batch
costs time in proportion to all of its text, and a feed of garbage is garbage from its first
line.
Combining marks count as letters: Khmer or Devanagari write vowels as marks (Khmer news is
half letters, four fifths letters or marks)."""


@dataclass
class Stopwatch:
    """Seconds spent per named stage, summed over the batches of a run: wall time, and the
    CPU time of the whole process meanwhile (every thread's: Polars', DuckDB's and the thread
    pools' work, and whatever runs in the background, such as Prefect's own threads)."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu


def add_seconds(into: dict[str, float], seconds: dict[str, float]) -> None:
    """Add `seconds` per stage to the totals `into` (to the millisecond)."""
    for name, value in seconds.items():
        into[name] = round(into.get(name, 0.0) + value, 3)


_PATH_DATE = r"(?:^|/)((?:19|20)\d{2})[/-](\d{2})[/-](\d{2})(?:[/_.T-]|$)"
"""A YYYY/MM/DD folder path or a YYYY-MM-DD in a name: the date a file's path gives."""


def resolve_metadata(
    records: pl.DataFrame,
    *,
    source_from_folder: bool = True,
    fallback_source: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """RECORDS + MTIME -> adds SOURCE_ORIGIN, PUBLISHED_ORIGIN and fills SOURCE and PUBLISHED_AT
    where the record carries none.

    - source: the record's own, else (with `source_from_folder`) the first folder under the
      landing folder when it is not a year (a per-outlet layout: ``reuters/2026/...``), else
      `fallback_source` = (source, S.SOURCE_SETTING or S.SOURCE_LANDING): every article has a
      source, so boilerplate is learnt and syndication is told apart on plain folders too;
    - published_at: the record's own, else a date in the path (``2026/03/04/`` or
      ``2026-03-04``, midnight UTC), else the file's mtime.
    """
    folder = pl.col(S.PATH).str.extract(r"^([^/]+)/", 1)
    folder = pl.when(folder.str.contains(r"^\d+$")).then(None).otherwise(folder)
    from_folder = folder if source_from_folder else pl.lit(None, pl.String)
    parts = [pl.col(S.PATH).str.extract(_PATH_DATE, i) for i in (1, 2, 3)]
    path_date = pl.concat_str(parts, separator="-").str.to_datetime(
        "%Y-%m-%d", strict=False, time_unit="us", time_zone="UTC"
    )
    mtime = (pl.col(S.MTIME) * 1_000_000).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
    fallback, fallback_origin = fallback_source or (None, None)
    return records.with_columns(
        pl.when(pl.col(S.SOURCE).is_not_null())
        .then(pl.lit(S.SOURCE_METADATA))
        .when(from_folder.is_not_null())
        .then(pl.lit(S.SOURCE_FOLDER))
        .when(pl.lit(fallback, pl.String).is_not_null())
        .then(pl.lit(fallback_origin, pl.String))
        .alias(S.SOURCE_ORIGIN),
        pl.coalesce(S.SOURCE, from_folder, pl.lit(fallback, pl.String)).alias(S.SOURCE),
        pl.when(pl.col(S.PUBLISHED_AT).is_not_null())
        .then(pl.lit("metadata"))
        .when(path_date.is_not_null())
        .then(pl.lit("path"))
        .when(pl.col(S.MTIME).is_not_null())
        .then(pl.lit("mtime"))
        .alias(S.PUBLISHED_ORIGIN),
        pl.coalesce(pl.col(S.PUBLISHED_AT), path_date, mtime).alias(S.PUBLISHED_AT),
    )


def identify_articles(
    records: pl.DataFrame, *, earlier: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Records with resolved metadata, ENCODING (+ earlier: the warehouse's current version of
    every article the batch may continue) -> (ARTICLES, unchanged records).

    An article is identified by its external id, else its url, else its path (plus the line
    of a .jsonl record): a record whose id or url an earlier article carries is the next
    version of that article whatever its file name. A record whose content (TEXT) equals a
    version already loaded (or earlier in the batch) is unchanged and not loaded again: a .jsonl
    feed rewritten with new lines appended loads only those. Versions of one article in one
    batch follow published_at.
    ARTICLE_ID is derived from the key, the file's sha256 and the record, so a rerun over the
    same files yields the same ids.

    `earlier`: ARTICLE_KEY, VERSION, CONTENT_SHA256, EXTERNAL_ID, URL of every version of the
    articles the batch may continue (warehouse.ledger.find_latest_versions).
    """
    own_key = (
        pl.when(pl.col(S.EXTERNAL_ID).is_not_null())
        .then(pl.concat_str(pl.lit("id:"), S.EXTERNAL_ID))
        .when(pl.col(S.URL).is_not_null())
        .then(pl.concat_str(pl.lit("url:"), S.URL))
        .otherwise(_path_key())
    )
    keyed = records.with_columns(
        own_key.alias("_own_key"),
        pl.col(S.TEXT).map_batches(sha256_hex, return_dtype=pl.String).alias(S.CONTENT_SHA256),
    )
    by_id = (
        earlier.drop_nulls(S.EXTERNAL_ID)
        .sort(S.VERSION, descending=True)
        .unique(S.EXTERNAL_ID, keep="first")
        .select(S.EXTERNAL_ID, pl.col(S.ARTICLE_KEY).alias("_by_id"))
    )
    by_url = (
        earlier.drop_nulls(S.URL)
        .sort(S.VERSION, descending=True)
        .unique(S.URL, keep="first")
        .select(S.URL, pl.col(S.ARTICLE_KEY).alias("_by_url"))
    )
    # in the batch: a url that a record with an id carries leads to that id's article
    batch_url = (
        keyed.filter(pl.col(S.EXTERNAL_ID).is_not_null() & pl.col(S.URL).is_not_null())
        .sort(S.PUBLISHED_AT, S.PATH, S.RECORD, nulls_last=True)
        .unique(S.URL, keep="first")
        .select(S.URL, pl.col("_own_key").alias("_batch_url"))
    )
    linked = (
        keyed.join(by_id, on=S.EXTERNAL_ID, how="left")
        .join(by_url, on=S.URL, how="left")
        .join(batch_url, on=S.URL, how="left")
        .with_columns(
            pl.coalesce("_by_id", "_by_url", "_batch_url", "_own_key").alias(S.ARTICLE_KEY)
        )
    )
    latest = earlier.group_by(S.ARTICLE_KEY).agg(pl.col(S.VERSION).max().alias("_previous"))
    loaded = earlier.select(S.ARTICLE_KEY, S.CONTENT_SHA256, pl.lit(True).alias("_loaded"))
    ordered = (
        linked.join(latest, on=S.ARTICLE_KEY, how="left")
        .join(loaded.unique(), on=[S.ARTICLE_KEY, S.CONTENT_SHA256], how="left")
        .sort(S.ARTICLE_KEY, S.PUBLISHED_AT, S.PATH, S.RECORD, nulls_last=True)
        .with_columns(
            (
                pl.col("_loaded").fill_null(False)
                | pl.int_range(pl.len()).over(S.ARTICLE_KEY, S.CONTENT_SHA256).gt(0)
            ).alias("_unchanged")
        )
    )
    unchanged = pl.col("_unchanged")
    fresh = ordered.filter(~unchanged).with_columns(
        (pl.col("_previous").fill_null(0) + pl.int_range(1, pl.len() + 1).over(S.ARTICLE_KEY))
        .cast(pl.Int32)
        .alias(S.VERSION),
        pl.concat_str(
            S.ARTICLE_KEY,
            S.SHA256,
            pl.col(S.RECORD).cast(pl.String),
            separator="\x00",
            ignore_nulls=True,
        )
        .map_batches(_article_ids, return_dtype=pl.String)
        .alias(S.ARTICLE_ID),
        pl.lit(None, dtype=pl.String).alias(S.TITLE),
    )
    skipped = ordered.filter(unchanged).select(S.PATH, S.RECORD, S.ARTICLE_KEY)
    return S.conform(fresh, S.ARTICLES).sort(S.PATH, S.RECORD, nulls_last=False), skipped


def _path_key() -> pl.Expr:
    """The key of an article known by where it lies: its path, plus ``#line`` for a record."""
    return (
        pl.when(pl.col(S.RECORD).is_not_null())
        .then(pl.format("{}#{}", S.PATH, S.RECORD))
        .otherwise(pl.col(S.PATH))
    )


def lookup_keys(records: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_KEY (path key), EXTERNAL_ID, URL: what earlier articles a batch's records may
    continue are looked up by (warehouse.ledger.find_latest_versions)."""
    return records.select(_path_key().alias(S.ARTICLE_KEY), S.EXTERNAL_ID, S.URL)


def _article_ids(keys: pl.Series) -> pl.Series:
    return sha256_hex(keys).str.slice(0, 32)


def split_articles(
    articles: pl.DataFrame, clock: Stopwatch | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """ARTICLE_ID, TEXT (and TITLE_LINE when a format says whether a title line is there)
    -> (the same rows with TITLE, NORMALISED paragraphs of every article)."""
    clock = clock or Stopwatch()
    with clock.stage("split"):
        titled = articles.drop(S.TITLE, strict=False).pipe(find_titles).drop(BODY_START)
        split = split_paragraphs(articles)
    with clock.stage("normalise_hash"):
        normalised = normalise_paragraphs(split)
    return titled, normalised


def screen_articles(
    articles: pl.DataFrame, normalised: pl.DataFrame, *, max_paragraph_chars: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Set aside articles that cannot be built into a batch, each with a reason code.

    -> (ARTICLES kept, their NORMALISED paragraphs, ARTICLE_ID/PATH/RECORD/REASON/DETAIL set
    aside):
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
        S.RECORD,
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
    normalised: pl.DataFrame,
    known: pl.DataFrame,
    articles: pl.DataFrame | None = None,
    *,
    detected: pl.DataFrame | None = None,
    cache_dir: Path | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """NORMALISED (+ known: PARAGRAPH_HASH, LANGUAGE already stored; articles: ARTICLE_ID,
    TEXT) -> (ARTICLE_ID, LANGUAGE per article; PARAGRAPH_HASH, LANGUAGE per paragraph).

    Only paragraphs new to the warehouse are run through the language model; stored ones bring
    their stored language. An article's language is the one most of its characters are in; an
    article none of whose paragraphs could be judged (a headline over a two-word body) is
    judged on its whole text, title included, when `articles` is given. A paragraph too short
    to judge inherits the language of the first article it appears in.

    `detected` (PARAGRAPH_HASH, LANGUAGE: the model's verdicts, computed ahead on a Dask
    worker) replaces the model run on the new paragraphs; it must cover all of them.
    `cache_dir` holds the unpacked language model (transforms.tagging.identify_languages).
    """
    distinct = (
        normalised.unique(S.PARAGRAPH_HASH, keep="first")
        .select(S.PARAGRAPH_HASH, S.TEXT)
        .join(known, on=S.PARAGRAPH_HASH, how="anti")
    )
    if detected is not None:
        fresh = distinct.select(S.PARAGRAPH_HASH).join(
            detected.select(S.PARAGRAPH_HASH, S.LANGUAGE),
            on=S.PARAGRAPH_HASH,
            how="left",
            maintain_order="left",
        )
        missing = distinct.join(detected, on=S.PARAGRAPH_HASH, how="anti").height
        if missing:
            raise ValueError(f"{missing} new paragraphs have no precomputed language verdict")
    elif distinct.is_empty():  # nothing to judge: skip loading the language model
        fresh = distinct.select(S.PARAGRAPH_HASH, pl.lit(None, pl.String).alias(S.LANGUAGE))
    else:
        fresh = detect_language(distinct, cache_dir=cache_dir).select(S.PARAGRAPH_HASH, S.LANGUAGE)
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
    if articles is not None:
        unjudged = articles.select(S.ARTICLE_ID, S.TEXT).join(
            article_languages, on=S.ARTICLE_ID, how="anti"
        )
        if not unjudged.is_empty():
            whole = detect_language(
                unjudged.rename({S.ARTICLE_ID: S.PARAGRAPH_HASH}), cache_dir=cache_dir
            )
            article_languages = pl.concat(
                [
                    article_languages,
                    whole.drop_nulls(S.LANGUAGE).select(
                        pl.col(S.PARAGRAPH_HASH).alias(S.ARTICLE_ID), S.LANGUAGE
                    ),
                ]
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
    """ARTICLES -> adds N_CHARS, LETTER_SHARE, HAS_WORDS, MOJIBAKE_MARKS, GARBAGE_MARKS,
    ACTIVE_MARKS, TITLE_EXPECTED (for the gate)."""
    text = pl.col(S.TEXT)
    sample = text.str.head(LETTER_SAMPLE_CHARS)
    n_sample = sample.str.len_chars()
    return articles.with_columns(
        text.str.len_chars().alias(S.N_CHARS),
        pl.when(n_sample > 0)
        .then(sample.str.count_matches(r"[\p{L}\p{M}]") / n_sample)
        .otherwise(0.0)
        .alias(S.LETTER_SHARE),
        text.str.contains(r"\p{L}").fill_null(False).alias(S.HAS_WORDS),
        # the pairs transforms.decode counts when it rejects a whole file
        text.str.count_matches(MOJIBAKE.pattern).cast(pl.Int64).alias(S.MOJIBAKE_MARKS),
        text.str.count_matches(GARBAGE_CHARACTERS).cast(pl.Int64).alias(S.GARBAGE_MARKS),
        # scripts, event attributes, javascript: URLs: judged on the whole text, so a
        # paragraph already in the warehouse cannot carry them in unseen
        count_active_content(text).alias(S.ACTIVE_MARKS),
        # paragraphs on blank lines: the layout in which the first line is a title
        text.str.contains(r"\n[ \t]*\n").alias(S.TITLE_EXPECTED),
    )


LANGUAGE_FREE_TAGGERS = frozenset(TAGGERS) - {"language"}
"""The taggers whose tags depend on a paragraph's text alone, not on its language: these can
be computed before the warehouse says which paragraphs are new and what language they get."""
_TAG_ORDER = (S.PARAGRAPH_HASH, S.TAG_TYPE, S.SPAN_START, S.TAG_VALUE, S.SPAN_END)
"""The row order of tag_paragraphs' output (by paragraph hash, then type, span, value)."""


@dataclass(frozen=True)
class Precomputed:
    """What the language model and the language-free taggers say about every distinct
    paragraph of a batch, computed ahead (on a Dask worker) from the batch's files alone.

    The warehouse decides later which of these paragraphs are new; build_batch keeps only
    theirs. Versioned like any tags: the same tagger versions as tag_paragraphs."""

    languages: pl.DataFrame  # PARAGRAPH_HASH, LANGUAGE: detect_language's verdict (null: unsure)
    tags: pl.DataFrame  # TAGS of LANGUAGE_FREE_TAGGERS


def precompute_paragraphs(
    normalised: pl.DataFrame,
    *,
    gazetteer: Gazetteer,
    cache_dir: Path | None = None,
    clock: Stopwatch | None = None,
    stored: pl.Series | None = None,
) -> Precomputed:
    """NORMALISED -> the language verdict and the language-free tags of each distinct
    paragraph: the CPU-heavy half of language detection and tagging, which needs nothing from
    the warehouse. `cache_dir` holds the unpacked language model. Paragraphs whose hash is in
    `stored` (the warehouse holds them, so they will not be new) are left out."""
    distinct = normalised.unique(S.PARAGRAPH_HASH, keep="first", maintain_order=True).select(
        S.PARAGRAPH_HASH, S.TEXT
    )
    if stored is not None:
        distinct = distinct.filter(~pl.col(S.PARAGRAPH_HASH).is_in(stored.implode()))
    if distinct.is_empty():
        return Precomputed(
            distinct.select(S.PARAGRAPH_HASH, pl.lit(None, pl.String).alias(S.LANGUAGE)),
            S.empty(S.TAGS),
        )
    clock = clock or Stopwatch()
    with clock.stage("language"):
        languages = detect_language(distinct, cache_dir=cache_dir).select(
            S.PARAGRAPH_HASH, S.LANGUAGE
        )
    # The language-free taggers never read LANGUAGE; tag_with wants the column all the same.
    unjudged = distinct.with_columns(pl.lit(None, pl.String).alias(S.LANGUAGE))
    with clock.stage("tag"):
        tags = tag_with(unjudged, LANGUAGE_FREE_TAGGERS, gazetteer=gazetteer)
    return Precomputed(languages, tags)


def _complete(
    precomputed: Precomputed,
    new: pl.DataFrame,
    *,
    gazetteer: Gazetteer | None,
    clock: Stopwatch,
    cache_dir: Path | None,
) -> Precomputed:
    """`precomputed` plus what it lacks for the new paragraphs (PARAGRAPH_HASH, TEXT): a
    paragraph left out as stored when the batch was prepared may be gone by the time it is
    finished (another process deleted it in between)."""
    missing = new.join(precomputed.languages, on=S.PARAGRAPH_HASH, how="anti")
    if missing.is_empty():
        return precomputed
    if gazetteer is None:
        raise ValueError("build_batch needs a gazetteer to tag new paragraphs")
    extra = precompute_paragraphs(missing, gazetteer=gazetteer, cache_dir=cache_dir, clock=clock)
    return Precomputed(
        pl.concat([precomputed.languages, extra.languages]),
        pl.concat([precomputed.tags, extra.tags]),
    )


def _tags_of(
    paragraphs: pl.DataFrame, gazetteer: Gazetteer | None, precomputed: Precomputed | None
) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE of new paragraphs -> their TAGS, as tag_paragraphs gives
    them: tagged here, or the precomputed language-free tags of these paragraphs plus their
    language tags (a paragraph's language is known only now)."""
    if paragraphs.is_empty():
        return S.empty(S.TAGS)
    if precomputed is None:
        if gazetteer is None:
            raise ValueError("build_batch needs a gazetteer to tag new paragraphs")
        return tag_paragraphs(paragraphs, gazetteer=gazetteer)
    hashes = paragraphs[S.PARAGRAPH_HASH].implode()
    ahead = precomputed.tags.filter(pl.col(S.PARAGRAPH_HASH).is_in(hashes))
    languages = tag_with(paragraphs, {"language"}, gazetteer=None)
    # No row of one tagger can equal a row of another (each has its own tag types), so the
    # two parts only need tag_paragraphs' order.
    return pl.concat([ahead, languages]).sort(_TAG_ORDER, nulls_last=False, maintain_order=True)


@dataclass(frozen=True)
class TransformedBatch:
    """The frames a batch publishes, each in its declared schema."""

    articles: pl.DataFrame  # ARTICLES minus TEXT, plus LANGUAGE, N_PARAGRAPHS, N_CHARS,
    # BODY_SHA256 and the DATELINES columns
    occurrences: pl.DataFrame  # OCCURRENCES
    paragraphs: pl.DataFrame  # PARAGRAPHS, new to the warehouse
    tags: pl.DataFrame  # TAGS of the new paragraphs
    title_tags: pl.DataFrame = field(default_factory=lambda: S.empty(S.TITLE_TAGS))


def build_batch(
    articles: pl.DataFrame,
    normalised: pl.DataFrame,
    *,
    known: pl.DataFrame,
    gazetteer: Gazetteer | None,
    clock: Stopwatch | None = None,
    precomputed: Precomputed | None = None,
    cache_dir: Path | None = None,
) -> TransformedBatch:
    """ARTICLES + NORMALISED (+ known: PARAGRAPH_HASH, LANGUAGE of paragraphs already stored)
    -> occurrences, new paragraphs, tags, title tags; articles gain their dateline.

    `gazetteer` may be None only when there is no article; with `precomputed` (language
    verdicts and language-free tags of every paragraph of NORMALISED, from
    precompute_paragraphs) the result is the same, and only the work that depends on the
    warehouse, the titles and the datelines is done here. `cache_dir` holds the unpacked
    language model.
    """
    clock = clock or Stopwatch()
    with clock.stage("dedupe"):
        occurrences = mark_occurrences(
            normalised, articles=articles, known_hashes=known[S.PARAGRAPH_HASH]
        )
        new = collect_new_paragraphs(normalised, occurrences).drop(S.LANGUAGE)
    if precomputed is not None:
        precomputed = _complete(
            precomputed, new, gazetteer=gazetteer, clock=clock, cache_dir=cache_dir
        )
    with clock.stage("language"):
        article_languages, paragraph_languages = assign_languages(
            normalised,
            known,
            articles,
            detected=None if precomputed is None else precomputed.languages,
            cache_dir=cache_dir,
        )
    paragraphs = new.join(paragraph_languages, on=S.PARAGRAPH_HASH, how="left").pipe(
        S.conform, S.PARAGRAPHS
    )
    with clock.stage("tag"):
        tags = _tags_of(
            paragraphs.select(S.PARAGRAPH_HASH, S.TEXT, S.LANGUAGE), gazetteer, precomputed
        )
        title_tags, datelines = _headlines(articles, normalised, gazetteer)
    stats = (
        occurrences.sort(S.ARTICLE_ID, S.POSITION)
        .group_by(S.ARTICLE_ID, maintain_order=True)
        .agg(
            pl.len().cast(pl.Int32).alias(N_PARAGRAPHS),
            pl.col(S.PARAGRAPH_HASH).str.join("\n").alias(S.BODY_SHA256),
        )
        .with_columns(pl.col(S.BODY_SHA256).map_batches(sha256_hex, return_dtype=pl.String))
    )
    article_rows = (
        articles.pipe(measure_articles)
        .drop(S.TEXT)
        .join(article_languages, on=S.ARTICLE_ID, how="left")
        .join(stats, on=S.ARTICLE_ID, how="left")
        .with_columns(pl.col(N_PARAGRAPHS).fill_null(0))
        .join(datelines, on=S.ARTICLE_ID, how="left")
        .pipe(date_from_dateline)
        .sort(S.PATH)
    )
    return TransformedBatch(article_rows, occurrences, paragraphs, tags, title_tags)


def _headlines(
    articles: pl.DataFrame, normalised: pl.DataFrame, gazetteer: Gazetteer | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(TITLE_TAGS of the articles' titles, DATELINES of their first paragraphs)."""
    if articles.is_empty():
        return S.empty(S.TITLE_TAGS), S.empty(S.DATELINES)
    if gazetteer is None:
        raise ValueError("build_batch needs a gazetteer to read titles and datelines")
    first = normalised.filter(pl.col(S.POSITION) == 0).select(
        S.ARTICLE_ID, pl.col(S.TEXT).alias(S.RAW_TEXT)
    )
    return (
        tag_titles(articles.select(S.ARTICLE_ID, S.TITLE), gazetteer=gazetteer),
        find_datelines(first, gazetteer=gazetteer),
    )


def date_from_dateline(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLES with the DATELINES columns: a dateline's date becomes PUBLISHED_AT only where
    nothing better than the file's mtime is known and the dateline names its year
    (PUBLISHED_ORIGIN 'dateline'); otherwise it stays text in DATELINE_DATE."""
    better = (pl.col(S.PUBLISHED_ORIGIN) == "mtime") & pl.col(S.DATELINE_PUBLISHED).is_not_null()
    return articles.with_columns(
        pl.when(better)
        .then(pl.col(S.DATELINE_PUBLISHED))
        .otherwise(S.PUBLISHED_AT)
        .alias(S.PUBLISHED_AT),
        pl.when(better)
        .then(pl.lit("dateline"))
        .otherwise(S.PUBLISHED_ORIGIN)
        .alias(S.PUBLISHED_ORIGIN),
    ).drop(S.DATELINE_PUBLISHED)
