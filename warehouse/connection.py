"""The one place that opens DuckDB.

Writers get one read-write connection and one transaction per published batch; readers open
the file read-only. Extensions are never auto-installed: with no route to the extension
server an automatic install hangs for about 80 s, so a missing extension must fail at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseBusy, WarehouseMissing

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


def _connect(path: Path, *, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying while another process has it open, for up to `wait` seconds.

    DuckDB does not wait for its file lock (a second process fails at once), and connections
    are held only for moments, so a short retry lets readers and the writer take turns.
    """
    config = dict(_READER_CONFIG if read_only else _CONFIG)
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
def open_writer(path: Path, *, wait: float = 60.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse file, created (with its folder) if missing.

    Callers hold :func:`warehouse.lock.writer_lock`; the wait covers readers that have the
    file open for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path, read_only=False, wait=wait)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def open_reader(path: Path, *, wait: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; DuckDB refuses every write on it and it cannot touch files.

    Waits up to `wait` seconds while a run has the file open to publish.
    """
    if not path.exists():
        raise WarehouseMissing(
            f"no warehouse at {path}; run `nutgraf run` first or pass --warehouse"
        )
    con = _connect(path, read_only=True, wait=wait)
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
