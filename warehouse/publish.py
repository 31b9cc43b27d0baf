"""Publishing: a whole batch, ledger rows included, in one transaction.

Either every row of the batch lands together with the ledger rows that mark its files
loaded, or none does; a crash before COMMIT leaves the warehouse as it was and the files
pending, so the next run loads them exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import polars as pl

from warehouse import search
from warehouse.audits import check_batch
from warehouse.connection import transaction
from warehouse.sql import execute, staged


class IndexTime(NamedTuple):
    """What keeping the search index in step took inside a publish."""

    wall: float  # seconds, as recorded in the search_index table
    cpu: float  # CPU seconds of the process meanwhile (all threads)


@dataclass(frozen=True)
class RunRecord:
    """The `runs` row of a flow run (status: published | nothing_new | gate_failed)."""

    run_id: str
    flow_run_id: str | None
    started_at: object
    status: str
    batches: int
    landing: str
    files_seen: int
    files_new: int
    files_duplicate: int
    files_quarantined: int
    articles: int
    paragraphs_new: int
    occurrences: int
    tags: int
    counts: str  # JSON
    gate_success: bool | None
    failed_checks: list[str] = field(default_factory=list)
    report_path: str | None = None
    normal_form: str | None = None  # transforms.normalise.NORMAL_FORM
    hash_algorithm: str | None = None  # transforms.normalise.HASH_ALGORITHM
    shingling: str | None = None  # transforms.neardup.SHINGLING
    tagger_versions: str | None = None  # JSON: transforms.tagging.tagger_versions()


@dataclass(frozen=True)
class PublishBatch:
    """Everything one batch writes; frames follow the warehouse table columns."""

    source_files: pl.DataFrame
    touched: pl.DataFrame
    articles: pl.DataFrame
    paragraphs: pl.DataFrame
    occurrences: pl.DataFrame
    tags: pl.DataFrame
    quarantine: pl.DataFrame
    batch_metrics: pl.DataFrame  # metric, value: the batch's shape, for later comparisons
    reordered: pl.DataFrame | None = None  # paragraph_hash: stored paragraphs the batch also has
    bands: pl.DataFrame | None = (
        None  # paragraph_hash, band_0..11, signature: LSH bands of new paragraphs
    )
    repointed: pl.DataFrame | None = None  # paragraph_hash, near_dup_of, similarity (stored)
    boilerplate_rule: tuple[int, float] = (5, 0.8)  # min articles, min edge share
    source_records: pl.DataFrame | None = None  # what became of each record of the files
    title_tags: pl.DataFrame | None = None  # article_id + paragraph_tags' columns: headlines


_BANDS = {
    "paragraph_hash": pl.String,
    **{f"band_{i}": pl.UInt64 for i in range(12)},
    "signature": pl.Binary,
}
_SOURCE_RECORDS = {
    "path": pl.String,
    "sha256": pl.String,
    "record": pl.Int32,
    "status": pl.String,
    "article_id": pl.String,
    "article_key": pl.String,
    "reason": pl.String,
}
_REPOINTED = {"paragraph_hash": pl.String, "near_dup_of": pl.String, "similarity": pl.Float64}
_TITLE_TAGS = {
    "article_id": pl.String,
    "tag_type": pl.String,
    "tag_value": pl.String,
    "tag_detail": pl.String,
    "country_code": pl.String,
    "span_start": pl.Int32,
    "span_end": pl.Int32,
    "surface": pl.String,
    "score": pl.Float64,
    "tagger": pl.String,
    "tagger_version": pl.String,
}
_DATELINES = {
    "dateline": pl.String,
    "dateline_city": pl.String,
    "dateline_region": pl.String,
    "dateline_country": pl.String,
    "dateline_date": pl.String,
    "dateline_agency": pl.String,
}


Step = Callable[[str], None]


def _no_step(name: str) -> None:
    return None


def _insert_run(
    con: duckdb.DuckDBPyConnection,
    run: RunRecord,
    dq_results: pl.DataFrame,
    step: Step,
    batch_no: int,
) -> None:
    execute(con, "insert_run", dict(run.__dict__))
    step("publish:run")
    with staged(con, dq_results=dq_results):
        execute(con, "insert_dq_results", {"run_id": run.run_id, "batch": batch_no})
    step("publish:dq")


def _with_near_duplicates(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """Paragraph rows with near_dup_of and similarity (null when the batch linked none)."""
    return _with_columns(paragraphs, {"near_dup_of": pl.String, "similarity": pl.Float64})


def _with_columns(frame: pl.DataFrame, columns: dict[str, pl.DataType]) -> pl.DataFrame:
    """`frame` plus each of `columns` it lacks, as nulls."""
    return frame.with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in columns.items() if name not in frame
    )


def publish_batch(
    con: duckdb.DuckDBPyConnection,
    batch: PublishBatch,
    run: RunRecord,
    dq_results: pl.DataFrame,
    *,
    batch_no: int = 1,
    step: Step = _no_step,
    search_index: bool = False,
    fts_extension: Path | None = None,
) -> IndexTime:
    """Write the batch, its ledger rows, the run row and its dq rows in one transaction;
    returns the time spent keeping the search index in step (0 when it was not).

    `search_index`: keep the full-text search index in step in the same transaction (extend a
    fresh one by the batch's new paragraphs, or create it on an empty warehouse; see
    warehouse/search.py). Before COMMIT the audits (warehouse/audits) check the batch's rows;
    one that finds rows breaking its invariant raises AuditFailed and the batch rolls back.
    `step(name)` is called after each statement (the crash tests kill the process there).
    """
    searchable = (
        search_index
        and not batch.paragraphs.is_empty()
        and search.load_for_publish(con, fts_extension)
    )
    failure = f"publishing run {run.run_id} failed and was rolled back, nothing was written"
    with transaction(con, failure=failure):
        step("publish:begin")
        plan = search.publish_plan(con) if searchable else None
        cpu = time.process_time()
        index_seconds = 0.0 if plan is None else search.prepare_in_step(con, plan)
        index_cpu = time.process_time() - cpu
        with staged(
            con,
            source_files=batch.source_files,
            touched=batch.touched,
            articles=_with_columns(batch.articles, {"body_sha256": pl.String, **_DATELINES}),
            paragraphs=_with_near_duplicates(batch.paragraphs),
            occurrences=batch.occurrences,
            tags=batch.tags,
            title_tags=(
                batch.title_tags
                if batch.title_tags is not None
                else pl.DataFrame(schema=_TITLE_TAGS)
            ),
            quarantine=batch.quarantine,
            batch_metrics=batch.batch_metrics,
            reordered=(
                batch.reordered
                if batch.reordered is not None
                else pl.DataFrame(schema={"paragraph_hash": pl.String})
            ),
            bands=batch.bands if batch.bands is not None else pl.DataFrame(schema=_BANDS),
            batch_hashes=batch.occurrences.select("paragraph_hash").unique(),
            source_records=(
                batch.source_records
                if batch.source_records is not None
                else pl.DataFrame(schema=_SOURCE_RECORDS)
            ),
            repointed=(
                batch.repointed if batch.repointed is not None else pl.DataFrame(schema=_REPOINTED)
            ),
        ):
            params = {"run_id": run.run_id}
            for name, bound in (
                ("insert_source_files", params),
                ("insert_source_records", params),
                ("touch_source_files", None),
                ("insert_articles", params),
                ("insert_paragraphs", params),
                ("insert_occurrences", None),
                ("insert_paragraph_tags", params),
                ("insert_title_tags", params),
                ("insert_quarantine", params),
                ("insert_batch_metrics", {**params, "batch": batch_no}),
                ("reorder_first_seen", None),
                ("reorder_first_article", None),
                ("insert_paragraph_bands", params),
                ("update_near_duplicates", None),
                ("delete_boilerplate", None),
                (
                    "insert_boilerplate",
                    {
                        **params,
                        "min_articles": batch.boilerplate_rule[0],
                        "edge_share": batch.boilerplate_rule[1],
                    },
                ),
            ):
                execute(con, name, bound)
                step(f"publish:{name}")
            if plan is not None:
                cpu = time.process_time()
                index_seconds = search.keep_in_step(con, batch.paragraphs, index_seconds)
                index_cpu += time.process_time() - cpu
                step("publish:search_index")
            _insert_run(con, run, dq_results, step, batch_no)
            check_batch(con, run_id=run.run_id)
        step("publish:before-commit")
    return IndexTime(index_seconds, index_cpu)


def record_run(
    con: duckdb.DuckDBPyConnection, run: RunRecord, dq_results: pl.DataFrame, *, batch_no: int = 0
) -> None:
    """Record a batch that publishes no data (gate failed, nothing new): run row and dq rows."""
    with transaction(con):
        _insert_run(con, run, dq_results, _no_step, batch_no)
