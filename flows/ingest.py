"""The ingest flow: landing folder -> gated batches published to the warehouse. Orchestration only.

One task per stage per batch; the logic lives in `transforms`, `expectations` and `warehouse`.
The whole run holds the writer lock, so two runs never load the same file; each batch
publishes in its own transaction, so a failure in batch 7 keeps batches 1-6.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Failed, State

from expectations.gate import (
    DQ_RESULTS,
    GateBatch,
    GateResult,
    Thresholds,
    batch_metrics,
    merge_rounds,
    run_gate,
)
from expectations.report import write_report
from flows import progress
from flows.ahead import BatchSource, batch_source
from flows.batch import (
    finish_batch,
    set_aside_articles,
)
from flows.discovery import find_work
from flows.faults import Faults
from flows.logs import run_logging
from flows.publish_slot import publish_slot
from flows.retries import RETRIES
from flows.runs import (
    STATUS_GATE_FAILED,
    STATUS_NOTHING_NEW,
    STATUS_PUBLISHED,
    RunState,
    RunSummary,
    RunTimings,
    mark,
    new_run_id,
)
from flows.search import refresh_search_index, skipped_search_index
from flows.settings import Settings, open_warehouse
from transforms import schema as S
from transforms.discover import (
    FILE_TOUCHED,
    Discovery,
)
from transforms.errors import NutgrafError
from transforms.gazetteer import load_gazetteer, vocabulary
from transforms.neardup import (
    LINKS,
    NEAR_DUP_OF,
    PAIR_A,
    PAIR_B,
    SEEN_AT,
    SIGNATURE,
    assign_canonicals,
    band_signatures,
    candidate_pairs,
    link_similarities,
    prefilter,
    verify,
)
from transforms.staged import (
    NearDuplicates,
    Staged,
    file_counts,
    ledger_rows,
    linked_paragraphs,
    quarantine_rows,
    quarantined_rows,
    settled,
    source_records,
    touched_files,
)
from warehouse.ledger import (
    read_batch_history,
)
from warehouse.lock import writer_lock
from warehouse.publish import IndexTime, PublishBatch, RunRecord, publish_batch, record_run
from warehouse.sql import execute, fetch
from warehouse.sql import staged as staged_frames

MAX_SET_ASIDE_ROUNDS = 5
"""Gate -> set aside quarantined articles -> gate again, at most this often per batch."""
_MOJIBAKE_REASONS = ("mojibake", "undecodable")


@task(name="discover-files", cache_policy=NO_CACHE, **RETRIES)
def discover_files(settings: Settings, faults: Faults) -> Discovery:
    """Migrate the warehouse, list the landing folder, keep settled files the ledger lacks."""
    return find_work(settings, faults)


@task(name="link-near-duplicates", cache_policy=NO_CACHE, **RETRIES)
def link_near_duplicates(settings: Settings, staged: Staged) -> NearDuplicates:
    """Band the batch's new paragraphs, find candidates among the stored bands and inside the
    batch, verify them on exact shingle sets and link each to its group's canonical paragraph.

    Only the new paragraphs are banded and looked up: the cost follows the batch, not the
    warehouse."""
    paragraphs = staged.batch.paragraphs.select(S.PARAGRAPH_HASH, S.TEXT, S.ARTICLE_ID)
    bands = band_signatures(paragraphs, min_words=settings.near_dup_min_words)
    with open_warehouse(settings) as con:
        with staged_frames(con, bands=bands.drop(SIGNATURE).with_row_index("i")):
            outside = fetch(con, "near_dup_candidates")
    signatures = pl.concat(
        [
            bands.select(S.PARAGRAPH_HASH, SIGNATURE),
            outside.select(pl.col(PAIR_B).alias(S.PARAGRAPH_HASH), SIGNATURE).unique(
                S.PARAGRAPH_HASH
            ),
        ]
    )
    inside = candidate_pairs(bands, bands.clear())
    found = pl.concat([outside.select(PAIR_A, PAIR_B), inside]).unique()
    candidates = prefilter(found, signatures, threshold=settings.near_dup_threshold)
    with open_warehouse(settings) as con:
        wanted = candidates.select(pl.col(PAIR_B).alias(S.PARAGRAPH_HASH)).unique()
        with staged_frames(con, wanted=wanted):
            stored = fetch(con, "near_dup_paragraphs").with_columns(
                pl.col(SEEN_AT).dt.convert_time_zone("UTC")
            )
    texts = pl.concat(
        [paragraphs.select(S.PARAGRAPH_HASH, S.TEXT), stored.select(S.PARAGRAPH_HASH, S.TEXT)]
    )
    verified = verify(candidates, texts, threshold=settings.near_dup_threshold)
    seen = paragraphs.join(
        staged.batch.articles.select(S.ARTICLE_ID, pl.col(S.PUBLISHED_AT).alias(SEEN_AT)),
        on=S.ARTICLE_ID,
        how="left",
    ).select(S.PARAGRAPH_HASH, SEEN_AT)
    members, replaced = assign_canonicals(
        seen, verified, stored.select(S.PARAGRAPH_HASH, SEEN_AT, NEAR_DUP_OF)
    )
    linked = members.filter(pl.col("canonical") != pl.col(S.PARAGRAPH_HASH)).select(
        pl.col(S.PARAGRAPH_HASH).alias(PAIR_A), pl.col("canonical").alias(PAIR_B)
    )
    links = link_similarities(linked, texts)
    repointed = S.empty(LINKS)
    if not replaced.is_empty():
        with open_warehouse(settings) as con:
            with staged_frames(con, replaced=replaced.select(S.PARAGRAPH_HASH)):
                group = fetch(con, "near_dup_members")
        moved = group.join(
            replaced.rename({S.PARAGRAPH_HASH: "_old"}),
            left_on=pl.coalesce(NEAR_DUP_OF, S.PARAGRAPH_HASH),
            right_on="_old",
        ).select(pl.col(S.PARAGRAPH_HASH).alias(PAIR_A), pl.col("canonical").alias(PAIR_B))
        repointed = link_similarities(
            moved, pl.concat([texts, group.select(S.PARAGRAPH_HASH, S.TEXT)])
        )
    counts = {
        "near_dup_compared": bands.height,
        "near_dup_candidates": found.height,
        "near_dup_verified": candidates.height,
        "near_dup_linked": links.height,
        "near_dup_repointed": repointed.height,
    }
    return NearDuplicates(bands, links, repointed, counts)


@task(name="gate-batch", cache_policy=NO_CACHE)
def gate_batch(settings: Settings, staged: Staged, run_id: str, faults: Faults) -> GateResult:
    """Run the expectation suites on the batch before anything is written."""
    faults.reach("gate:start")
    counts = file_counts(staged)
    with open_warehouse(settings) as con:
        history = read_batch_history(con, settings.history_batches)
        with staged_frames(con, hashes=staged.batch.occurrences.select(S.PARAGRAPH_HASH).unique()):
            boilerplate = fetch(con, "boilerplate_hashes")[S.PARAGRAPH_HASH]
    quarantined = quarantined_rows(staged)
    new_files = int((staged.files[S.STATUS] == S.FILE_NEW).sum())
    batch = GateBatch(
        run_id=run_id,
        articles=staged.batch.articles,
        occurrences=staged.batch.occurrences,
        paragraphs=staged.batch.paragraphs,
        tags=staged.batch.tags,
        n_files=counts["files_new"] + counts["files_duplicate"] + counts["files_quarantined"],
        n_quarantined=counts["files_quarantined"],
        n_duplicate_files=counts["files_duplicate"],
        n_new_files=new_files,
        n_empty=int((staged.set_aside[S.REASON] == "empty").sum()),
        n_mojibake=int(quarantined[S.REASON].is_in(_MOJIBAKE_REASONS).sum()),
        history=history,
        boilerplate=boilerplate,
    )
    # Every threshold is a setting of the same name.
    thresholds = Thresholds(**{f.name: getattr(settings, f.name) for f in fields(Thresholds)})
    gazetteer = load_gazetteer(settings.tags_file)
    vocab = vocabulary(gazetteer, cache_dir=settings.cache_dir.resolve())
    result = run_gate(batch, vocabulary=vocab, thresholds=thresholds)
    faults.reach("gate:done")
    return result


@task(name="publish-batch", cache_policy=NO_CACHE, **RETRIES)
def publish(
    settings: Settings,
    staged: Staged,
    run: RunRecord,
    results: pl.DataFrame,
    faults: Faults,
    batch_no: int,
    shape: dict[str, float | None] | None = None,
) -> IndexTime:
    """One transaction: data, ledger rows, quarantine rows, the batch's shape, the run row and
    its dq rows, and the search index kept in step; returns the time the index took."""
    rule = (settings.boilerplate_min_articles, settings.boilerplate_edge_share)
    frames = _publish_frames(staged, run.run_id, shape, rule)
    # Besides the OS lock the run holds: with a Prefect server, workers take turns here.
    with (
        publish_slot(settings),
        open_warehouse(settings) as con,
    ):
        index_time = publish_batch(
            con,
            frames,
            run,
            results,
            batch_no=batch_no,
            step=faults.reach,
            search_index=settings.search_index,
            fts_extension=settings.fts_extension,
        )
    faults.reach("publish:committed")
    return index_time


@task(name="finish-run", cache_policy=NO_CACHE, **RETRIES)
def finish_run(settings: Settings, run_id: str, finished_at: datetime) -> None:
    """Stamp the run row's `finished_at` with the flow's end (each batch wrote its own)."""
    with open_warehouse(settings) as con:
        execute(con, "finish_run", {"run_id": run_id, "finished_at": finished_at})


@task(name="record-run", cache_policy=NO_CACHE, **RETRIES)
def record(settings: Settings, run: RunRecord, results: pl.DataFrame, batch_no: int) -> None:
    """Record a batch that publishes no data: the run row and the checks that stopped it."""
    with (
        publish_slot(settings),
        open_warehouse(settings) as con,
    ):
        record_run(con, run, results, batch_no=batch_no)


def _publish_frames(
    staged: Staged,
    run_id: str,
    shape: dict[str, float | None] | None = None,
    boilerplate_rule: tuple[int, float] = (5, 0.8),
) -> PublishBatch:
    batch, near = staged.batch, staged.near
    return PublishBatch(
        source_files=ledger_rows(staged),
        touched=touched_files(staged),
        articles=batch.articles,
        paragraphs=linked_paragraphs(staged),
        occurrences=batch.occurrences,
        tags=batch.tags,
        title_tags=batch.title_tags,
        quarantine=quarantine_rows(staged, run_id),
        batch_metrics=batch_metrics(batch.articles, shape),
        reordered=(None if staged.inputs is None else staged.inputs.known.select(S.PARAGRAPH_HASH)),
        bands=None if near is None else near.bands,
        source_records=source_records(staged),
        boilerplate_rule=boilerplate_rule,
        repointed=None if near is None else near.repointed,
    )


def _write_report(settings: Settings, state: RunState, timings: RunTimings) -> Path:
    return write_report(
        state.gate_result(),
        run_id=state.run_id,
        report_dir=settings.reports,
        summary=state.summary(timings).as_dict(),
    )


def _ingest_batch(
    settings: Settings,
    state: RunState,
    files: pl.DataFrame,
    ledger: pl.DataFrame,
    faults: Faults,
    timings: RunTimings,
    batches: BatchSource,
) -> bool:
    """Prepare, finish, gate and publish one batch; False when its gate failed.

    `batches` hands over the batch prepared (flows.ahead), to be finished here against the
    warehouse as it is now."""
    batch = batches.take(files, timings)
    read, staged = finish_batch(settings, batch, ledger, faults)
    # The prepared frames (decoded texts, records, every paragraph and its precomputed tags)
    # are in `staged` now as far as they are still needed; held on here, they would stay
    # alive through the gate, near-duplicate linking and the publish, the run's peaks.
    del batch
    timings.merge(staged.timings, staged.cpu)
    if read.filter(pl.col(S.STATUS) != FILE_TOUCHED).is_empty():
        # Only files rewritten with the same bytes: note their mtimes, nothing to gate.
        t = mark()
        empty = pl.DataFrame(schema=DQ_RESULTS)
        publish(settings, staged, state.record(), empty, faults, state.batches)
        timings.add("publish", t)
        state.totals.files_touched += file_counts(staged)["files_touched"]
        return True

    t = mark()
    gate = gate_batch(settings, staged, state.run_id, faults)
    timings.add("gate", t)
    rounds = [gate.results]
    while gate.success and not gate.quarantined.is_empty():
        if len(rounds) > MAX_SET_ASIDE_ROUNDS:
            raise NutgrafError(
                f"the gate kept setting articles aside after {MAX_SET_ASIDE_ROUNDS} rounds; "
                "nothing of this batch was published"
            )
        # Set the named articles aside, rebuild the batch without them and gate it again: the
        # rest publish only if they pass on their own.
        staged = set_aside_articles(settings, staged, gate.quarantined)
        timings.merge(staged.timings, staged.cpu)  # the rebuild's own stages only
        t = mark()
        gate = gate_batch(settings, staged, state.run_id, faults)
        rounds.append(gate.results)
        timings.add("gate", t)
    results = merge_rounds(rounds)
    state.add_duplicate_groups(staged)
    if gate.success:
        del read  # the files' texts, also in staged.files until settled
        staged = settled(staged)
        t = mark()
        staged.near = link_near_duplicates(settings, staged)
        timings.add("near_dup", t)
    state.totals.add(staged)
    state.batch_shape = gate.batch_shape
    batch_no = state.batches + 1
    state.results.append(results)
    state.failed += gate.failed
    state.status = STATUS_PUBLISHED if gate.success else STATUS_GATE_FAILED
    t = mark()
    state.report_path = _write_report(settings, state, timings)
    faults.reach("report:written")
    timings.add("report", t)
    t = mark()
    if gate.success:
        state.batches = batch_no  # the run row counts published batches
        index_time = publish(
            settings, staged, state.record(), results, faults, batch_no, gate.batch_shape
        )
        timings.add("publish", t)
        # Reported apart: the search index kept in step inside the publish transaction.
        timings.move(index_time, "publish", "search_index")
        # Written before the publish so a failed publish leaves a report; again now that the
        # batch counts as published.
        t = mark()
        _write_report(settings, state, timings)
        timings.add("report", t)
    else:
        record(settings, state.record(), results, batch_no)
        timings.add("publish", t)
    return gate.success


@flow(name="nutgraf-ingest", validate_parameters=False)
def ingest(settings: Settings, faults: Faults | None = None) -> RunSummary | State:
    """Discover new files, then read, transform, gate and publish them batch by batch.

    Returns the run summary (also recorded in the `runs` table and the report). An expected
    failure (warehouse busy, a publish rolled back) fails the flow run with a one-line message
    and re-raises the error to the caller, without a traceback in the logs. `faults`: the
    caller's, when it already passed fault points in this process (flows.discovery).
    """
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    flow_run_id = str(flow_run.id) if flow_run.id else None
    state = RunState(
        new_run_id(started_at, flow_run_id), started_at, settings.landing, flow_run_id=flow_run_id
    )
    # Every line nutgraf logs in this run names it, as do its rows, report and artifacts.
    with run_logging(state.run_id):
        try:
            return _ingest(settings, logger, state, faults or Faults(tuple(settings.fault_points)))
        except NutgrafError as exc:
            logger.error("%s", exc)
            return Failed(message=str(exc), data=exc)


def _ingest(
    settings: Settings,
    logger: logging.Logger | logging.LoggerAdapter,
    state: RunState,
    faults: Faults,
) -> RunSummary:
    timings = RunTimings()

    t = mark()
    with writer_lock(settings.warehouse, timeout=settings.lock_timeout_seconds):
        timings.add("lock_wait", t)
        t = mark()
        found = discover_files(settings, faults)
        timings.add("discover", t)
        state.totals.files_seen = found.n_seen
        state.totals.files_settling = found.n_settling
        total_files, total_bytes = _log_discovery(logger, found)
        progress.started(total_files, total_bytes)
        batches = batch_source(settings, found, faults, timings)
        for number, files in enumerate(found.batches, start=1):
            try:
                published = _ingest_batch(
                    settings, state, files, found.ledger, faults, timings, batches
                )
            except BaseException:
                batches.close()
                raise
            progress.advanced(files.height, int(files[S.SIZE].sum()))
            _log_batch(logger, state, files, number, len(found.batches))
            if not published:
                batches.close()
                progress.finished()  # end the terminal's progress line before the error
                logger.error(
                    "gate failed (%s); this batch was not published; report %s",
                    ", ".join(state.failed),
                    state.report_path,
                )
                break
        if state.batches == 0 and state.status == STATUS_NOTHING_NEW:
            record(settings, state.record(), pl.DataFrame(schema=DQ_RESULTS), 0)
            logger.info("nothing new in %s", settings.landing)
        search_index = skipped_search_index(settings)
        if state.batches and settings.search_index:
            # After the last commit, still under the writer lock (the build writes the file).
            t = mark()
            search_index = refresh_search_index(settings)  # fresh unless stale before the run
            timings.add("search_index", t)
        # The run ends here, not at its last publish: the index build and a gate failure's
        # record come later. Stamped last, still under the lock, so the row is never ahead.
        state.finished_at = datetime.now(UTC)
        finish_run(settings, state.run_id, state.finished_at)
    progress.finished()
    if state.report_path is not None:
        _write_report(settings, state, timings)  # with the run's end and duration
    summary = state.summary(timings)
    summary.search_index = search_index
    publish_artifacts(summary, state.gate_result().results)
    return summary


def _log_discovery(
    logger: logging.Logger | logging.LoggerAdapter, found: Discovery
) -> tuple[int, int]:
    """Log what discovery found to read; return its files and bytes (the progress total)."""
    n_files = sum(files.height for files in found.batches)
    n_bytes = sum(int(files[S.SIZE].sum()) for files in found.batches)
    if n_files:
        logger.info(
            "%d of %d files to read (%s) in %d batch(es); %d still being written",
            n_files,
            found.n_seen,
            progress.format_size(n_bytes),
            len(found.batches),
            found.n_settling,
        )
    return n_files, n_bytes


def _log_batch(
    logger: logging.Logger | logging.LoggerAdapter,
    state: RunState,
    files: pl.DataFrame,
    number: int,
    n_batches: int,
) -> None:
    """One line per batch: in a log file, these lines are the run's progress."""
    t = state.totals
    logger.info(
        "batch %d of %d %s: %d files (%s); so far: files %d new, %d duplicate, %d "
        "quarantined; articles %d; new paragraphs %d",
        number,
        n_batches,
        state.status,
        files.height,
        progress.format_size(int(files[S.SIZE].sum())),
        t.files_new,
        t.files_duplicate,
        t.files_quarantined,
        t.articles,
        t.paragraphs_new,
    )


