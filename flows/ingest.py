"""The ingest flow: landing folder -> gated, published batch. Orchestration only.

One task per stage per batch; the logic lives in `transforms`, `expectations` and `warehouse`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from expectations.gate import DQ_RESULTS, GateBatch, GateResult, Thresholds, run_gate
from expectations.report import write_report
from flows.settings import Settings
from transforms import schema as S
from transforms.decode import decode_articles, read_files
from transforms.discover import (
    DUPLICATE_OF,
    FILE_TOUCHED,
    classify_files,
    list_files,
    select_unseen,
)
from transforms.gazetteer import load_gazetteer, vocabulary
from transforms.normalise import sha256_hex
from transforms.pipeline import (
    TransformedBatch,
    build_batch,
    find_empty_articles,
    identify_articles,
    split_articles,
)
from warehouse.connection import open_writer
from warehouse.ledger import (
    find_known_files,
    find_known_paragraphs,
    find_latest_versions,
    read_ledger,
)
from warehouse.migrations import apply_migrations
from warehouse.publish import PublishBatch, RunRecord, publish_batch, record_run

STATUS_PUBLISHED = "published"
STATUS_NOTHING_NEW = "nothing_new"
STATUS_GATE_FAILED = "gate_failed"


@dataclass
class Files:
    """The files of a batch after reading and classification."""

    n_seen: int
    classified: pl.DataFrame  # PATH, SIZE, MTIME, SHA256, REASON, DETAIL, TEXT, ENCODING, STATUS


@dataclass
class Staged:
    """A transformed batch with the file rows it will write."""

    files: Files
    batch: TransformedBatch
    empty: pl.DataFrame  # articles with no paragraph: quarantined as 'empty'
    timings: dict[str, float] = field(default_factory=dict)


def _timed(timings: dict[str, float], name: str, start: float) -> None:
    timings[name] = round(time.perf_counter() - start, 3)


@task(name="discover-files", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def discover_files(settings: Settings) -> tuple[int, pl.DataFrame, pl.DataFrame]:
    """Migrate the warehouse, list the landing folder, keep files the ledger has not handled."""
    with open_writer(settings.warehouse) as con:
        apply_migrations(con)
        ledger = read_ledger(con)
    listed = list_files(settings.landing, patterns=tuple(settings.patterns))
    return listed.height, select_unseen(listed, ledger), ledger


@task(name="read-files", cache_policy=NO_CACHE)
def read_batch(
    settings: Settings, unseen: pl.DataFrame, ledger: pl.DataFrame, n_seen: int
) -> Files:
    """Read, hash and decode the unseen files; mark duplicates and unreadable ones."""
    raw = read_files(unseen, landing=settings.landing, max_file_bytes=settings.max_file_bytes)
    with open_writer(settings.warehouse) as con:
        known = find_known_files(con, raw[S.SHA256].drop_nulls())
    classified = classify_files(raw, known, ledger)
    # Only files that will be loaded are decoded; duplicates never need their text.
    to_decode = classified.filter(pl.col(S.STATUS) == S.FILE_NEW)
    decoded = decode_articles(to_decode).with_columns(
        pl.when(pl.col(S.REASON).is_not_null())
        .then(pl.lit(S.FILE_QUARANTINED))
        .otherwise(pl.col(S.STATUS))
        .alias(S.STATUS)
    )
    rest = (
        classified.filter(pl.col(S.STATUS) != S.FILE_NEW)
        .drop("content")
        .with_columns(
            pl.lit(None, dtype=pl.String).alias(S.TEXT),
            pl.lit(None, dtype=pl.String).alias(S.ENCODING),
        )
    )
    return Files(n_seen, pl.concat([decoded, rest.select(decoded.columns)]).sort(S.PATH))


@task(name="transform-batch", cache_policy=NO_CACHE)
def transform_batch(settings: Settings, files: Files) -> Staged:
    """Split, normalise, dedupe against the warehouse, detect language and tag."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    new = files.classified.filter(pl.col(S.STATUS) == S.FILE_NEW)
    with open_writer(settings.warehouse) as con:
        latest = find_latest_versions(con, new[S.PATH])
    articles = identify_articles(new, latest_versions=latest)
    articles, normalised = split_articles(articles)
    empty = find_empty_articles(articles, normalised)
    articles = articles.join(empty.select(S.ARTICLE_ID), on=S.ARTICLE_ID, how="anti")
    _timed(timings, "split_normalise", t)
    t = time.perf_counter()
    with open_writer(settings.warehouse) as con:
        known = find_known_paragraphs(con, normalised[S.PARAGRAPH_HASH])
    # Loading the gazetteer costs about a second: not on a tick with nothing new.
    gazetteer = load_gazetteer(settings.tags_file) if not new.is_empty() else None
    batch = build_batch(articles, normalised, known_hashes=known, gazetteer=gazetteer)
    _timed(timings, "dedupe_tag", t)
    return Staged(files, batch, empty, timings)


