"""Test helpers: where the corpora are, and assertions about warehouse tables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "articles"
# The shared corpora are never copied into the repository; point NUTGRAF_CORPORA elsewhere
# when they are not beside the checkout.
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
SEED = "000_8ab4b52764c9943c.txt"


def corpus(*parts: str) -> Path:
    """A path inside the shared corpora, or skip the test saying why."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus {path} not found: set NUTGRAF_CORPORA to the shared corpora folder")
    return path


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
