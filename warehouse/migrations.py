"""Versioned schema migrations: numbered .sql files applied once each, in order; then the
views and macros of warehouse/views, re-created every time.

Tables change only by migration, since their rows must survive. A view or macro holds no data,
so each lives in one file, warehouse/views/<name>.sql, holding its current definition, and is
re-created whenever the migrations are applied: whatever an older migration created under that
name is replaced. The migration files stay as they were, because warehouses in the field have
applied them.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import duckdb

from warehouse.connection import transaction

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ DEFAULT now()
)
"""

VIEWS = (
    "current_articles",
    "article_text",
    "dq_history",
    "near_duplicate_groups",
    "paragraph_timeline",
    "article_duplicates",
    "version_diff",
    "search_index_status",
    "article_datelines",
    "tagger_runs",
    "current_tagger_runs",
    "current_tags",
    "entity_mentions",
    "co_mentions",
    "tag_diff",
    "article_topics",
    "article_languages",
    "article_tags",
    "article_entities",
    "boilerplate_paragraphs",
    "syndication",
    "syndication_pairs",
)
"""The files of warehouse/views in the order they are created: DuckDB binds a view when it is
created, so each comes after every view it reads."""


def list_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every file in warehouse/migrations, by version."""
    folder = resources.files("warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


@cache
def view_sql(name: str) -> str:
    """The text of warehouse/views/<name>.sql."""
    return (resources.files("warehouse") / "views" / f"{name}.sql").read_text()


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    """CREATE OR REPLACE every view and macro of warehouse/views, in the order of VIEWS."""
    for name in VIEWS:
        con.execute(view_sql(name))


def apply_migrations(con: duckdb.DuckDBPyConnection, *, through: int | None = None) -> list[str]:
    """Apply the migrations the file has not seen, each in its own transaction, then re-create
    the views; return the names of the migrations applied.

    The views share the transaction of the last migration (or have one of their own when none
    was due), so the warehouse never commits a schema version without the views written for
    it. `through` stops after that version and, short of the latest, leaves the views as the
    migrations made them (tests build a warehouse as an older release left it).
    """
    con.execute(_LEDGER)
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    migrations = list_migrations()
    due = [
        (version, name, sql)
        for version, name, sql in migrations
        if version not in done and (through is None or version <= through)
    ]
    for version, name, sql in due[:-1]:
        with transaction(con):
            _apply(con, version, name, sql)
    with transaction(con):
        if due:
            _apply(con, *due[-1])
        if through is None or through >= migrations[-1][0]:
            create_views(con)
    return [name for _, name, _ in due]


def _apply(con: duckdb.DuckDBPyConnection, version: int, name: str, sql: str) -> None:
    con.execute(sql)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
