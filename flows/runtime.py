"""Process-wide set-up that must happen before Prefect is imported.

Prefect reads its settings from the environment at import time; nutgraf fills in quiet,
offline defaults and leaves anything the user set alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from flows.settings import Settings

# Ephemeral-server settings, each with the legacy alias Prefect 3.9.1 still accepts: Prefect
# prefers the PREFECT_SERVER_* name, so a default under that name would override a user's
# PREFECT_API_* value; the default is only applied when neither name is set.
# Measured on the 2-core box with a one-task flow (scripts kept outside the repo): a warm
# PREFECT_HOME reaches the flow body in ~12-13 s, a fresh one in ~20-23 s; almost all of
# it is importing prefect.server twice (parent and server subprocess, ~4 s + ~6 s CPU) and,
# on a fresh home only, the Alembic migrations (~8-14 s CPU). No setting touches those.
_SERVER_DEFAULTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # Automations (reactive + proactive triggers and their actions): nutgraf defines none.
    # Their start-up is ~0.4-0.6 s of server CPU, spent just as the flow's first API calls
    # arrive, plus a proactive-evaluation loop every 5 s for the whole run.
    (
        "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED",
        "false",
        ("PREFECT_API_SERVICES_TRIGGERS_ENABLED",),
    ),
    # The event persister copies every event (~10 per run) into prefect.db, and an ephemeral
    # server never runs the vacuum that would delete them, so a scheduled tick grows the
    # database forever; ~0.1-0.2 s of server CPU at start. Flow/task run states, logs and
    # artifacts do not depend on it (task runs come from the task-run recorder, left on).
    (
        "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED",
        "false",
        ("PREFECT_API_SERVICES_EVENT_PERSISTER_ENABLED",),
    ),
    # The task-run recorder builds task runs from the client's events. Prefect's default
    # writes them one event per transaction (batch size 1), which falls behind a busy flow;
    # when the run's process exits it stops the ephemeral server and the backlog is lost:
    # with the defaults a 50-task flow kept ~10 of its 50 task runs and a 200-task flow
    # 6-50. Bulk inserts of up to 50 events, flushed at least every second (an integer:
    # Prefect truncates it), kept all of them and halved the server's CPU per task.
    ("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "50", ()),
    ("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_FLUSH_INTERVAL", "1", ()),
    # Registering Prefect's ~50 block types costs ~2 s on a fresh PREFECT_HOME (a warm one
    # skips it through the memo store). nutgraf uses no blocks, and Block.save() registers
    # its own type when something does.
    (
        "PREFECT_SERVER_REGISTER_BLOCKS_ON_START",
        "false",
        ("PREFECT_API_BLOCKS_REGISTER_ON_START",),
    ),
)


def configure_prefect(settings: Settings, *, verbose: bool = False) -> None:
    """Offline, quiet Prefect defaults: no telemetry, a project PREFECT_HOME, patient start-up,
    and no ephemeral-server services nutgraf does not use."""
    defaults = {
        "PREFECT_HOME": str(settings.prefect_home.resolve()),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The ephemeral server needs ~7-15 s on a warm PREFECT_HOME and 20-30 s on a fresh one
        # (database creation) when the two cores are busy; Prefect's default 20 s is too close.
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
