"""Where a run's batches are prepared: how the file-only half of a batch (flows.batch.prepare)
overlaps the half that needs the warehouse (finish, gate, near-duplicates, publish).

- PrepareHere (the default): each batch is prepared just before it is finished; one batch in
  memory at a time, and the per-stage CPU figures are each stage's alone.
- PrepareAhead (setting prepare_ahead): while this process finishes, gates and publishes batch
  N, one more thread of it prepares batch N+1. Both halves run mostly in Polars, numpy and
  DuckDB, which release the GIL. Batch N+1 is submitted once batch N is prepared, so at most
  two batches are in memory, and it leaves out the paragraphs the warehouse holds and those of
  batch N (published before N+1 is finished, unless N's gate fails: then finish_batch tags
  what N+1 lacks, as for any paragraph deleted meanwhile). On 2 cores most stages already
  keep both busy (tagging and banding run two slices at a time), so it gains 7-19% of the
  wall time for 1.7-2x the peak memory (BENCHMARKS.md): worth it where memory is plenty.
- flows.scaleout.Prefetch: the batches are prepared on Dask workers.

Either way a batch is finished against the warehouse as every earlier batch left it, so the
warehouse ends up the same.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import polars as pl
from prefect.futures import PrefectFuture

from flows.batch import prepare, prepare_options
from flows.faults import Faults
from flows.runs import WORKER_PREFIX, RunTimings, mark
from flows.settings import Settings
from transforms import schema as S
from transforms.discover import Discovery
from transforms.prepare import PreparedBatch


class BatchSource(Protocol):
    """Hands the flow its batches, prepared, in the order of `Discovery.batches`."""

    def take(self, files: pl.DataFrame, timings: RunTimings) -> PreparedBatch:
        """The prepared batch of `files` (the next batch); its stages go to `timings`."""
        ...

    def close(self) -> None:
        """The run stops early (a gate failed, an error): no batch is prepared any more."""
        ...


def batch_ledger(ledger: pl.DataFrame, files: pl.DataFrame) -> pl.DataFrame:
    """The ledger rows of the batch's paths (rewritten files): all that preparing it needs."""
    return ledger.join(files.select(S.PATH), on=S.PATH, how="semi")


class PrepareHere:
    """Each batch prepared in this thread just before it is finished."""

    def __init__(self, settings: Settings, found: Discovery, faults: Faults) -> None:
        self._settings = settings
        self._options = prepare_options(settings)
        self._ledger = found.ledger
        self._faults = faults

    def take(self, files: pl.DataFrame, timings: RunTimings) -> PreparedBatch:
        batch = prepare(
            files,
            batch_ledger(self._ledger, files),
            self._options,
            self._faults,
            self._settings,
        )
        timings.merge(batch.timings, batch.cpu)
        return batch

    def close(self) -> None:
        pass


class PrepareAhead:
    """Batch N+1 prepared in a thread of the flow's task runner while batch N is finished."""

    def __init__(self, settings: Settings, found: Discovery, faults: Faults) -> None:
        self._settings = settings
        self._options = prepare_options(settings)
        self._ledger = found.ledger
        self._faults = faults
        self._pending: deque[pl.DataFrame] = deque(found.batches)
        self._future: PrefectFuture[PreparedBatch] | None = None
        self._submit(None)

    def _submit(self, before: pl.Series | None) -> None:
        """Start preparing the next batch; `before`: the paragraph hashes of the batch that
        will be published before it."""
        self._future = None
        if not self._pending:
            return
        files = self._pending.popleft()
        self._future = prepare.submit(
            files,
            batch_ledger(self._ledger, files),
            self._options,
            self._faults,
            self._settings,
            before,
        )

    def take(self, files: pl.DataFrame, timings: RunTimings) -> PreparedBatch:
        if self._future is None:
            raise RuntimeError("PrepareAhead.take called after the last batch")
        t = mark()
        batch = self._future.result()  # a failure to prepare is raised here, as in PrepareHere
        timings.add("wait_for_prepare", t)
        if batch.files.height != files.height:
            raise RuntimeError("PrepareAhead handed out batches out of order")
        self._submit(batch.normalised[S.PARAGRAPH_HASH].unique())
        # Under the workers' names: these stages overlapped this thread's, so they are no part
        # of the run's wall-time sum; the time this thread waited is `wait_for_prepare`.
        timings.merge(
            {WORKER_PREFIX + k: v for k, v in batch.timings.items()},
            {WORKER_PREFIX + k: v for k, v in batch.cpu.items()},
        )
        return batch

    def close(self) -> None:
        """Wait for the batch in flight (if any) and drop it: a thread still preparing when the
        flow run ends would outlive it."""
        future, self._future = self._future, None
        self._pending.clear()
        if future is not None:
            future.wait()


def batch_source(
    settings: Settings, found: Discovery, faults: Faults, timings: RunTimings
) -> BatchSource:
    """How this run's batches are prepared: on Dask workers if the settings name a cluster,
    else ahead in a second thread (setting prepare_ahead, when there is more than one batch),
    else each just before it is finished."""
    from flows.scaleout import prefetch, uses_dask

    if uses_dask(settings):
        # Without Dask settings nothing imports Dask.
        ahead = prefetch(settings, found, faults, timings.wall)
        if ahead is not None:
            return ahead
    if settings.prepare_ahead and len(found.batches) > 1:
        return PrepareAhead(settings, found, faults)
    return PrepareHere(settings, found, faults)
