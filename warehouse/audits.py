"""Audits: invariants of the warehouse, checked on each batch before its publish commits.

Each audit is one query, warehouse/audits/<name>.sql, that returns the rows breaking its
invariant among the rows the batch being published wrote; it passes when it returns none. The
batch is named by the publish's staged frames (`staged_articles`, `staged_paragraphs`,
`staged_tags`): an audit reads the tables' rows of those keys and what they point to, so a
publish pays for its batch, not for the whole warehouse or the whole run. They never sort (no
ORDER BY), and run with more memory than the writer's limit (AUDIT_MEMORY_LIMIT).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb
import polars as pl

from warehouse.errors import AuditFailed

EXAMPLES = 3
"""Rows of a failed audit quoted in its error."""
AUDIT_MEMORY_LIMIT = 2**30
"""DuckDB's memory limit while the audits run, when the writer's is lower: inside the publish
the batch's uncommitted rows already fill most of the writer's limit (256 MB by default), and
the audits' joins on top of them would run a full batch out of memory. Restored after."""


@cache
def list_audits() -> tuple[str, ...]:
    """The names of the audits (the files of warehouse/audits), sorted."""
    folder = resources.files("warehouse") / "audits"
    return tuple(sorted(e.name[:-4] for e in folder.iterdir() if e.name.endswith(".sql")))


@cache
def audit_sql(name: str) -> str:
    """The text of warehouse/audits/<name>.sql."""
    return (resources.files("warehouse") / "audits" / f"{name}.sql").read_text()


def find_violations(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """Audit name -> the rows of the staged batch that break it, for the audits that found
    any. The batch's frames must be staged (warehouse.sql.staged)."""
    found = {}
    for name in list_audits():
        rows = con.execute(audit_sql(name)).pl()
        if not rows.is_empty():
            found[name] = rows
    return found


def check_batch(con: duckdb.DuckDBPyConnection, *, run_id: str) -> None:
    """Raise AuditFailed, naming each failed audit with a few of its rows, if any audit of the
    staged batch of run `run_id` returns rows. Called in the publish transaction, so raising
    rolls the batch back."""
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    raise_limit = _bytes(limit) < AUDIT_MEMORY_LIMIT
    if raise_limit:
        con.execute(f"SET memory_limit = '{AUDIT_MEMORY_LIMIT}B'")
    try:
        found = find_violations(con)
    finally:
        if raise_limit:
            con.execute(f"SET memory_limit = '{limit}'")
    if not found:
        return
    failures = "; ".join(
        f"{name} ({rows.height} rows, e.g. {rows.head(EXAMPLES).to_dicts()})"
        for name, rows in found.items()
    )
    raise AuditFailed(
        f"run {run_id} broke the warehouse's invariants, so its batch was rolled back and "
        f"nothing was written: {failures}. This is a bug in nutgraf, not in the files: report "
        "it with these rows (the queries are in warehouse/audits/<name>.sql)"
    )


_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def _bytes(setting: str) -> float:
    """DuckDB's memory_limit as it shows it ("244.1 MiB") in bytes."""
    number, _, unit = setting.partition(" ")
    return float(number) * _UNITS.get(unit, 1)
