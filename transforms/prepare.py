"""A batch's transforms in two halves, cut where the warehouse comes in; every run uses both.

- :func:`prepare_batch`: everything that depends on the batch's files alone: read, hash,
  decode, parse, resolve metadata, find titles, split, normalise and hash, and the language
  verdict and language-free tags of every distinct paragraph (that the warehouse does not
  hold, when it is asked: see prepare_batch). It assumes nothing about what
  earlier batches publish: files are only compared with each other and with the run's ledger
  (which no batch of the run changes), records and paragraphs are keyed by RECORD_KEY (path
  and line), not by article id. A serial run calls it just before finishing the batch; with
  Dask (`nutgraf run --workers N` / `--dask ADDRESS`) workers run it batches ahead.
- :func:`settle_files` and :func:`attach_articles` (in the one writer, just before the gate):
  what depends on what is stored by then: duplicate files (their bytes may have arrived in the
  previous batch), article identity and versions, and through flows.batch and build_batch
  occurrence kinds, new paragraphs, languages and the tags kept (those of paragraphs that
  turned out known are dropped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.decode import CONTENT, decode_articles, read_files
from transforms.discover import classify_files
from transforms.formats import JsonFields, parse_records
from transforms.gazetteer import load_gazetteer
from transforms.langid import load_model
from transforms.pipeline import (
    Precomputed,
    Stopwatch,
    precompute_paragraphs,
    resolve_metadata,
    split_articles,
)

RECORD_KEY = "record_key"
"""A record's key inside its batch (path, NUL, line): stands in for ARTICLE_ID until the
writer has identified the articles."""
NO_KNOWN_FILES = pl.Schema({S.SHA256: pl.String, "first_path": pl.String})
"""classify_files' `known` (warehouse.ledger.find_known_files) when the warehouse is not asked."""


@dataclass(frozen=True)
class PrepareOptions:
    """The settings a worker needs, with paths made absolute (a worker may run elsewhere)."""

    landing: Path
    max_file_bytes: int
    fields: JsonFields
    source_from_folder: bool
    fallback_source: tuple[str, str]
    tags_file: Path | None
    cache_dir: Path | None = None  # the unpacked language model (setting cache_dir)


@dataclass(frozen=True)
class PreparedBatch:
    """A batch transformed as far as its files alone allow (see the module docstring)."""

    files: pl.DataFrame  # read_files' rows without the bytes: PATH, SIZE, MTIME, REASON, ...
    decoded: pl.DataFrame  # files new within the batch, decoded
    records: pl.DataFrame  # their parsed records with resolved metadata
    bad: pl.DataFrame  # their records that failed to parse (RECORDS with REASON, DETAIL)
    titles: pl.DataFrame  # RECORD_KEY, TITLE
    normalised: pl.DataFrame  # NORMALISED, ARTICLE_ID holding the RECORD_KEY
    precomputed: Precomputed  # languages and language-free tags of the distinct paragraphs
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the preparing process


def warm_up(options: PrepareOptions) -> None:
    """Load what preparing a batch reads first: the gazetteer and the language model (about
    2 s each, kept for the process), e.g. in a thread while Prefect's server starts. A file
    that fails to load is left for the run itself to report."""
    try:
        load_gazetteer(options.tags_file)
        load_model(options.cache_dir)
    except Exception:  # noqa: BLE001 - reported where the run loads it again
        return


def record_key() -> pl.Expr:
    """PATH, RECORD -> RECORD_KEY (a path holds no NUL, so keys never collide)."""
    return pl.concat_str(
        S.PATH, pl.col(S.RECORD).cast(pl.String), separator="\x00", ignore_nulls=True
    ).alias(RECORD_KEY)


