"""The one place that opens DuckDB.

Writers get one read-write connection and one transaction per published batch; readers open
the file read-only. Extensions are never auto-installed: with no route to the extension
server an automatic install hangs for about 80 s, so a missing extension must fail at once.
"""

from __future__ import annotations

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


@contextmanager
def open_writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the warehouse file, created (with its folder) if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), config=dict(_CONFIG))
    except duckdb.Error as exc:
        raise _classify(exc, path) from exc
    try:
        yield con
    finally:
        con.close()


@contextmanager
def open_reader(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; DuckDB refuses every write on it."""
    if not path.exists():
        raise WarehouseMissing(
            f"no warehouse at {path}; run `nutgraf run` first or pass --warehouse"
        )
    try:
        con = duckdb.connect(str(path), read_only=True, config=dict(_READER_CONFIG))
    except duckdb.Error as exc:
        raise _classify(exc, path) from exc
    try:
        yield con
    finally:
        con.close()
