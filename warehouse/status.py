"""What `nutgraf status` reads from the warehouse, through one read-only connection.

A read-only connection cannot migrate, so a warehouse written by an older nutgraf may lack a
table or column a query names (`retag_runs` came with migration 0009, the ledger's release
column with 0003). Each part is read on its own and comes back as None when its objects are
missing; the caller says the next run will add them. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from warehouse.connection import open_reader
from warehouse.migrations import list_migrations
from warehouse.sql import fetch


@dataclass(frozen=True)
class WarehouseStatus:
    """The warehouse's side of `nutgraf status`; a None part predates its migration."""

    schema_version: int  # newest migration applied to the file
    latest_schema_version: int  # newest migration this code knows
    runs: pl.DataFrame  # recent_runs.sql: the last runs, newest first
    retag_runs: pl.DataFrame | None  # recent_retag_runs.sql; None before migration 0009
    quarantined: pl.DataFrame | None  # reason_code, waiting (unreleased), most first
    ledger: pl.DataFrame | None  # ledger_files.sql: PATH, SIZE, MTIME, ... of seen versions


def _fetch_if_present(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object] | None = None
) -> pl.DataFrame | None:
    """The named query's rows, or None when the warehouse lacks a table or column it uses."""
    try:
        return fetch(con, name, params)
    except (duckdb.CatalogException, duckdb.BinderException):
        return None


def read_warehouse_status(warehouse: Path, *, n_runs: int) -> WarehouseStatus:
    """The last `n_runs` ingest and retag runs, quarantined files waiting by reason and the
    file ledger (to tell which landing files are pending), read in one read-only session."""
    with open_reader(warehouse) as con:
        version = _fetch_if_present(con, "schema_version")
        runs = _fetch_if_present(con, "recent_runs", {"n": n_runs})
        return WarehouseStatus(
            schema_version=0 if version is None else int(version["version"][0]),
            latest_schema_version=max(v for v, _, _ in list_migrations()),
            runs=pl.DataFrame() if runs is None else runs,
            retag_runs=_fetch_if_present(con, "recent_retag_runs", {"n": n_runs}),
            quarantined=_fetch_if_present(con, "quarantine_waiting"),
            ledger=_fetch_if_present(con, "ledger_files"),
        )


def warehouse_bytes(warehouse: Path) -> tuple[int, int]:
    """Size of the database file and of its write-ahead log (0 when absent), in bytes."""
    sizes = []
    for path in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
        try:
            sizes.append(path.stat().st_size)
        except FileNotFoundError:
            sizes.append(0)
    return sizes[0], sizes[1]


def recent_run_ids(warehouse: Path, *, n: int) -> list[str]:
    """Ids of the `n` latest ingest runs, newest first (empty before any run)."""
    with open_reader(warehouse) as con:
        runs = _fetch_if_present(con, "recent_runs", {"n": n})
    return [] if runs is None else runs["run_id"].to_list()


def last_published_run(warehouse: Path) -> dict[str, object] | None:
    """run_id, started_at, finished_at, report_path of the newest run that published, or
    None when none has."""
    with open_reader(warehouse) as con:
        runs = _fetch_if_present(con, "last_published_run")
    return None if runs is None or runs.is_empty() else runs.row(0, named=True)
