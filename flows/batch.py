"""One batch's way through a run, the same for every run: `prepare` (the batch's files alone:
read, decode, parse, split, normalise, hash, and the language verdicts and language-free tags
of its distinct paragraphs) then `finish_batch` (what depends on the warehouse as it stands:
duplicate files, article identity and versions, occurrence kinds, the new paragraphs and
their tags). A serial run calls `prepare` in its own process just before finishing the batch;
with Dask (flows.scaleout) workers run the same task ahead while this process finishes,
gates and publishes earlier batches.
"""

from __future__ import annotations

from functools import partial

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.faults import Faults
from flows.retries import RETRIES
from flows.settings import Settings, open_warehouse
from transforms import schema as S
from transforms.formats import JsonFields
from transforms.gazetteer import load_gazetteer
from transforms.pipeline import (
    Precomputed,
    Stopwatch,
    TransformedBatch,
    build_batch,
    identify_articles,
    lookup_keys,
    screen_articles,
)
from transforms.prepare import (
    PreparedBatch,
    PrepareOptions,
    attach_articles,
    prepare_batch,
    records_of,
    settle_files,
)
from transforms.staged import SET_ASIDE, UNCHANGED, BatchInputs, Staged
from warehouse.ledger import find_known_files, find_known_paragraphs, find_latest_versions


@task(name="prepare-batch", cache_policy=NO_CACHE, **RETRIES)
def prepare(
    files: pl.DataFrame,
    ledger: pl.DataFrame,
    options: PrepareOptions,
    faults: Faults,
    settings: Settings | None = None,
    before: pl.Series | None = None,
) -> PreparedBatch:
    """Read and transform a batch as far as its files alone allow (here, in a second thread
    of this process or on a Dask worker).

    `settings`: given when the batch is finished in this process (a serial run), so the
    paragraphs the warehouse already holds are not judged and tagged for nothing; `before`:
    the paragraph hashes of a batch that will be published before this one is finished,
    likewise left out."""
    stored = None if settings is None else partial(_stored_paragraphs, settings, before)
    return prepare_batch(
        files, ledger, options=options, before_read=faults.before_read, stored_paragraphs=stored
    )


def _stored_paragraphs(
    settings: Settings, before: pl.Series | None, hashes: pl.Series
) -> pl.Series:
    """The paragraph hashes among `hashes` that the warehouse holds or `before` names."""
    named = pl.Series(S.PARAGRAPH_HASH, [], pl.String)
    if before is not None:
        held = hashes.is_in(before.implode())
        named, hashes = hashes.filter(held), hashes.filter(~held)
    with open_warehouse(settings) as con:
        stored = find_known_paragraphs(con, hashes)[S.PARAGRAPH_HASH]
    return pl.concat([stored, named.rename(S.PARAGRAPH_HASH)])


def prepare_options(settings: Settings) -> PrepareOptions:
    """What `prepare` needs from the settings, paths absolute (workers have their own cwd)."""
    return PrepareOptions(
        landing=settings.landing.resolve(),
        max_file_bytes=settings.max_file_bytes,
        fields=json_fields(settings),
        source_from_folder=settings.source_from_folder,
        fallback_source=settings.fallback_source,
        tags_file=None if settings.tags_file is None else settings.tags_file.resolve(),
        cache_dir=settings.cache_dir.resolve(),
    )


@task(name="finish-batch", cache_policy=NO_CACHE, **RETRIES)
def finish_batch(
    settings: Settings, prepared: PreparedBatch, ledger: pl.DataFrame, faults: Faults
) -> tuple[pl.DataFrame, Staged]:
    """Finish a prepared batch against the warehouse as it is now: (the batch's files, each
    with its status: new, duplicate, quarantined, touched; the staged batch)."""
    faults.reach("read:start")
    with open_warehouse(settings) as con:
        known = find_known_files(con, prepared.files[S.SHA256].drop_nulls())
    faults.reach("read:files")
    read = settle_files(prepared, known, ledger)
    faults.reach("read:decoded")
    records, bad = records_of(prepared, read)
    clock = Stopwatch()
    with clock.stage("split"):
        with open_warehouse(settings) as con:
            latest = find_latest_versions(con, lookup_keys(records))
        articles, unchanged = identify_articles(records, earlier=latest)
        articles, normalised = attach_articles(prepared, articles)
    staged = stage_articles(
        settings, read, bad, articles, normalised, unchanged, clock, faults, prepared.precomputed
    )
    return read, staged


