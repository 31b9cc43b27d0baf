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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the expensive fixtures it uses (directly or through others), so the
    fast tier (`-m "not slow"`) needs no list to keep in step."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        marks = [mark for fixture, mark in _MARKS_BY_FIXTURE.items() if fixture in used]
        for mark in marks:
            item.add_marker(mark)
        if marks:
            item.add_marker("slow")


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
