"""Process-wide set-up that must happen before Prefect is imported.

Prefect reads its settings from the environment at import time; nutgraf fills in quiet,
offline defaults and leaves anything the user set alone.
"""

from __future__ import annotations

import ctypes
import os
import platform
import time
from pathlib import Path

from flows.settings import Settings

# Ephemeral-server settings. Where Prefect 3.9.1 still accepts a legacy PREFECT_API_* alias it
# prefers the PREFECT_SERVER_* name, so a default under that name would override the user's
# alias: a default is only applied when neither name is set.
# Nearly all of the wait for the flow body is importing prefect.server twice (once in this
# process, once in the server subprocess) plus, on a fresh home only, the Alembic
# migrations; no setting changes those. The settings below only turn off server work that
# nutgraf has no use for (see BENCHMARKS.md).
_FLUSH_SECONDS = 1  # the task-run recorder's flush interval (a whole number, see below)
_SERVER_DEFAULTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Automations (reactive and proactive triggers and their actions): nutgraf defines none.
    # Starting them (the actions consumer builds in-memory API clients, automations are
    # loaded) costs server CPU just as the flow's first API calls arrive, and a
    # proactive-evaluation loop runs every 5 s for the rest of the run.
    (
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",
        "false",
        ("PREFECT_API_SERVICES_TRIGGERS_ENABLED",),
    ),
    # The event persister copies every event into prefect.db, and while it is on, each
    # server start also schedules an event vacuum: server CPU at start, and work on every
    # event after that. Nothing in nutgraf reads events. Flow and task run states, logs and
    # artifacts do not depend on it (task runs come from the task-run recorder, which stays
    # on).
    (
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED",
        "false",
        ("PREFECT_API_SERVICES_EVENT_PERSISTER_ENABLED",),
    ),
    # The task-run recorder turns the client's events into task runs. Prefect's default
    # writes one event per transaction (batch size 1), which falls behind a flow whose tasks
    # are quick. When the process exits it stops the ephemeral server, and that backlog is
    # lost: with the defaults, most task runs of a flow of quick tasks go unrecorded. Bulk
    # inserts of up to 200 events, flushed at least every second, keep up with such a flow
    # and cost the server less CPU than an insert per event. The interval must be a whole
    # number: Prefect truncates it to an int, so 0.5 would busy-loop. A server stopped
    # mid-flush can still drop that batch (and log the error to stderr): `settle_task_runs`
    # waits one interval before the process exits, so the last flush is done by then.
    ("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "200", ()),
    ("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL", str(_FLUSH_SECONDS), ()),
    # Registering Prefect's block types is a sizeable part of a fresh PREFECT_HOME's start.
    # A warm home skips it already, through the memo store. nutgraf uses no blocks, and
    # Block.save() registers its own block type when something does.
    (
        "PREFECT_SERVER_REGISTER_BLOCKS_ON_START",
        "false",
        ("PREFECT_API_BLOCKS_REGISTER_ON_START",),
    ),
)


MALLOC_ARENAS = 2
"""glibc malloc arenas a nutgraf process may use. glibc gives each new thread that allocates
its own arena, up to 8 per core, and a freed block only serves its own arena again. Polars and
DuckDB bring their own allocators; what goes through glibc is Python's, NumPy's and PyArrow's
(GX's validation, the language model, texts passed into Python). With Prefect's and the
libraries' threads each holding an arena, the free space glibc keeps grows from batch to batch
and lifts every later batch's peak. Two arenas (one per core of the two-core machine the
benchmarks run on) give a lower peak in the same time (see BENCHMARKS.md)."""
_M_ARENA_MAX = -8  # malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for the rest of the process (`MALLOC_ARENAS`); returns whether
    the cap was set. Leaves a user's own MALLOC_ARENA_MAX alone, and does nothing on a C
    library other than glibc. Call it early: threads that already have an arena keep it."""
    if "MALLOC_ARENA_MAX" in os.environ or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def settle_task_runs() -> None:
    """Before a process that ran a flow on the ephemeral server exits (which stops that
    server): give the task-run recorder the time of one flush, so the flow's last task runs
    are recorded rather than cut off mid-write. Nothing to wait for with a real server."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return
    time.sleep(_FLUSH_SECONDS + 0.25)


def configure_prefect(settings: Settings, *, verbose: bool = False) -> None:
    """Offline, quiet Prefect defaults: no telemetry, a project PREFECT_HOME, patient start-up,
    and no ephemeral-server services nutgraf does not use; glibc's malloc arenas capped."""
    limit_malloc_arenas()
    defaults = {
        "PREFECT_HOME": str(settings.prefect_home.resolve()),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # On a fresh PREFECT_HOME the ephemeral server creates its database before it is
        # healthy, which on two busy cores comes close to Prefect's default limit of 20 s,
        # and goes past it under load.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "GX_ANALYTICS_ENABLED": "False",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    for name, value, aliases in _SERVER_DEFAULTS:
        if not any(alias in os.environ for alias in aliases):
            os.environ.setdefault(name, value)
    # Prefect's ephemeral server cannot create its SQLite file in a missing folder.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


def resolve_prefect_home(settings: Settings) -> Path:
    """The PREFECT_HOME a nutgraf process uses (the one `configure_prefect` sets): the
    environment's, else the setting `prefect_home`. Read without importing Prefect, so that
    `nutgraf status` can find a serving process's state file in a fraction of a second."""
    return Path(os.environ.get("PREFECT_HOME") or settings.prefect_home).expanduser().resolve()
