"""The single-writer lock: an operating-system lock on a file next to the warehouse.

`fcntl.flock` is released by the kernel when its holder exits, however it exits (SIGKILL
included), so a crashed run never leaves the warehouse locked. DuckDB's own file lock is not
enough: it covers only the moments a connection is open, while a run must hold the writer role
from reading the ledger to its last commit so two runs never load the same file.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import WarehouseBusy


def lock_path(warehouse: Path) -> Path:
    """The lock file that guards `warehouse`."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def writer_lock(warehouse: Path, *, timeout: float, poll: float = 0.2) -> Iterator[None]:
    """Hold the writer role for `warehouse`, waiting up to `timeout` seconds for it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    raise WarehouseBusy(
                        f"another nutgraf run (pid {holder}) is writing {warehouse}; waited "
                        f"{timeout:g} s (setting lock_timeout_seconds). It will load the "
                        "pending files; run again later if it does not"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def current_writer(warehouse: Path) -> int | None:
    """The pid of the process that holds the writer role now, or None.

    Read from the pid the holder writes into the lock file (and clears when it lets go),
    without taking the lock: a probe with `flock` would make a run that tries it at that
    moment wait, or give up with lock_timeout_seconds = 0. A holder killed with SIGKILL leaves
    its pid behind, so the pid must also belong to a live process.
    """
    try:
        text = lock_path(warehouse).read_text(errors="replace").strip()
    except FileNotFoundError:
        return None
    if not text.isdigit():
        return None
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, under another user
        pass
    return pid
