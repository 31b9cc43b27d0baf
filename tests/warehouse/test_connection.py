"""The writer's transaction: COMMIT at the end of the block, ROLLBACK on any exception, and
DuckDB's errors told with what failed. A real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse.connection import open_writer, transaction
from warehouse.errors import WarehouseError


def test_a_transaction_commits_when_the_block_ends(tmp_path: Path):
    with open_writer(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with transaction(con):
            con.execute("INSERT INTO t VALUES (1)")
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize("error", [KeyboardInterrupt, ValueError])
def test_a_transaction_rolls_back_on_any_exception(tmp_path: Path, error: type[BaseException]):
    with open_writer(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with pytest.raises(error), transaction(con, failure="not used"):
            con.execute("INSERT INTO t VALUES (1)")
            raise error
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
        with transaction(con):  # no transaction left open
            con.execute("INSERT INTO t VALUES (2)")


def test_a_transaction_says_what_failed_when_duckdb_does(tmp_path: Path):
    with open_writer(tmp_path / "w.duckdb") as con:
        con.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with pytest.raises(duckdb.ConstraintException), transaction(con):
            con.execute("INSERT INTO t VALUES (1), (1)")
        with pytest.raises(WarehouseError, match=r"^loading t failed: Constraint Error"):
            with transaction(con, failure="loading t failed"):
                con.execute("INSERT INTO t VALUES (3)")
                con.execute("INSERT INTO t VALUES (3)")
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
