"""Tasks retry transient failures only: a busy warehouse or an I/O hiccup is tried again, a bug
or a rolled-back audit fails at once (real Prefect task runs in the test harness)."""

from __future__ import annotations

import errno

import pytest
from prefect import flow, task

from flows.retries import RETRIES, is_transient
from warehouse.errors import AuditFailed, WarehouseBusy

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _attempts(error: BaseException) -> int:
    """How often a task with the project's retry policy runs when it raises `error` until its
    last allowed attempt, which succeeds."""
    calls = []

    @task(**{**RETRIES, "retry_delay_seconds": 0})
    def flaky() -> str:
        calls.append(1)
        if len(calls) <= RETRIES["retries"]:
            raise error
        return "done"

    @flow
    def run() -> str:
        return flaky()

    try:
        run()
    except type(error):
        pass
    return len(calls)


@pytest.mark.parametrize(
    "error",
    [WarehouseBusy("locked"), OSError(errno.EIO, "I/O error")],
    ids=["busy", "eio"],
)
def test_a_transient_failure_is_retried(error: BaseException):
    assert is_transient(error)
    assert _attempts(error) == RETRIES["retries"] + 1


@pytest.mark.parametrize(
    "error",
    [ValueError("a bug"), AuditFailed("invariant broken"), PermissionError(errno.EACCES, "no")],
    ids=["bug", "audit", "eacces"],
)
def test_a_deterministic_failure_is_not_retried(error: BaseException):
    assert not is_transient(error)
    assert _attempts(error) == 1
