"""Which task failures Prefect retries: transient ones only.

A bug, a rolled-back publish that broke an audit, or a bad setting fails the same way on every
attempt, and retrying it only delays the one-line error (and re-runs a batch's work). A busy
warehouse or an I/O hiccup on a network share may pass.
"""

from __future__ import annotations

import errno

from prefect import Task
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from transforms.errors import TransientError

TRANSIENT_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EINTR, errno.EBUSY, errno.ETIMEDOUT, errno.EIO, errno.ESTALE}
)
"""OS errors worth a second try (a network file system's hiccups), unlike EACCES or ENOENT."""


def is_transient(error: BaseException | None) -> bool:
    """True for errors that may not happen again when the same call is retried."""
    if isinstance(error, TransientError):
        return True
    return isinstance(error, OSError) and error.errno in TRANSIENT_ERRNOS


def retry_transient(task: Task, task_run: TaskRun, state: State) -> bool:
    """Prefect's `retry_condition_fn`: retry a task run whose exception is transient."""
    return is_transient(state.data if isinstance(state.data, BaseException) else None)


RETRIES = {"retries": 2, "retry_delay_seconds": 1, "retry_condition_fn": retry_transient}
"""The retry policy of every task that touches files or the warehouse."""
