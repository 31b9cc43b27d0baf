"""The retag flow: re-tag every stored paragraph with some taggers. Orchestration only.

Under the writer lock: decide which taggers to run (those whose current tags are not of the
code's version, or the ones asked for), read the paragraphs page by page (one task per page,
its tags written to a file), then store every page's tags in one transaction under one retag
run per tagger. Paragraphs are never rewritten, except `paragraphs.language` by the language
tagger; `current_tags` shows the new rows, `tag_diff` compares versions.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Failed, State

from expectations.tag_rules import CHECK, find_invalid_tags
from flows.faults import Faults
from flows.retries import RETRIES
from flows.settings import Settings, open_warehouse
from transforms import schema as S
from transforms.errors import InvalidTags, NutgrafError
from transforms.gazetteer import load_gazetteer, vocabulary
from transforms.normalise import sha256_hex
from transforms.retag import TaggerChange, check_taggers, choose_taggers, retag_paragraphs
from transforms.tagging import tagger_versions
from warehouse.errors import WarehouseMissing
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.retag import (
    RetagChunk,
    RetagRun,
    count_paragraphs,
    publish_retag,
    read_current_versions,
    read_paragraph_page,
)

STATUS_RETAGGED = "retagged"
STATUS_NOTHING = "nothing_to_retag"
ARTIFACT_KEY = "nutgraf-retag-summary"

_INVALID_EXAMPLES = 5


@dataclass(frozen=True)
class RetagPlan:
    """What a retag will do: the taggers, how many paragraphs, and every tagger's versions."""

    changes: list[TaggerChange]
    n_paragraphs: int
    current: dict[str, tuple[str, ...]]  # tagger -> versions of its current tags


@dataclass
class PageResult:
    """A page of paragraphs re-tagged: where its rows wait, and what it counted."""

    tags_path: Path
    languages_path: Path | None
    paragraphs: int
    last_hash: str
    tags: dict[str, int] = field(default_factory=dict)  # per tagger
    seconds: dict[str, float] = field(default_factory=dict)  # per tagger


@task(name="plan-retag", cache_policy=NO_CACHE, **RETRIES)
def plan_retag(settings: Settings, requested: tuple[str, ...] | None) -> RetagPlan:
    """Migrate the warehouse; read the versions of the current tags; choose the taggers."""
    with open_warehouse(settings) as con:
        apply_migrations(con)
        current = read_current_versions(con)
        n_paragraphs = count_paragraphs(con)
    changes = choose_taggers(
        current, versions=tagger_versions(), requested=requested, n_paragraphs=n_paragraphs
    )
    versions = {
        tagger: tuple(
            sorted(current.filter(pl.col(S.TAGGER) == tagger)[S.TAGGER_VERSION].drop_nulls())
        )
        for tagger in tagger_versions()
    }
    return RetagPlan(changes, n_paragraphs, versions)


@task(name="retag-page", cache_policy=NO_CACHE)
def retag_page(
    settings: Settings, plan: RetagPlan, after: str, folder: Path, page_no: int, faults: Faults
) -> PageResult:
    """Read one page of stored paragraphs, tag it with each planned tagger, check the tags and
    write them (and new languages) to files in `folder`."""
    with open_warehouse(settings) as con:
        paragraphs = read_paragraph_page(
            con, after=after, limit=settings.retag_chunk_paragraphs
        ).pipe(S.conform, S.STORED_PARAGRAPHS)
    gazetteer = load_gazetteer(settings.tags_file)
    cache_dir = settings.cache_dir.resolve()
    result = PageResult(
        folder / f"tags-{page_no:06d}.parquet",
        None,
        paragraphs.height,
        paragraphs[S.PARAGRAPH_HASH][-1] if paragraphs.height else after,
    )
    frames = []
    for change in plan.changes:
        started = time.perf_counter()
        tags, languages = retag_paragraphs(
            paragraphs, change.tagger, gazetteer=gazetteer, cache_dir=cache_dir
        )
        result.seconds[change.tagger] = time.perf_counter() - started
        result.tags[change.tagger] = tags.height
        frames.append(tags)
        if languages is not None:
            result.languages_path = folder / f"languages-{page_no:06d}.parquet"
            languages.write_parquet(result.languages_path)
    tags = pl.concat(frames) if frames else S.empty(S.TAGS)
    invalid = find_invalid_tags(
        tags, paragraphs, vocabulary=vocabulary(gazetteer, cache_dir=cache_dir)
    )
    if not invalid.is_empty():
        examples = "; ".join(
            f"{row[CHECK]}: {row[S.TAG_TYPE]} {row[S.TAG_VALUE]!r} on paragraph "
            f"{row[S.PARAGRAPH_HASH][:12]}"
            for row in invalid.head(_INVALID_EXAMPLES).iter_rows(named=True)
        )
        source = f"the tags file {settings.tags_file} or " if settings.tags_file else ""
        raise InvalidTags(
            f"{invalid.height} new tags fail the quality gate's tag checks ({examples}); "
            f"nothing was re-tagged. Fix {source}the tagger and retag again"
        )
    tags.write_parquet(result.tags_path)
    faults.reach("retag:page")
    return result


@task(name="publish-retag", cache_policy=NO_CACHE, **RETRIES)
def publish(settings: Settings, runs: list[RetagRun], pages: list[PageResult], faults: Faults):
    """One transaction: the retag runs, every page's tags, the new languages."""
    with open_warehouse(settings) as con:
        publish_retag(con, runs, _read_pages(pages), step=faults.reach)
    faults.reach("retag:committed")


