"""Read-side access: ad-hoc read-only SQL and the named queries behind `nutgraf report`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from warehouse.connection import open_reader
from warehouse.errors import ReadOnlyViolation, WarehouseError
from warehouse.sql import fetch

_SEARCH_NAMES = ("search_paragraphs", "fts_main_paragraphs", "match_bm25")
"""Names that exist only once the full-text search index has been built."""


class _NeedsFts(Exception):
    """The statement uses full-text search, and the connection has not loaded fts."""


def run_readonly_query(path: Path, sql: str) -> pl.DataFrame:
    """Run user SQL on a read-only connection; any write is refused by DuckDB itself.

    Full-text search (`search_paragraphs`, `fts_main_paragraphs.match_bm25`) needs the fts
    extension, which a reader must load before it loses file access. Loading it is work most
    statements do not need, so only a statement DuckDB says needs it runs again, on a
    connection that loaded it.
    """
    try:
        return _run_readonly(path, sql, extensions=())
    except _NeedsFts:
        from warehouse.search import fts_extension_path

        return _run_readonly(path, sql, extensions=(fts_extension_path(),))


def _run_readonly(path: Path, sql: str, *, extensions: tuple[Path, ...]) -> pl.DataFrame:
    with open_reader(path, extensions=extensions) as con:
        try:
            result = con.sql(sql)
        except duckdb.Error as exc:
            message = str(exc)
            if "read-only" in message or isinstance(exc, duckdb.PermissionException):
                raise ReadOnlyViolation(
                    f"refused: `nutgraf query` is read-only and changes nothing ({exc})"
                ) from exc
            if "exists in the fts extension" in message and not extensions:
                raise _NeedsFts from exc
            first = message.partition("\n")[0]  # later lines quote the statement
            if "does not exist" in first and any(name in first for name in _SEARCH_NAMES):
                raise WarehouseError(
                    f"query failed: the full-text search index has not been built yet ({exc}); "
                    '`nutgraf search "some words"` builds it'
                ) from exc
            raise WarehouseError(f"query failed: {exc}") from exc
        if result is None:  # a statement with no result set (SET, PRAGMA ...)
            return pl.DataFrame()
        return result.pl()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every warehouse table."""
    frame = fetch(con, "table_counts")
    return dict(zip(frame["table_name"].to_list(), frame["n"].to_list(), strict=True))


def read_run(path: Path, run_id: str | None) -> tuple[dict | None, pl.DataFrame, pl.DataFrame]:
    """The run row (latest when run_id is None), its dq_results rows and its quarantine rows."""
    with open_reader(path) as con:
        runs = fetch(con, "run_by_id", {"run_id": run_id}) if run_id else fetch(con, "latest_run")
        if runs.is_empty():
            return None, pl.DataFrame(), pl.DataFrame()
        run = runs.row(0, named=True)
        params = {"run_id": run["run_id"]}
        return run, fetch(con, "dq_results_of_run", params), fetch(con, "quarantine_of_run", params)
