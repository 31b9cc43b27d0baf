"""Housekeeping of the warehouse file (`nutgraf vacuum`): a checkpoint under the writer lock.

DuckDB appends committed changes to a write-ahead log (`<warehouse>.wal`) and folds them into
the database file at a checkpoint, which also hands free blocks at the end of the file back to
the file system. It checkpoints on its own when the log grows past 16 MB and when the last
connection closes; an explicit one after a large delete, or before copying the file elsewhere,
makes the file whole and as small as DuckDB will make it in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from warehouse.connection import open_writer
from warehouse.errors import WarehouseMissing
from warehouse.lock import writer_lock
from warehouse.sql import execute
from warehouse.status import warehouse_bytes


@dataclass(frozen=True)
class Checkpoint:
    """Sizes in bytes of the database file and its write-ahead log around a checkpoint."""

    file_before: int
    wal_before: int
    file_after: int
    wal_after: int


@contextmanager
def exclusive(warehouse: Path, *, lock_timeout: float) -> Iterator[None]:
    """Hold the writer role of an existing warehouse (no run, retag or release meanwhile)."""
    if not warehouse.exists():
        raise WarehouseMissing(
            f"no warehouse at {warehouse}; run `nutgraf run` first or pass --warehouse"
        )
    with writer_lock(warehouse, timeout=lock_timeout):
        yield


def checkpoint(warehouse: Path) -> Checkpoint:
    """Run CHECKPOINT on the warehouse; the caller holds :func:`exclusive`. Sizes are taken
    with no connection open, so they are what is on disk."""
    before = warehouse_bytes(warehouse)
    with open_writer(warehouse) as con:
        execute(con, "checkpoint")
    after = warehouse_bytes(warehouse)
    return Checkpoint(before[0], before[1], after[0], after[1])