def json_fields(settings: Settings) -> JsonFields:
    """The JSON / front-matter keys the settings name."""
    return JsonFields(
        title=settings.json_title_field,
        body=tuple(settings.json_body_fields),
        url=settings.json_url_field,
        source=settings.json_source_field,
        published_at=settings.json_published_at_field,
        author=settings.json_author_field,
        language=settings.json_language_field,
        id=settings.json_id_field,
    )


def stage_articles(
    settings: Settings,
    files: pl.DataFrame,
    bad: pl.DataFrame,
    articles: pl.DataFrame,
    normalised: pl.DataFrame,
    unchanged: pl.DataFrame,
    clock: Stopwatch,
    faults: Faults,
    precomputed: Precomputed,
) -> Staged:
    """Identified, split articles -> the staged batch: screen, dedupe against the warehouse,
    detect language and tag."""
    with clock.stage("split"):
        articles, normalised, screened = screen_articles(
            articles, normalised, max_paragraph_chars=settings.max_paragraph_chars
        )
        set_aside = pl.concat(
            [
                bad.select(
                    pl.lit(None, pl.String).alias(S.ARTICLE_ID),
                    S.PATH,
                    S.RECORD,
                    S.REASON,
                    S.DETAIL,
                    pl.concat_str(pl.lit("parse:"), S.REASON).alias(S.RULE),
                ),
                screened.with_columns(
                    pl.concat_str(pl.lit("screen:"), S.REASON).alias(S.RULE)
                ).select(SET_ASIDE.names()),
            ]
        ).pipe(S.conform, SET_ASIDE)
    faults.reach("transform:split")
    with clock.stage("dedupe"):
        with open_warehouse(settings) as con:
            known = find_known_paragraphs(con, normalised[S.PARAGRAPH_HASH])
    inputs = BatchInputs(articles, normalised, known, precomputed)
    staged = _build(settings, files, set_aside, inputs, unchanged.pipe(S.conform, UNCHANGED), clock)
    faults.reach("transform:tagged")
    return staged


def _build(
    settings: Settings,
    files: pl.DataFrame,
    set_aside: pl.DataFrame,
    inputs: BatchInputs,
    unchanged: pl.DataFrame,
    clock: Stopwatch,
) -> Staged:
    """Dedupe, detect language and tag `inputs` into the batch a gate sees."""
    with clock.stage("tag"):
        # Loading the gazetteer costs about a second (once a process): not on a batch with
        # nothing to tag. Titles and datelines are read here even when a worker tagged the
        # paragraphs ahead.
        needed = not inputs.articles.is_empty()
        gazetteer = load_gazetteer(settings.tags_file) if needed else None
    batch = build_batch(
        inputs.articles,
        inputs.normalised,
        known=inputs.known,
        gazetteer=gazetteer,
        clock=clock,
        precomputed=inputs.precomputed,
        cache_dir=settings.cache_dir.resolve(),
    )
    timings = {name: round(seconds, 3) for name, seconds in clock.seconds.items()}
    cpu = {name: round(seconds, 3) for name, seconds in clock.cpu.items()}
    return Staged(files, batch, set_aside, timings, inputs, unchanged, cpu=cpu)


@task(name="set-aside-articles", cache_policy=NO_CACHE)
def set_aside_articles(settings: Settings, staged: Staged, quarantined: pl.DataFrame) -> Staged:
    """Rebuild the batch without the articles a quarantine-severity check named: their
    paragraphs, occurrences and tags go, and a paragraph they shared with kept articles is
    first seen in the next article that has it."""
    inputs = staged.inputs
    if inputs is None:
        raise ValueError("set_aside_articles needs the batch's inputs")
    ids = quarantined[S.ARTICLE_ID].implode()
    articles = inputs.articles.filter(~pl.col(S.ARTICLE_ID).is_in(ids))
    normalised = inputs.normalised.filter(~pl.col(S.ARTICLE_ID).is_in(ids))
    aside = quarantined.join(
        inputs.articles.select(S.ARTICLE_ID, S.PATH, S.RECORD), on=S.ARTICLE_ID, how="inner"
    ).select(staged.set_aside.columns)
    set_aside = pl.concat([staged.set_aside, aside])
    kept_inputs = BatchInputs(articles, normalised, inputs.known, inputs.precomputed)
    if normalised.height == inputs.normalised.height:
        # Only articles without paragraphs (empty ones) go: nothing else changes.
        batch = staged.batch
        kept = batch.articles.filter(~pl.col(S.ARTICLE_ID).is_in(ids))
        rebuilt = TransformedBatch(kept, batch.occurrences, batch.paragraphs, batch.tags)
        return Staged(staged.files, rebuilt, set_aside, {}, kept_inputs, staged.unchanged)
    return _build(settings, staged.files, set_aside, kept_inputs, staged.unchanged, Stopwatch())
