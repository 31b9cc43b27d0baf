"""Scale out: the ingest flow's per-batch transforms on a Dask cluster, publishing on one writer.

`nutgraf run --workers N` starts a local `dask.distributed` cluster of N worker processes (one
thread each, on 127.0.0.1, no dashboard) for the run and closes it at the end; `--dask
tcp://host:8786` uses a running scheduler. Either way the flow runs with prefect-dask's
DaskTaskRunner, and work is split by whether it needs the warehouse:

- On the workers, task `prepare-batch` (flows.batch, the same task a serial run calls in its
  own process; transforms.prepare.prepare_batch): read and hash the
  batch's files, decode, parse, resolve metadata, find titles, split, normalise and hash, and
  for every distinct paragraph its language verdict and its entity, topic and quality tags.
  Workers never open the warehouse; they need the landing folder (and a tags file, if set) at
  the same path.
- In this process, the one writer, task `finish-batch` and the usual tasks after it: which
  files are duplicates of stored ones, article identity and versions, occurrence kinds against
  the stored hashes, the new paragraphs with their languages and language tags (tags of
  paragraphs that turned out known are dropped), set-asides, the gate, near-duplicate
  linking, the report and the publish transaction — batch after batch, in order.

While the writer finishes, gates and publishes batch k, the workers prepare the next ones (as
many batches ahead as the cluster has worker threads), so a batch always sees every earlier
batch published, exactly as in a serial run: the warehouse ends up the same.

Without Dask settings nothing here is used (flows.ahead prepares the batches in this process).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING

import polars as pl
from prefect import Flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture

from flows.ahead import batch_ledger
from flows.batch import prepare, prepare_options
from flows.faults import Faults
from flows.runs import WORKER_PREFIX, RunTimings
from flows.settings import Settings
from transforms.discover import Discovery
from transforms.errors import NutgrafError
from transforms.pipeline import add_seconds
from transforms.prepare import (
    PreparedBatch,
)

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner


class ClusterUnavailable(NutgrafError):
    """The Dask scheduler named by `dask_address` did not answer, or has no worker."""


class ScaleOutOptionsError(NutgrafError):
    """Both a scheduler address and a local cluster size were given."""

    exit_code = 2


def uses_dask(settings: Settings) -> bool:
    """Whether the run's per-batch transforms go to a Dask cluster."""
    return bool(settings.dask_address or settings.dask_workers)


def import_dask(*, verbose: bool = False) -> None:
    """Import Dask and prefect-dask (seconds of CPU), quiet unless `verbose`: workers log
    errors only, as nutgraf's own output shows Prefect's warnings and errors only."""
    if not verbose:
        # Read by distributed when it is imported, here and in each worker process it spawns.
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    import prefect_dask  # noqa: F401


def run_on_dask(flow: Flow, settings: Settings, faults: Faults) -> object:
    """Run `flow(settings, faults)` with its per-batch transforms on the Dask cluster the settings
    name; returns what the flow returns.

    A scheduler address is checked first, so an unreachable one fails within
    `dask_timeout_seconds` before the run takes the lock or touches the warehouse. A local
    cluster starts while Prefect's ephemeral server does, and is closed when the run ends."""
    if settings.dask_address and settings.dask_workers:
        raise ScaleOutOptionsError(
            "give either --dask ADDRESS (a running scheduler) or --workers N (a local "
            "cluster), not both (settings dask_address, dask_workers)"
        )
    from prefect_dask import DaskTaskRunner  # `nutgraf run` imported it (import_dask)

    if settings.dask_address:
        check_scheduler(settings.dask_address, timeout=settings.dask_timeout_seconds)
    api = _ApiForWorkers()
    with _scheduler(settings) as address, api.named():
        return flow.with_options(task_runner=DaskTaskRunner(address=address))(settings, faults)


