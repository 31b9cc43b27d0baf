"""Re-tagging stored paragraphs: what the taggers' current tags are, pages of paragraphs to
re-tag, and the one transaction that stores the new tags.

A retag run adds rows to `paragraph_tags` under its own run id and never updates or deletes
one; the view `current_tags` (warehouse/views/current_tags.sql) decides which rows are in
force. Only `paragraphs.language` is rewritten, by the language tagger, so that it keeps saying
what the current language tag says. The caller holds the writer lock from reading the first page to
the commit, so every page comes from the same warehouse state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from transforms import schema as S
from warehouse.connection import transaction
from warehouse.errors import WarehouseError
from warehouse.sql import execute, fetch, staged

RETAG_RUNS = pl.Schema(
    {
        "run_id": pl.String,
        S.TAGGER: pl.String,
        S.TAGGER_VERSION: pl.String,
        "started_at": pl.Datetime("us", "UTC"),
        "paragraphs": pl.Int64,
        "tags": pl.Int64,
        "flow_run_id": pl.String,
    }
)
"""The retag_runs rows a retag writes (ingest_runs and finished_at are filled in by SQL)."""
LANGUAGES = pl.Schema({S.PARAGRAPH_HASH: pl.String, S.LANGUAGE: pl.String})


@dataclass(frozen=True)
class RetagRun:
    """One tagger re-tagged by one `nutgraf retag`: its retag_runs row."""

    run_id: str
    tagger: str
    tagger_version: str
    started_at: datetime
    paragraphs: int
    tags: int
    flow_run_id: str | None


@dataclass(frozen=True)
class RetagChunk:
    """What one page of paragraphs writes: TAGS rows of the re-tagged taggers, and with the
    language tagger, PARAGRAPH_HASH, LANGUAGE of every paragraph of the page (else None)."""

    tags: pl.DataFrame
    languages: pl.DataFrame | None


Step = Callable[[str], None]


def _no_step(name: str) -> None:
    return None


def read_current_versions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """tagger, tagger_version, paragraphs: per tagger, the versions of the current tags of the
    stored paragraphs and how many paragraphs each covers."""
    return fetch(con, "current_tagger_versions")


def count_paragraphs(con: duckdb.DuckDBPyConnection) -> int:
    """How many paragraphs the warehouse holds."""
    return int(fetch(con, "count_paragraphs")["paragraphs"][0])


def read_paragraph_page(con: duckdb.DuckDBPyConnection, *, after: str, limit: int) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE (stored), article_language (of the article the paragraph
    was first seen in) of the first `limit` paragraphs whose hash sorts after `after` ('' for
    the first page), in hash order."""
    return fetch(con, "retag_paragraphs", {"after": after, "limit": limit})


def publish_retag(
    con: duckdb.DuckDBPyConnection,
    runs: list[RetagRun],
    chunks: Iterable[RetagChunk],
    *,
    step: Step = _no_step,
) -> None:
    """In one transaction: the retag_runs rows, every chunk's tags under the run of their
    tagger, the language verdicts into paragraphs.language. Refused (rolled back) when the
    warehouse no longer holds the paragraphs the runs counted.

    `chunks` is iterated inside the transaction, so it may read them lazily from disk.
    `step(name)` is called after each statement (the fault tests kill the process there).
    """
    if not runs:
        return
    frame = pl.DataFrame([run.__dict__ for run in runs], schema=RETAG_RUNS, orient="row")
    paragraphs = runs[0].paragraphs  # every run re-tags all of them
    failure = "re-tagging failed and was rolled back, nothing was written"
    with transaction(con, failure=failure):
        step("retag:begin")
        with staged(con, retag_runs=frame):
            execute(con, "insert_retag_runs")
            step("retag:insert_runs")
            for chunk in chunks:
                with staged(con, tags=chunk.tags.pipe(S.conform, S.TAGS)):
                    execute(con, "insert_retag_tags")
                step("retag:insert_tags")
                if chunk.languages is not None:
                    with staged(con, languages=chunk.languages.pipe(S.conform, LANGUAGES)):
                        execute(con, "update_paragraph_languages")
                    step("retag:update_languages")
        held = count_paragraphs(con)
        if held != paragraphs:
            raise WarehouseError(
                f"the warehouse holds {held} paragraphs, not the {paragraphs} re-tagged: "
                "something wrote to it without the writer lock; nothing was re-tagged, run "
                "`nutgraf retag` again"
            )
        written = fetch(con, "retag_tag_counts", {"run_ids": [run.run_id for run in runs]})
        counted = dict(zip(written["run_id"], written["tags"], strict=True))
        for run in runs:
            if counted.get(run.run_id, 0) != run.tags:
                raise WarehouseError(
                    f"retag run {run.run_id} stored {counted.get(run.run_id, 0)} tags of the "
                    f"{run.tags} made; nothing was re-tagged"
                )
        step("retag:before-commit")
