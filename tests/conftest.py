"""Shared fixtures: the corpora setting, a real Prefect test harness, table-count helpers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "articles"
# The shared corpora are never copied into the repository; point NUTGRAF_CORPORA elsewhere
# when they are not beside the checkout.
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
SEED = "000_8ab4b52764c9943c.txt"

# Before anything imports Prefect: offline, quiet, no telemetry.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def corpus(*parts: str) -> Path:
    """A path inside the shared corpora, or skip the test saying why."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus {path} not found: set NUTGRAF_CORPORA to the shared corpora folder")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real, temporary Prefect API (one per test session; it takes ~12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


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


def read_counts(warehouse: Path) -> dict[str, int]:
    """Row count of every warehouse table, read through a read-only connection."""
    from warehouse.connection import open_reader
    from warehouse.queries import table_counts

    with open_reader(warehouse) as con:
        return table_counts(con)


def assert_table_counts(warehouse: Path, expected: dict[str, int]) -> None:
    """The named tables hold exactly these row counts."""
    counts = read_counts(warehouse)
    assert {name: counts[name] for name in expected} == expected


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of a read-only query."""
    from warehouse.queries import run_readonly_query

    return run_readonly_query(warehouse, sql).rows()