@contextmanager
def _scheduler(settings: Settings) -> Iterator[str]:
    """The scheduler address of the run: the one given, or that of a LocalCluster of
    `dask_workers` processes with one thread each, on loopback only and without a dashboard
    (bokeh is not installed; nothing is served beyond the workers' own loopback ports)."""
    if settings.dask_address:
        yield settings.dask_address
        return
    from distributed import LocalCluster

    try:
        cluster = LocalCluster(
            n_workers=settings.dask_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(
            f"could not start a local Dask cluster of {settings.dask_workers} workers "
            f"({type(exc).__name__}: {exc}); run without --workers. Nothing was read or written"
        ) from None
    try:
        yield cluster.scheduler_address
    finally:
        _drain_workers(cluster.scheduler_address)
        cluster.close()


def _drain_workers(address: str) -> None:
    """Let each worker send Prefect what it still holds (task-run events, logs) before the
    cluster closes it: a worker that takes more than 4 s to exit is killed by its nanny, and
    its last task runs would then be missing from Prefect's records."""
    from distributed import Client

    try:
        with Client(address, timeout=10, set_as_default=False) as client:
            client.run(_drain_prefect_services)
    except (OSError, TimeoutError):
        pass  # records only: the warehouse is complete whatever happens here


async def _drain_prefect_services() -> None:
    """On a worker: flush and stop Prefect's event and log senders (at most 10 s each)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    await EventsWorker.drain_all(timeout=10)
    await APILogWorker.drain_all(timeout=10)


class _ApiForWorkers:
    """The run's Prefect API, made one that worker processes reach.

    Prefect's ephemeral mode gives each process a server of its own: every Dask worker would
    start one (~10 s each) against the same database. With no PREFECT_API_URL set, the
    ephemeral server is started here (in the background, while the cluster starts) and named
    for the run; prefect-dask hands the URL to the workers with each task. It listens on
    127.0.0.1: workers on other machines need PREFECT_API_URL set to a server they reach."""

    def __init__(self) -> None:
        from prefect.settings import PREFECT_API_URL

        self._server = None
        self._started: Future[None] | None = None
        if PREFECT_API_URL.value():
            return
        from prefect.server.api.server import SubprocessASGIServer

        self._server = SubprocessASGIServer()  # the one this process's first API call starts
        self._started = start_in_background(self._server.start)

    @contextmanager
    def named(self) -> Iterator[None]:
        """Wait for the server to be up, and use its URL for the run."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        if self._server is None or self._started is None:
            yield
            return
        self._started.result()
        with temporary_settings(updates={PREFECT_API_URL: self._server.api_url}):
            yield


def start_in_background(start: Callable[[], None]) -> Future[None]:
    """`start()` in a daemon thread; its result (or error) as a future."""
    future: Future[None] = Future()

    def run() -> None:
        try:
            start()
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        else:
            future.set_result(None)

    threading.Thread(target=run, name="prefect-server-start", daemon=True).start()
    return future


def check_scheduler(address: str, *, timeout: float) -> None:
    """Connect to the scheduler at `address` and wait for one worker, at most `timeout`
    seconds each; ClusterUnavailable says which failed."""
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnavailable(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({exc}); start one "
            "(`dask scheduler`, then `dask worker ADDRESS`), fix --dask, or run without it. "
            "Nothing was read or written"
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterUnavailable(
            f"the Dask scheduler at {address} has no worker (waited {timeout:g} s); start "
            f"one with `dask worker {address}`. Nothing was read or written"
        ) from None
    finally:
        client.close()


# --- the tasks ---------------------------------------------------------------------------------


def wait_for(prepared: PrefectFuture[PreparedBatch], timings: dict[str, float]) -> PreparedBatch:
    """Wait for a batch's worker; adds the time waited (`wait_for_workers`) and the worker's
    stages (`worker_*`) to `timings` (the writer's own stages come with the finished batch)."""
    t = time.perf_counter()
    batch = prepared.result()  # a worker's failure is raised here, as the serial step's would be
    add_seconds(timings, {"wait_for_workers": time.perf_counter() - t})
    add_seconds(timings, {WORKER_PREFIX + name: s for name, s in batch.timings.items()})
    return batch


# --- submitting ahead --------------------------------------------------------------------------


class Prefetch:
    """The batches of a run submitted to the workers in order, `window` at most in flight
    beyond the one the writer is on: enough to keep every worker busy, few enough that
    prepared batches waiting in workers' memory stay bounded."""

    def __init__(
        self, settings: Settings, found: Discovery, faults: Faults, *, window: int
    ) -> None:
        self._pending = deque(found.batches)
        self._ledger = found.ledger
        self._options = prepare_options(settings)
        self._faults = faults
        self._window = max(window, 1)
        self._futures: deque[PrefectFuture[PreparedBatch]] = deque()
        self._fill()

    def _fill(self) -> None:
        while self._pending and len(self._futures) < self._window:
            files = self._pending.popleft()
            ledger = batch_ledger(self._ledger, files)
            self._futures.append(prepare.submit(files, ledger, self._options, self._faults))

    def take(self, files: pl.DataFrame, timings: RunTimings) -> PreparedBatch:
        """The next batch, prepared; submits the one that now fits in the window."""
        future = self._futures.popleft()
        self._fill()
        return wait_for(future, timings.wall)

    def close(self) -> None:
        """Submit nothing more (batches already on the workers finish there, unused)."""
        self._pending.clear()


def prefetch(
    settings: Settings, found: Discovery, faults: Faults, timings: dict[str, float]
) -> Prefetch | None:
    """Start preparing the run's batches on the Dask workers; None outside a Dask task runner
    (e.g. a flow run called directly) or without batches. The time taken to reach the cluster
    (to start it, with --workers) is the run's `dask_start` timing."""
    if not found.batches:
        return None
    runner = _dask_runner()
    if runner is None:
        get_run_logger().warning(
            "dask_address / dask_workers are set, but this flow run has no Dask task runner "
            "(only `nutgraf run` starts one): transforming every batch here"
        )
        return None
    t = time.perf_counter()
    threads = sum(runner.client.nthreads().values())  # starts the LocalCluster if it is one
    add_seconds(timings, {"dask_start": time.perf_counter() - t})
    get_run_logger().info("preparing batches ahead on %d Dask worker threads", threads)
    return Prefetch(settings, found, faults, window=threads)


def _dask_runner() -> DaskTaskRunner | None:
    """The flow run's DaskTaskRunner, if that is what it runs with."""
    from prefect_dask import DaskTaskRunner

    context = FlowRunContext.get()
    runner = None if context is None else context.task_runner
    return runner if isinstance(runner, DaskTaskRunner) else None
