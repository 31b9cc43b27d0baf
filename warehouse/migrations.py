"""Versioned schema migrations: numbered .sql files applied once each, in order."""

from __future__ import annotations

from importlib import resources

import duckdb

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ DEFAULT now()
)
"""


def list_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every file in warehouse/migrations, by version."""
    folder = resources.files("warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection, *, through: int | None = None) -> list[str]:
    """Apply the migrations the file has not seen, each in its own transaction; return names.

    `through` stops after that version (tests build a warehouse as an older release left it).
    """
    con.execute(_LEDGER)
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in list_migrations():
        if version in done or (through is not None and version > through):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
