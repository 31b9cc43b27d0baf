"""Migrations and views: tables by numbered migration, every view and macro from its own file in
warehouse/views, re-created each time the migrations are applied. A real DuckDB file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

from warehouse.connection import open_writer
from warehouse.migrations import VIEWS, apply_migrations, list_migrations

_CATALOG = """
SELECT 'view' AS kind, view_name AS name, sql FROM duckdb_views()
WHERE NOT internal AND schema_name = 'main'
UNION ALL
SELECT function_type, function_name, macro_definition FROM duckdb_functions()
WHERE NOT internal AND schema_name = 'main'
ORDER BY name
"""


def _catalog(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(_CATALOG).fetchall()


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        name: [(c[0], str(c[1])) for c in con.execute(f"SELECT * FROM {name} LIMIT 0").description]
        for name in VIEWS
        if con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]
        ).fetchone()[0]
    }


def test_views_lists_every_file_of_the_views_folder_once():
    folder = resources.files("warehouse") / "views"
    files = {entry.name for entry in folder.iterdir()}
    assert files == {f"{name}.sql" for name in VIEWS}
    assert len(set(VIEWS)) == len(VIEWS)


def test_every_view_and_macro_of_a_fresh_warehouse_comes_from_the_views_folder(tmp_path: Path):
    with open_writer(tmp_path / "w.duckdb") as con:
        apply_migrations(con)
        assert [name for _, name, _ in _catalog(con)] == sorted(VIEWS)
        # A view or macro changed by hand is put back the next time the migrations are applied.
        con.execute("CREATE OR REPLACE VIEW dq_history AS SELECT 1 AS x")
        con.execute("CREATE OR REPLACE MACRO version_diff(a, b, c) AS TABLE SELECT 1 AS x")
        catalog = _catalog(con)
        apply_migrations(con)
        restored = _catalog(con)
    assert restored != catalog
    assert [row for row in restored if row[1] not in ("dq_history", "version_diff")] == [
        row for row in catalog if row[1] not in ("dq_history", "version_diff")
    ]


def test_applying_again_changes_nothing(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    with open_writer(path) as con:
        assert apply_migrations(con) == [name for _, name, _ in list_migrations()]
        catalog, columns = _catalog(con), _columns(con)
    with open_writer(path) as con:
        assert apply_migrations(con) == []
        assert apply_migrations(con) == []
        assert _catalog(con) == catalog
        assert _columns(con) == columns
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(
            list_migrations()
        )


def test_an_older_warehouse_gets_the_views_of_the_latest_schema(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    with open_writer(path) as con:
        apply_migrations(con, through=8)
        # As release 8 left it: entity_mentions reads paragraph_tags, before current_tags.
        assert "current_tags" not in [name for _, name, _ in _catalog(con)]
        old = dict((name, sql) for _, name, sql in _catalog(con))["entity_mentions"]
        assert "paragraph_tags" in old
        apply_migrations(con)
        catalog = dict((name, sql) for _, name, sql in _catalog(con))
    assert sorted(catalog) == sorted(VIEWS)
    assert "current_tags" in catalog["entity_mentions"]