@task(name="gate-batch", cache_policy=NO_CACHE)
def gate_batch(settings: Settings, staged: Staged, run_id: str) -> GateResult:
    """Run the expectation suites on the batch before anything is written."""
    counts = _file_counts(staged)
    batch = GateBatch(
        run_id=run_id,
        articles=staged.batch.articles,
        occurrences=staged.batch.occurrences,
        paragraphs=staged.batch.paragraphs,
        tags=staged.batch.tags,
        n_files=counts["files_new"] + counts["files_duplicate"] + counts["files_quarantined"],
        n_quarantined=counts["files_quarantined"],
        n_duplicate_files=counts["files_duplicate"],
    )
    thresholds = Thresholds(
        min_paragraph_chars=settings.min_paragraph_chars,
        max_paragraph_chars=settings.max_paragraph_chars,
        max_quarantined_share=settings.max_quarantined_share,
        max_duplicate_file_share=settings.max_duplicate_file_share,
    )
    gazetteer = load_gazetteer(settings.tags_file)
    return run_gate(batch, vocabulary=vocabulary(gazetteer), thresholds=thresholds)


@task(name="publish-batch", cache_policy=NO_CACHE)
def publish(settings: Settings, staged: Staged, run: RunRecord, results: pl.DataFrame) -> None:
    """One transaction: data, ledger rows, quarantine rows, the run row and its dq rows."""
    with open_writer(settings.warehouse) as con:
        publish_batch(con, _publish_frames(staged, run.run_id), run, results)


@task(name="record-run", cache_policy=NO_CACHE)
def record(settings: Settings, run: RunRecord, results: pl.DataFrame) -> None:
    """Record a run that publishes no data."""
    with open_writer(settings.warehouse) as con:
        record_run(con, run, results)


def _quarantined(staged: Staged) -> pl.DataFrame:
    """PATH, SHA256, REASON, DETAIL of every file set aside in this batch."""
    files = staged.files.classified
    empty_paths = staged.empty.select(S.PATH).with_columns(
        pl.lit("empty").alias("_empty_reason"),
    )
    marked = files.join(empty_paths, on=S.PATH, how="left").with_columns(
        pl.coalesce(S.REASON, "_empty_reason").alias(S.REASON),
        pl.when(pl.col("_empty_reason").is_not_null())
        .then(pl.lit(S.REASONS["empty"]))
        .otherwise(pl.col(S.DETAIL))
        .alias(S.DETAIL),
    )
    return marked.filter(pl.col(S.REASON).is_not_null()).select(
        S.PATH, S.SHA256, S.REASON, S.DETAIL
    )


def _file_counts(staged: Staged) -> dict[str, int]:
    status = staged.files.classified[S.STATUS]
    quarantined = _quarantined(staged).height
    return {
        "files_seen": staged.files.n_seen,
        "files_new": int((status == S.FILE_NEW).sum()) - staged.empty.height,
        "files_duplicate": int((status == S.FILE_DUPLICATE).sum()),
        "files_quarantined": quarantined,
        "files_touched": int((status == FILE_TOUCHED).sum()),
    }


def _publish_frames(staged: Staged, run_id: str) -> PublishBatch:
    files = staged.files.classified
    quarantined = _quarantined(staged)
    ledger_rows = (
        files.filter(pl.col(S.STATUS) != FILE_TOUCHED)
        .filter(pl.col(S.SHA256).is_not_null())  # unreadable: retried next run, not ledgered
        .join(quarantined.select(S.PATH, pl.col(S.REASON).alias("_q")), on=S.PATH, how="left")
        .with_columns(
            pl.when(pl.col("_q").is_not_null())
            .then(pl.lit(S.FILE_QUARANTINED))
            .when(pl.col(S.STATUS) == S.FILE_NEW)
            .then(pl.lit(S.FILE_LOADED))
            .otherwise(pl.col(S.STATUS))
            .alias(S.STATUS),
            pl.col("_q").alias(S.REASON),
        )
        .select(S.PATH, S.SHA256, S.SIZE, S.MTIME, S.STATUS, S.REASON, DUPLICATE_OF, S.ENCODING)
    )
    touched = files.filter(pl.col(S.STATUS) == FILE_TOUCHED).select(
        S.PATH, S.SHA256, S.SIZE, S.MTIME
    )
    quarantine = quarantined.with_columns(
        pl.concat_str(pl.lit(run_id), S.PATH, separator="\x00")
        .map_batches(sha256_hex, return_dtype=pl.String)
        .str.slice(0, 16)
        .alias("quarantine_id")
    )
    batch = staged.batch
    return PublishBatch(
        source_files=ledger_rows,
        touched=touched,
        articles=batch.articles,
        paragraphs=batch.paragraphs,
        occurrences=batch.occurrences,
        tags=batch.tags,
        quarantine=quarantine,
    )


