"""Named SQL: one statement per file in warehouse/sql, bound parameters only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib import resources

import duckdb
import polars as pl


@cache
def load_sql(name: str) -> str:
    """The text of warehouse/sql/<name>.sql."""
    return (resources.files("warehouse") / "sql" / f"{name}.sql").read_text()


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Make each frame visible to SQL as `staged_<name>` for the duration of the block."""
    names = []
    try:
        for name, frame in frames.items():
            view = f"staged_{name}"
            # Plain Arrow strings: DuckDB scans Polars' default string views much more slowly,
            # and every staged frame is scanned whole by an insert.
            con.register(view, frame.to_arrow(compat_level=pl.CompatLevel.oldest()))
            names.append(view)
        yield
    finally:
        for view in names:
            con.unregister(view)


def execute(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object] | None = None
) -> None:
    """Run the named statement."""
    con.execute(load_sql(name), dict(params or {}))


def fetch(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object] | None = None
) -> pl.DataFrame:
    """Run the named query and return its rows as a Polars frame."""
    return con.execute(load_sql(name), dict(params or {})).pl()
