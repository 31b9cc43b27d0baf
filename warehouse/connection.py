"""The one place that opens DuckDB.

Writers get one read-write connection and one transaction per published batch; readers open
the file read-only. Extensions are never auto-installed: with no route to the extension
server an automatic install hangs until the network gives up, so a missing extension must fail
at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseBusy, WarehouseError, WarehouseMissing

_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
# Readers may not reach the file system either: no COPY TO, no ATTACH, no read_csv('/etc/...').
_READER_CONFIG = {**_CONFIG, "enable_external_access": False}


def _classify(exc: duckdb.Error, path: Path) -> Exception:
    message = str(exc)
    if "Could not set lock" in message or "Conflicting lock" in message:
        return WarehouseBusy(
            f"{path} is held by another process (a run publishing, or a long query); "
            "try again when it ends"
        )
    return exc


def load_extension(con: duckdb.DuckDBPyConnection, extension: Path) -> None:
    """LOAD a DuckDB extension from its file, never from the network.

    DuckDB checks the file's signature, so only an extension signed by DuckDB loads.
    """
    if not extension.is_file():
        raise WarehouseError(
            f"the DuckDB extension file {extension} does not exist; reinstall the environment "
            "(`uv sync --frozen`), whose wheels ship it, or correct the path (the full-text "
            "search one: setting fts_extension)"
        )
    try:
        con.execute("LOAD " + _sql_string(str(extension)))
    except duckdb.Error as exc:
        raise WarehouseError(f"could not load the DuckDB extension {extension}: {exc}") from exc


def _sql_string(text: str) -> str:
    """A SQL string literal (LOAD takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _connect(
    path: Path, *, read_only: bool, wait: float, extensions: Sequence[Path] = ()
) -> duckdb.DuckDBPyConnection:
    """Open the file (waiting up to `wait` seconds while it is busy); a reader given
    `extensions` loads them, then loses file access before any caller's SQL runs.

    A reader opened with file access off cannot LOAD an extension file at all; DuckDB also
    refuses to turn access back on while the database is open, so turning it off right after
    the LOAD is as final as the connect-time setting.
    """
    loading = read_only and bool(extensions)
    con = _open(path, read_only=read_only, wait=wait, config=_CONFIG if loading else None)
    if not loading:
        return con
    try:
        for extension in extensions:
            load_extension(con, extension)
        con.execute("SET enable_external_access = false")
    except BaseException:
        con.close()
        raise
    return con


def _open(
    path: Path, *, read_only: bool, wait: float, config: dict[str, bool] | None = None
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, retrying while another process has the file, for up to `wait` seconds.

    DuckDB does not wait for its file lock (a second process fails at once), and connections
    are held only for moments, so a short retry lets readers and the writer take turns.
    """
    if config is None:
        config = _READER_CONFIG if read_only else _CONFIG
    config = dict(config)
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            error = _classify(exc, path)
            if not isinstance(error, WarehouseBusy) or time.monotonic() >= deadline:
                raise error from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


@contextmanager
def open_writer(
    path: Path, *, wait: float = 60.0, memory_limit: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse file, created (with its folder) if missing.

    Callers hold :func:`warehouse.lock.writer_lock`; the wait covers readers that have the
    file open for a moment. `memory_limit` (DuckDB's, e.g. "1GB"): beyond it DuckDB spills
    joins, sorts and uncommitted rows to a temporary folder beside the file instead of growing
    (default: 80% of the machine's memory).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False, wait=wait)
    try:
        if memory_limit:
            con.execute("SET memory_limit = " + _sql_string(memory_limit))
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"DuckDB refused the memory limit {memory_limit!r}: {exc}") from exc
    try:
        yield con
    finally:
        con.close()


@contextmanager
def open_reader(
    path: Path, *, wait: float = 30.0, extensions: Sequence[Path] = ()
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; DuckDB refuses every write on it and it cannot touch files.

    Waits up to `wait` seconds while a run has the file open to publish. `extensions` are
    extension files loaded before file access is turned off (the full-text search one).
    """
    if not path.exists():
        raise WarehouseMissing(
            f"no warehouse at {path}; run `nutgraf run` first or pass --warehouse"
        )
    con = _connect(path, read_only=True, wait=wait, extensions=extensions)
    try:
        yield con
    finally:
        con.close()


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open; a failed COMMIT has already rolled back."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, *, failure: str | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: COMMIT when it ends normally, else roll back and
    re-raise (KeyboardInterrupt and a failed COMMIT included).

    `failure`: what to tell people when DuckDB itself fails, e.g. "publishing run r1 failed and
    was rolled back, nothing was written"; the DuckDB error is then raised as a WarehouseError
    with that message and DuckDB's own after it. Without it DuckDB's error goes up as it is.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except duckdb.Error as exc:
        rollback(con)
        if failure is None:
            raise
        raise WarehouseError(f"{failure}: {exc}") from exc
    except BaseException:
        rollback(con)
        raise