ARTIFACT_SUMMARY_KEY = "nutgraf-run-summary"
ARTIFACT_CHECKS_KEY = "nutgraf-checks"


def publish_artifacts(summary: RunSummary, results: pl.DataFrame) -> None:
    """Show the run next to its flow run in Prefect's UI: a markdown summary with the failing
    checks and a table of every check's result."""
    failing = results.filter(~pl.col("success"))
    t = summary.totals
    lines = [
        f"# nutgraf run {summary.run_id}: {summary.status}",
        "",
        "| files seen | new | duplicate | quarantined | articles | new paragraphs | tags |",
        "|---|---|---|---|---|---|---|",
        f"| {t.files_seen} | {t.files_new} | {t.files_duplicate} | {t.files_quarantined} "
        f"| {t.articles} | {t.paragraphs_new} | {t.tags} |",
        "",
        f"Gate: **{summary.gate}**. Report: `{summary.report_path or 'none'}`",
    ]
    if not failing.is_empty():
        lines += ["", "## Checks that did not pass", ""]
        lines += ["| severity | check | unexpected | observed |", "|---|---|---|---|"]
        for row in failing.iter_rows(named=True):
            observed = _markdown_cell(str(row["observed"]))
            lines.append(
                f"| {row['severity']} | {row['suite']}.{_markdown_cell(row['expectation'])} | "
                f"{row['unexpected_count']} | {observed} |"
            )
    quarantined = t.quarantined
    if quarantined:
        lines += ["", f"## Quarantined files ({len(quarantined)})", ""]
        lines += [f"- `{_markdown_cell(q['path'])}`: {q['reason']}" for q in quarantined[:20]]
    create_markdown_artifact(
        "\n".join(lines), key=ARTIFACT_SUMMARY_KEY, description="nutgraf run summary"
    )
    table = results.select(
        "suite", "expectation", "severity", "success", "unexpected_count", "observed"
    ).to_dicts()
    if table:
        create_table_artifact(table, key=ARTIFACT_CHECKS_KEY, description="data-quality checks")


def _markdown_cell(text: str) -> str:
    """Text safe inside a markdown table cell: no pipes, newlines, backticks or markup."""
    cleaned = text.replace("|", "/").replace("\n", " ").replace("`", "'")
    return cleaned.replace("<", "&lt;").replace(">", "&gt;")[:200]
