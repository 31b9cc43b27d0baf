"""Publishing: a whole batch, ledger rows included, in one transaction.

Either every row of the batch lands together with the ledger rows that mark its files
loaded, or none does; a crash before COMMIT leaves the warehouse as it was and the files
pending, so the next run loads them exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from warehouse.errors import WarehouseError
from warehouse.sql import execute, staged


@dataclass(frozen=True)
class RunRecord:
    """The `runs` row of a flow run (status: published | nothing_new | gate_failed)."""

    run_id: str
    flow_run_id: str | None
    started_at: object
    status: str
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


def _insert_run(con: duckdb.DuckDBPyConnection, run: RunRecord, dq_results: pl.DataFrame) -> None:
    params = dict(run.__dict__)
    execute(con, "insert_run", params)
    with staged(con, dq_results=dq_results):
        execute(con, "insert_dq_results", {"run_id": run.run_id})


def publish_batch(
    con: duckdb.DuckDBPyConnection, batch: PublishBatch, run: RunRecord, dq_results: pl.DataFrame
) -> None:
    """Write the batch, its ledger rows, the run row and its dq rows in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        with staged(
            con,
            source_files=batch.source_files,
            touched=batch.touched,
            articles=batch.articles,
            paragraphs=batch.paragraphs,
            occurrences=batch.occurrences,
            tags=batch.tags,
            quarantine=batch.quarantine,
        ):
            params = {"run_id": run.run_id}
            execute(con, "insert_source_files", params)
            execute(con, "touch_source_files")
            execute(con, "insert_articles", params)
            execute(con, "insert_paragraphs", params)
            execute(con, "insert_occurrences")
            execute(con, "insert_paragraph_tags", params)
            execute(con, "insert_quarantine", params)
        _insert_run(con, run, dq_results)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise WarehouseError(
            f"publishing run {run.run_id} failed and was rolled back, nothing was written: {exc}"
        ) from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord, dq_results: pl.DataFrame) -> None:
    """Record a run that publishes no data (gate failed, nothing new): its row and dq rows."""
    con.execute("BEGIN TRANSACTION")
    try:
        _insert_run(con, run, dq_results)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