def prepare_batch(
    files: pl.DataFrame,
    ledger: pl.DataFrame,
    *,
    options: PrepareOptions,
    before_read: Callable[[str], None] | None = None,
    stored_paragraphs: Callable[[pl.Series], pl.Series] | None = None,
) -> PreparedBatch:
    """Files of a batch (PATH, SIZE, MTIME, REASON, DETAIL) + the run's ledger rows of those
    paths -> PreparedBatch. Reads the landing folder; never the warehouse itself.

    `stored_paragraphs` (paragraph hashes -> those the warehouse holds), given where the batch
    is finished right after it is prepared (a serial run): stored paragraphs are neither
    judged nor tagged, as they will not be new. A worker preparing batches ahead cannot know
    which paragraphs earlier batches will store, so it prepares them all."""
    clock = Stopwatch()
    with clock.stage("read_decode"):
        raw = read_files(
            files,
            landing=options.landing,
            max_file_bytes=options.max_file_bytes,
            before_read=before_read,
        )
        # Duplicates inside the batch and rewritten files are known now; those of files
        # stored meanwhile only to the writer, which drops their rows (settle_files).
        alone = classify_files(raw, S.empty(NO_KNOWN_FILES), ledger)
        decoded = (
            decode_articles(alone.filter(pl.col(S.STATUS) == S.FILE_NEW))
            .with_columns(
                pl.when(pl.col(S.REASON).is_not_null())
                .then(pl.lit(S.FILE_QUARANTINED))
                .otherwise(pl.col(S.STATUS))
                .alias(S.STATUS)
            )
            .sort(S.PATH)
        )
    with clock.stage("parse"):
        new = decoded.filter(pl.col(S.STATUS) == S.FILE_NEW)
        parsed = parse_records(new, options.fields)
        records = (
            parsed.filter(pl.col(S.REASON).is_null())
            .drop(S.REASON, S.DETAIL)
            .join(new.select(S.PATH, S.MTIME, S.ENCODING), on=S.PATH, how="left")
            .pipe(
                resolve_metadata,
                source_from_folder=options.source_from_folder,
                fallback_source=options.fallback_source,
            )
        )
    # Keyed by record: which article a record is, is the writer's to say.
    keyed = records.sort(S.PATH, S.RECORD, nulls_last=False).select(
        record_key().alias(S.ARTICLE_ID),
        pl.col(S.TEXT).cast(pl.String),
        pl.col(S.TITLE_LINE).cast(pl.Boolean),
    )
    titled, normalised = split_articles(keyed, clock)
    titles = titled.select(pl.col(S.ARTICLE_ID).alias(RECORD_KEY), S.TITLE)
    stored = None
    if stored_paragraphs is not None:
        with clock.stage("dedupe"):
            stored = stored_paragraphs(normalised[S.PARAGRAPH_HASH].unique())
    with clock.stage("tag"):
        gazetteer = load_gazetteer(options.tags_file)
    precomputed = precompute_paragraphs(
        normalised, gazetteer=gazetteer, cache_dir=options.cache_dir, clock=clock, stored=stored
    )
    return PreparedBatch(
        files=raw.drop(CONTENT),  # the bytes never travel back from a worker
        decoded=decoded,
        records=records,
        bad=parsed.filter(pl.col(S.REASON).is_not_null()),
        titles=titles,
        normalised=normalised,
        precomputed=precomputed,
        timings={name: round(seconds, 3) for name, seconds in clock.seconds.items()},
        cpu={name: round(seconds, 3) for name, seconds in clock.cpu.items()},
    )


def settle_files(
    prepared: PreparedBatch, known: pl.DataFrame, ledger: pl.DataFrame
) -> pl.DataFrame:
    """The batch's files, each with its status, now that `known` (SHA256,
    first_path of the batch's hashes already stored) says which are duplicates of stored files.

    A file new within the batch but stored meanwhile becomes a duplicate: its decoded text is
    dropped: a duplicate's text is never needed."""
    classified = classify_files(prepared.files, known, ledger)
    is_new = pl.col(S.STATUS) == S.FILE_NEW
    still_new = classified.filter(is_new)[S.PATH].implode()
    decoded = prepared.decoded.filter(pl.col(S.PATH).is_in(still_new))
    rest = classified.filter(~is_new).with_columns(
        pl.lit(None, dtype=pl.String).alias(S.TEXT),
        pl.lit(None, dtype=pl.String).alias(S.ENCODING),
    )
    return pl.concat([decoded, rest.select(decoded.columns)]).sort(S.PATH)


def records_of(prepared: PreparedBatch, read: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records, records that failed to parse) of the files `read` (settle_files) still holds
    as new."""
    paths = read.filter(pl.col(S.STATUS) == S.FILE_NEW)[S.PATH].implode()
    keep = pl.col(S.PATH).is_in(paths)
    return prepared.records.filter(keep), prepared.bad.filter(keep)


def attach_articles(
    prepared: PreparedBatch, articles: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """ARTICLES identified by the writer (transforms.pipeline.identify_articles) -> (ARTICLES
    with TITLE filled, NORMALISED paragraphs of every article), taken from the prepared
    batch. Records that turned out unchanged have no article and drop out."""
    ids = articles.select(S.ARTICLE_ID, record_key())
    titled = (
        articles.drop(S.TITLE)
        .with_columns(record_key())
        .join(prepared.titles, on=RECORD_KEY, how="left", maintain_order="left")
        .drop(RECORD_KEY)
    )
    normalised = (
        prepared.normalised.rename({S.ARTICLE_ID: RECORD_KEY})
        .join(ids, on=RECORD_KEY, how="inner", maintain_order="left")
        .drop(RECORD_KEY)
    )
    return S.conform(titled, S.ARTICLES), S.conform(normalised, S.NORMALISED)
