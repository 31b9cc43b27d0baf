"""Log lines that name their run: ``run 20261128T115009-820aefc3: nothing new in landing``.

A scheduled deployment interleaves runs in one log stream, and the run id is what `runs`,
`dq_results`, the quarantine and the report files are keyed by; with it on every line, a log
line leads straight to the run's rows and report, and `grep RUN_ID` finds all of a run's lines.

While :func:`run_logging` is active, every record that nutgraf's own code logs gets the prefix:
through Prefect's flow or task run logger (`get_run_logger()`, in the flow or in any task,
also in worker threads, which inherit the context) or through a module logger
(``logging.getLogger(__name__)`` in transforms, expectations, warehouse, flows). Prefect's own
lines on the run loggers ("Finished in state Completed()") are left as they are: a record is
nutgraf's when its logger is a nutgraf module's or the code that logged it lives in one of
nutgraf's packages.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

NUTGRAF_PACKAGES = ("flows", "transforms", "expectations", "warehouse")
PREFECT_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
_SOURCE_ROOT = Path(__file__).resolve().parents[1]
_PACKAGE_DIRS = tuple(str(_SOURCE_ROOT / name) + os.sep for name in NUTGRAF_PACKAGES)
_RUN_ID: ContextVar[str | None] = ContextVar("nutgraf_run_id", default=None)


def run_prefix(run_id: str) -> str:
    """What every line of a run starts with."""
    return f"run {run_id}: "


@lru_cache(maxsize=256)
def _is_nutgraf_code(pathname: str) -> bool:
    """Whether a record's call site is a module of nutgraf's packages."""
    return os.path.realpath(pathname).startswith(_PACKAGE_DIRS)


class _RunIdFilter(logging.Filter):
    """Prefixes nutgraf's records with the run id of the context they are logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = _RUN_ID.get()
        if (
            run_id is not None
            and isinstance(record.msg, str)
            and not hasattr(record, "nutgraf_run_id")
            and (record.name.split(".")[0] in NUTGRAF_PACKAGES or _is_nutgraf_code(record.pathname))
        ):
            record.msg = run_prefix(run_id) + record.msg
            record.nutgraf_run_id = run_id  # a record passes one logger's filters, but once
        return True


_FILTER = _RunIdFilter()


def _loggers() -> list[logging.Logger]:
    """Prefect's run loggers and the module loggers nutgraf's code created so far.

    A logger's filters see only the records made by that logger, not those its children
    pass up, so the filter goes on each one."""
    names = list(logging.root.manager.loggerDict.items())
    modules = [
        logger
        for name, logger in names
        if isinstance(logger, logging.Logger) and name.split(".")[0] in NUTGRAF_PACKAGES
    ]
    return [*(logging.getLogger(name) for name in PREFECT_RUN_LOGGERS), *modules]


@contextmanager
def run_logging(run_id: str) -> Iterator[None]:
    """Within the block (and the tasks it runs), nutgraf's log lines start with
    ``run <run_id>: ``. The filter stays installed afterwards and does nothing outside a run."""
    for logger in _loggers():
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    token = _RUN_ID.set(run_id)
    try:
        yield
    finally:
        _RUN_ID.reset(token)
