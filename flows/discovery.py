"""What a run has to do, found before Prefect, Great Expectations or any model is loaded.

`find_work` is the ingest flow's discovery (flows.ingest.discover_files runs it as a task).
`nothing_new` runs it first, outside any flow: when the landing folder holds nothing the
ledger lacks, it records the run as `nothing_new` in `runs` and returns its summary, and the
caller never starts a flow. A no-op run then costs the imports of Polars and DuckDB and the
discovery itself, not Prefect's start-up. Nothing here imports Prefect.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import polars as pl

from expectations.gate import DQ_RESULTS
from flows.faults import Faults
from flows.runs import RunState, RunSummary, RunTimings, mark, new_run_id
from flows.settings import Settings, open_warehouse
from transforms import schema as S
from transforms.discover import Discovery, find_unsettled, list_files, plan_batches, select_unseen
from warehouse.ledger import read_ledger
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.publish import record_run
from warehouse.sql import execute


def find_work(settings: Settings, faults: Faults) -> Discovery:
    """Migrate the warehouse, list the landing folder, keep settled files the ledger lacks.
    The caller holds the writer lock."""
    with open_warehouse(settings) as con:
        apply_migrations(con)
        ledger = read_ledger(con)
    faults.reach("discover:migrated")
    listed = list_files(
        settings.landing,
        patterns=tuple(settings.patterns),
        follow_symlinks=settings.follow_symlinks,
    )
    unseen = select_unseen(listed, ledger)
    young = find_unsettled(unseen, now=time.time(), settle_seconds=settings.settle_seconds)
    if not young.is_empty():
        # Files written moments ago may still be growing: look again after the settle time
        # and take only those whose size and mtime did not move.
        time.sleep(settings.settle_seconds)
        again = list_files(
            settings.landing,
            patterns=tuple(settings.patterns),
            follow_symlinks=settings.follow_symlinks,
        )
        moved = young.join(again, on=[S.PATH, S.SIZE, S.MTIME], how="anti")
        unseen = unseen.join(moved.select(S.PATH), on=S.PATH, how="anti")
    else:
        moved = young
    faults.reach("discover:listed")
    batches = plan_batches(unseen, max_files=settings.batch_files, max_bytes=settings.batch_bytes)
    return Discovery(listed.height, moved.height, batches, ledger)


def record_nothing_new(
    settings: Settings, state: RunState, found: Discovery, timings: RunTimings
) -> RunSummary:
    """Record a run that found nothing to load (its `runs` row, stamped finished) and return
    its summary. The caller holds the writer lock."""
    state.totals.files_seen = found.n_seen
    state.totals.files_settling = found.n_settling
    with open_warehouse(settings) as con:
        record_run(con, state.record(), pl.DataFrame(schema=DQ_RESULTS), batch_no=0)
        state.finished_at = datetime.now(UTC)
        execute(con, "finish_run", {"run_id": state.run_id, "finished_at": state.finished_at})
    return state.summary(timings)


def nothing_new(
    settings: Settings, faults: Faults, *, flow_run_id: str | None = None
) -> RunSummary | None:
    """If the landing folder holds nothing to load, record the run and return its summary;
    otherwise None, and the caller runs the ingest flow with the same `faults` (which looks
    again, under its own hold of the writer lock)."""
    started_at = datetime.now(UTC)
    timings = RunTimings()
    t = mark()
    with writer_lock(settings.warehouse, timeout=settings.lock_timeout_seconds):
        timings.add("lock_wait", t)
        t = mark()
        found = find_work(settings, faults)
        timings.add("discover", t)
        if found.batches:
            return None
        run_id = new_run_id(started_at, flow_run_id)
        state = RunState(run_id, started_at, settings.landing, flow_run_id=flow_run_id)
        return record_nothing_new(settings, state, found, timings)