def _summary(staged: Staged, run_id: str) -> dict[str, object]:
    batch = staged.batch
    kinds = batch.occurrences.group_by(S.KIND).len().sort(S.KIND)
    tag_types = batch.tags.group_by(S.TAG_TYPE).len().sort(S.TAG_TYPE)
    quarantined = _quarantined(staged)
    return {
        "run_id": run_id,
        **_file_counts(staged),
        "articles": batch.articles.height,
        "paragraphs_new": batch.paragraphs.height,
        "occurrences": batch.occurrences.height,
        "occurrences_by_kind": dict(kinds.iter_rows()),
        "tags": batch.tags.height,
        "tags_by_type": dict(tag_types.iter_rows()),
        "quarantined": [
            {"path": p, "reason": r, "detail": d}
            for p, r, d in quarantined.select(S.PATH, S.REASON, S.DETAIL).iter_rows()
        ],
    }


def _run_record(
    summary: dict[str, object],
    *,
    status: str,
    started_at: datetime,
    landing: Path,
    gate: GateResult | None,
    report_path: Path | None,
) -> RunRecord:
    return RunRecord(
        run_id=str(summary["run_id"]),
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        started_at=started_at,
        status=status,
        landing=str(landing),
        files_seen=int(summary["files_seen"]),
        files_new=int(summary["files_new"]),
        files_duplicate=int(summary["files_duplicate"]),
        files_quarantined=int(summary["files_quarantined"]),
        articles=int(summary["articles"]),
        paragraphs_new=int(summary["paragraphs_new"]),
        occurrences=int(summary["occurrences"]),
        tags=int(summary["tags"]),
        counts=json.dumps(
            {
                "occurrences_by_kind": summary["occurrences_by_kind"],
                "tags_by_type": summary["tags_by_type"],
            }
        ),
        gate_success=None if gate is None else gate.success,
        failed_checks=[] if gate is None else list(gate.failed),
        report_path=None if report_path is None else str(report_path),
    )


def new_run_id(started_at: datetime) -> str:
    """Sortable and unique: UTC time of the start plus the flow run's short id."""
    suffix = (
        str(flow_run.id)[:8]
        if flow_run.id
        else sha256_hex(pl.Series([started_at.isoformat()]))[0][:8]
    )
    return f"{started_at:%Y%m%dT%H%M%S}-{suffix}"


@flow(name="nutgraf-ingest", validate_parameters=False)
def ingest(settings: Settings) -> dict[str, object]:
    """Discover new files, read, transform, gate and publish them as one batch.

    Returns the run summary (also recorded in the `runs` table and the report).
    """
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    timings: dict[str, float] = {}

    t = time.perf_counter()
    n_seen, unseen, ledger = discover_files(settings)
    _timed(timings, "discover", t)
    t = time.perf_counter()
    files = read_batch(settings, unseen, ledger, n_seen)
    _timed(timings, "read_decode", t)
    staged = transform_batch(settings, files)
    timings.update(staged.timings)
    summary = _summary(staged, run_id)

    if files.classified.filter(pl.col(S.STATUS) != FILE_TOUCHED).is_empty():
        status = STATUS_NOTHING_NEW
        run = _run_record(
            summary,
            status=status,
            started_at=started_at,
            landing=settings.landing,
            gate=None,
            report_path=None,
        )
        # Still one transaction: files rewritten with the same bytes get their new mtime.
        publish(settings, staged, run, pl.DataFrame(schema=DQ_RESULTS))
        logger.info("nothing new in %s", settings.landing)
        return {
            **summary,
            "status": status,
            "gate": "skipped",
            "report_path": None,
            "timings": timings,
        }

    t = time.perf_counter()
    gate = gate_batch(settings, staged, run_id)
    _timed(timings, "gate", t)
    status = STATUS_PUBLISHED if gate.success else STATUS_GATE_FAILED
    summary = {**summary, "status": status}
    report_path = write_report(gate, run_id=run_id, report_dir=settings.reports, summary=summary)
    run = _run_record(
        summary,
        status=status,
        started_at=started_at,
        landing=settings.landing,
        gate=gate,
        report_path=report_path,
    )
    t = time.perf_counter()
    if gate.success:
        publish(settings, staged, run, gate.results)
    else:
        record(settings, run, gate.results)
        logger.error(
            "gate failed (%s); nothing published; report %s", ", ".join(gate.failed), report_path
        )
    _timed(timings, "publish", t)
    return {
        **summary,
        "gate": "passed" if gate.success else "failed",
        "failed_checks": list(gate.failed),
        "report_path": str(report_path),
        "timings": timings,
    }
