"""Crash safety: SIGKILL a real `nutgraf run` at many points, run again, compare with a clean run.

A fault point (flows/faults.py) makes the process kill itself with SIGKILL exactly there, so
every stage is hit deterministically: reading, transforming, the gate, each statement of the
publish transaction, right after the commit, and the same points in the second batch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, NutgrafProcesses, query, snapshot

pytestmark = pytest.mark.slow

# One point per stage, and the publish transaction's start, middle and end: every point the
# pipeline passes is killed at by `bench/crash-soak` (RELIABILITY.md), six moments of it
# in tests/bench/test_crash_soak.py. Each point here costs two flow runs: the suite's time.
KILL_POINTS = [
    "discover:listed",
    "read:files",
    "transform:split",
    "gate:start",
    "report:written",
    "publish:begin",
    "publish:insert_paragraph_tags",
    "publish:search_index",
    "publish:before-commit",
    "publish:committed",
    "read:files#2",
    "publish:committed#2",
]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, processes: NutgrafProcesses):
    """The warehouse of a run with no faults, in two batches."""
    work = tmp_path_factory.mktemp("reference")
    shutil.copytree(SAMPLES, work / "landing")
    code = processes.run(["run", "--landing", "landing"], cwd=work, env=_env())
    assert code == 4  # published; the sample's empty file is quarantined
    return snapshot(work / "nutgraf.duckdb")


def _env(*faults: str) -> dict[str, str]:
    return {
        "NUTGRAF_BATCH_FILES": "5",  # 10 sample files: two batches, two transactions
        "NUTGRAF_SETTLE_SECONDS": "0",
        "NUTGRAF_FAULT_POINTS": json.dumps(list(faults)),
        # A run killed inside its publish leaves its Prefect publish slot to expire with its
        # lease (a minute or more; tests/flows/test_schedule.py covers that): here the rerun
        # would wait that long at every publish point. These tests are about the transaction.
        "NUTGRAF_PUBLISH_SLOT": "false",
    }


def _check_point(point: str, work: Path, processes: NutgrafProcesses, reference) -> str | None:
    """After the killed run in `work`: rerun, compare with the reference; a problem or None."""
    warehouse = work / "nutgraf.duckdb"
    if warehouse.exists():
        # Atomic batches: what survived the kill is nothing, the first batch, or everything.
        loaded = {r[0] for r in query(warehouse, "SELECT path FROM source_files")}
        if len(loaded) not in (0, 5, 10):
            return f"a partial batch survived the kill: {sorted(loaded)}"
    code = processes.run(["run", "--landing", "landing"], cwd=work, env=_env())
    if code not in (0, 4):
        return f"the run after the kill exited {code}"
    if snapshot(warehouse) != reference:
        return "the warehouse differs from the clean run's"
    # Every published row is accounted for by exactly one run.
    ((articles, runs_articles),) = query(
        warehouse, "SELECT (SELECT count(*) FROM articles), (SELECT sum(articles) FROM runs)"
    )
    if articles != runs_articles:
        return f"runs account for {runs_articles} articles, the table holds {articles}"
    if "committed" in point:  # then a further run must find nothing to do
        if processes.run(["run", "--landing", "landing"], cwd=work, env=_env()) != 0:
            return "a third run did not find nothing new"
    return None


def test_kill_at_every_point_then_rerun_equals_a_clean_run(
    tmp_path: Path, processes: NutgrafProcesses, reference
):
    problems = {}
    # Two scenarios at a time: one per core.
    for pair in (KILL_POINTS[i : i + 2] for i in range(0, len(KILL_POINTS), 2)):
        works = {}
        for point in pair:
            work = tmp_path / point.replace(":", "_").replace("#", "_")
            shutil.copytree(SAMPLES, work / "landing")
            works[point] = (
                work,
                processes.start(
                    ["run", "--landing", "landing"], cwd=work, env=_env(f"kill@{point}")
                ),
            )
        for point, (_work, process) in works.items():
            process.join(timeout=300)
            if process.exitcode != -9:
                problems[point] = f"not killed there (exit {process.exitcode})"
        checks = {
            point: threading_result(_check_point, point, work, processes, reference)
            for point, (work, _) in works.items()
            if point not in problems
        }
        for point, result in checks.items():
            if result.get() is not None:
                problems[point] = result.get()
    assert problems == {}


class threading_result:  # noqa: N801 - reads like a function call at the call site
    """Run `fn(*args)` in a thread; `.get()` joins it and returns its result."""

    def __init__(self, fn, *args) -> None:
        import threading

        self._value = None
        self._thread = threading.Thread(target=self._run, args=(fn, args))
        self._thread.start()

    def _run(self, fn, args) -> None:
        self._value = fn(*args)

    def get(self):
        self._thread.join()
        return self._value
