"""Shared fixtures: a real Prefect test harness and landing folders on disk."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CACHE_DIR, SAMPLES, NutgrafProcesses

# Before anything imports Prefect: offline, quiet, no telemetry.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# Tables the CLI prints are as wide as a wide terminal's, wherever the suite runs (a pytest-xdist
# worker's output is no terminal, and the width would come from whatever started it).
os.environ.setdefault("COLUMNS", "200")
# One unpacked language model for the whole suite (the `cache_dir` setting of every run).
os.environ.setdefault("NUTGRAF_CACHE_DIR", str(CACHE_DIR))


_MARKS_BY_FIXTURE = {"prefect_harness": "flow", "processes": "e2e", "browser": "browser"}

# The longest modules of the full suite (`pytest --durations`), longest first. pytest-xdist
# (`--dist loadfile --no-loadscope-reorder`) hands out modules in collection order, so these
# start first and the many short modules fill in behind them; in xdist's default order (most
# tests first) these few-test modules came last and one worker ran them alone for minutes.
# A module missing here only starts later; the order changes no test's outcome.
LONGEST_MODULES = (
    "tests/flows/test_schedule.py",
    "tests/flows/test_cli.py",
    "tests/bench/test_crash_soak.py",
    "tests/flows/test_concurrency.py",
    "tests/flows/test_crash.py",
    "tests/flows/test_retag.py",
    "tests/flows/test_quarantine_once.py",
    "tests/flows/test_ingest.py",
    "tests/warehouse/test_search.py",
    "tests/flows/test_dask.py",
    "tests/flows/test_dedupe_flow.py",
    "tests/flows/test_wire_corpus.py",
    "tests/flows/test_serve_usage.py",
    "tests/flows/test_formats_flow.py",
)


def _module_order(items: list[pytest.Item]) -> dict[str, int]:
    """Each module's rank: the listed longest first, then modules with slow tests, then the
    unit-test modules, otherwise in collection order."""
    rank = {module: n for n, module in enumerate(LONGEST_MODULES)}
    slow = {item.nodeid.partition("::")[0] for item in items if item.get_closest_marker("slow")}
    modules = dict.fromkeys(item.nodeid.partition("::")[0] for item in items)
    ordered = sorted(modules, key=lambda module: (rank.get(module, len(rank)), module not in slow))
    return {module: n for n, module in enumerate(ordered)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the expensive fixtures it uses (directly or through others), so the
    fast tier (`-m "not slow"`) needs no list to keep in step; then put the longest modules
    first (a module's tests stay together and in their order)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        marks = [mark for fixture, mark in _MARKS_BY_FIXTURE.items() if fixture in used]
        for mark in marks:
            item.add_marker(mark)
        if marks:
            item.add_marker("slow")
    order = _module_order(items)
    items.sort(key=lambda item: order[item.nodeid.partition("::")[0]])  # stable within a module


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real, temporary Prefect API (one per test session; it takes ~12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def processes(prefect_harness: None) -> NutgrafProcesses:
    """Starts real `nutgraf` processes (forked after the heavy imports) against the harness."""
    from prefect.settings import PREFECT_API_URL

    return NutgrafProcesses(PREFECT_API_URL.value())


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing folder."""
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def sample_landing(tmp_path: Path) -> Path:
    """A landing folder holding a copy of the bundled sample articles."""
    folder = tmp_path / "landing"
    shutil.copytree(SAMPLES, folder)
    return folder
