"""Quarantined files: list them, show one, release them so the next run reads them again.

Releasing is the only write here. It takes the writer lock (a run may be publishing) and, in
one transaction, stamps `released_at` on the chosen quarantine rows and on their ledger rows.
Discovery (`ledger_files.sql`) and the duplicate check (`known_file_hashes.sql`) ignore released
ledger rows, so the next run reads the file as new; the ledger row that run writes makes it
seen again, so a released file loads exactly once (or is quarantined again, with a new row).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from warehouse.connection import open_reader, open_writer, transaction
from warehouse.errors import WarehouseError, WarehouseMissing
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.sql import execute, fetch, staged

QUARANTINE_ID = "quarantine_id"
RELEASED_AT = "released_at"


class UnknownQuarantineId(WarehouseError):
    """No quarantine row has the id given: it was mistyped or belongs to another warehouse."""

    exit_code = 2


class UnknownReason(WarehouseError):
    """No quarantine row has the reason code given to `release --all --reason`."""

    exit_code = 2


@dataclass(frozen=True)
class QuarantineEntry:
    """One quarantine row: a file a run set aside, why, and whether it was released."""

    quarantine_id: str
    run_id: str
    path: str  # relative to the landing folder
    record: int | None  # the line of a .jsonl record set aside alone; null for a whole file
    sha256: str | None  # null when the file was never read (unreadable, not a file, ...)
    reason_code: str
    rule: str | None  # the check that set it aside; null on rows older than migration 0003
    detail: str | None
    released_at: datetime | None


@dataclass(frozen=True)
class Release:
    """What `release_quarantine` did; both frames have the columns of `quarantine_by_id.sql`."""

    released: pl.DataFrame  # rows released by this call
    already_released: pl.DataFrame  # chosen by id, but released before


def _read(warehouse: Path, name: str, params: dict[str, object]) -> pl.DataFrame:
    """Run a named read-only query; a warehouse from before migration 0003 gets advice."""
    with open_reader(warehouse) as con:
        try:
            return fetch(con, name, params)
        except (duckdb.BinderException, duckdb.CatalogException) as exc:
            raise WarehouseError(
                f"{warehouse} has no quarantine release columns yet (migration 0003); "
                f"the next `nutgraf run` or `nutgraf quarantine release` adds them ({exc})"
            ) from exc


def list_quarantine(warehouse: Path, *, include_released: bool = False) -> pl.DataFrame:
    """id, run, path, reason, rule, released_at of quarantined files, newest run first."""
    return _read(warehouse, "quarantine_list", {"include_released": include_released})


def find_quarantine(warehouse: Path, quarantine_id: str) -> QuarantineEntry | None:
    """The quarantine row with this id, released or not; None when there is none."""
    rows = _read(warehouse, "quarantine_by_id", {QUARANTINE_ID: quarantine_id})
    return QuarantineEntry(**rows.row(0, named=True)) if rows.height else None


def _choose(
    con: duckdb.DuckDBPyConnection, quarantine_id: str | None, reason_code: str | None
) -> pl.DataFrame:
    """The row with `quarantine_id`, or else every unreleased row (of `reason_code` if given)."""
    if quarantine_id is not None:
        rows = fetch(con, "quarantine_by_id", {QUARANTINE_ID: quarantine_id})
        if rows.is_empty():
            raise UnknownQuarantineId(
                f"no quarantined file has id {quarantine_id!r}; "
                "`nutgraf quarantine list --all` shows every id"
            )
        return rows
    rows = fetch(con, "quarantine_unreleased", {"reason_code": reason_code})
    if rows.is_empty() and reason_code is not None:
        reasons = fetch(con, "quarantine_reasons")
        if reason_code not in reasons["reason_code"].to_list():
            known = ", ".join(f"{r} ({n} waiting)" for r, n in reasons.iter_rows()) or "none"
            raise UnknownReason(
                f"no quarantined file has reason {reason_code!r}; reasons in the quarantine: "
                f"{known}"
            )
    return rows


def release_quarantine(
    warehouse: Path,
    *,
    quarantine_id: str | None = None,
    reason_code: str | None = None,
    lock_timeout: float,
) -> Release:
    """Release one quarantine row by id, or every unreleased one (of `reason_code` if given).

    Under the writer lock and in one transaction: the chosen unreleased rows and their ledger
    rows (same path and bytes, status 'quarantined') get `released_at = now()`. Raises
    UnknownQuarantineId / UnknownReason (exit code 2) when the id or reason matches nothing.
    """
    if not warehouse.exists():
        raise WarehouseMissing(
            f"no warehouse at {warehouse}; run `nutgraf run` first or pass --warehouse"
        )
    with writer_lock(warehouse, timeout=lock_timeout), open_writer(warehouse) as con:
        apply_migrations(con)
        with transaction(con):
            chosen = _choose(con, quarantine_id, reason_code)
            waiting = chosen.filter(pl.col(RELEASED_AT).is_null())
            if waiting.height:
                with staged(con, released=waiting):
                    execute(con, "quarantine_release_ledger")
                    execute(con, "quarantine_release")
    return Release(
        released=waiting, already_released=chosen.filter(pl.col(RELEASED_AT).is_not_null())
    )