def _read_pages(pages: list[PageResult]) -> Iterator[RetagChunk]:
    """Each page's rows, read from its files one page at a time."""
    for page in pages:
        languages = None if page.languages_path is None else pl.read_parquet(page.languages_path)
        yield RetagChunk(pl.read_parquet(page.tags_path), languages)


def staging_folder(warehouse: Path) -> Path:
    """Where a retag keeps its pages' rows until the commit: beside the warehouse (as much room
    as the warehouse has), one per warehouse (its writer lock guards it)."""
    return warehouse.with_name(warehouse.name + ".retag")


def retag_run_id(started_at: datetime, tagger: str) -> str:
    """Sortable and unique: UTC time of the start, the flow run's short id, the tagger."""
    if flow_run.id:
        suffix = str(flow_run.id)[:8]
    else:
        suffix = sha256_hex(pl.Series([started_at.isoformat()]))[0][:8]
    return f"{started_at:%Y%m%dT%H%M%S}-{suffix}-{tagger}"


@flow(name="nutgraf-retag", validate_parameters=False)
def retag(settings: Settings, taggers: tuple[str, ...] | None = None) -> dict[str, object] | State:
    """Re-tag every stored paragraph with `taggers` (None: those whose tags are not of the
    code's version). Returns the summary; an expected failure (unknown tagger, warehouse busy,
    invalid tags) fails the flow run with a one-line message and re-raises to the caller."""
    logger = get_run_logger()
    try:
        return _retag(settings, taggers, logger)
    except NutgrafError as exc:
        logger.error("%s", exc)
        return Failed(message=str(exc), data=exc)


def _retag(
    settings: Settings,
    requested: tuple[str, ...] | None,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, object]:
    faults = Faults(tuple(settings.fault_points))
    if requested is not None:
        check_taggers(requested, versions=tagger_versions())
    if not settings.warehouse.exists():
        raise WarehouseMissing(
            f"no warehouse at {settings.warehouse}; run `nutgraf run` first or pass --warehouse"
        )
    clock = time.perf_counter()
    with writer_lock(settings.warehouse, timeout=settings.lock_timeout_seconds):
        # Taken under the lock: no ingest run publishes between this and the commit.
        started_at = datetime.now(UTC)
        plan = plan_retag(settings, requested)
        faults.reach("retag:planned")
        if not plan.changes:
            logger.info("nothing to retag in %s", settings.warehouse)
            return _summary(STATUS_NOTHING, plan, [], [], time.perf_counter() - clock)
        folder = staging_folder(settings.warehouse)
        # What a killed retag left there: nobody else uses it while we hold the lock.
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            pages: list[PageResult] = []
            after = ""
            while sum(page.paragraphs for page in pages) < plan.n_paragraphs:
                page = retag_page(settings, plan, after, folder, len(pages), faults)
                if page.paragraphs == 0:
                    break
                pages.append(page)
                after = page.last_hash
            runs = [
                RetagRun(
                    run_id=retag_run_id(started_at, change.tagger),
                    tagger=change.tagger,
                    tagger_version=change.new_version,
                    started_at=started_at,
                    paragraphs=sum(page.paragraphs for page in pages),
                    tags=sum(page.tags[change.tagger] for page in pages),
                    flow_run_id=str(flow_run.id) if flow_run.id else None,
                )
                for change in plan.changes
            ]
            publish(settings, runs, pages, faults)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    summary = _summary(STATUS_RETAGGED, plan, runs, pages, time.perf_counter() - clock)
    _publish_artifact(summary)
    return summary


def _summary(
    status: str,
    plan: RetagPlan,
    runs: list[RetagRun],
    pages: list[PageResult],
    seconds: float,
) -> dict[str, object]:
    """What `nutgraf retag` prints and returns."""
    by_tagger = {run.tagger: run for run in runs}
    taggers = [
        {
            "tagger": change.tagger,
            "run_id": by_tagger[change.tagger].run_id,
            "old_versions": list(change.old_versions),
            "new_version": change.new_version,
            "paragraphs": by_tagger[change.tagger].paragraphs,
            "tags": by_tagger[change.tagger].tags,
            "seconds": round(sum(page.seconds[change.tagger] for page in pages), 3),
        }
        for change in plan.changes
        if change.tagger in by_tagger
    ]
    return {
        "status": status,
        "paragraphs": plan.n_paragraphs,
        "pages": len(pages),
        "taggers": taggers,
        "current_versions": {tagger: list(v) for tagger, v in plan.current.items()},
        "seconds": round(seconds, 3),
    }


def _publish_artifact(summary: dict[str, object]) -> None:
    """The re-tagged taggers as a markdown table next to the flow run in Prefect's UI."""
    lines = [
        f"# nutgraf retag: {summary['status']}",
        "",
        "| tagger | old versions | new version | paragraphs | tags | seconds | run |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summary["taggers"]:  # type: ignore[union-attr]
        lines.append(
            f"| {row['tagger']} | {', '.join(row['old_versions']) or 'none'} | "
            f"{row['new_version']} | {row['paragraphs']} | {row['tags']} | {row['seconds']} | "
            f"`{row['run_id']}` |"
        )
    create_markdown_artifact("\n".join(lines), key=ARTIFACT_KEY, description="nutgraf retag")
