"""Process-wide set-up that must happen before Prefect is imported.

Prefect reads its settings from the environment at import time; nutgraf fills in quiet,
offline defaults and leaves anything the user set alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from flows.settings import Settings


def configure_prefect(settings: Settings, *, verbose: bool = False) -> None:
    """Offline, quiet Prefect defaults: no telemetry, a project PREFECT_HOME, patient start-up."""
    defaults = {
        "PREFECT_HOME": str(settings.prefect_home.resolve()),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # A cold ephemeral server takes 15-18 s here; the default 20 s limit is too close.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "INFO" if verbose else "WARNING",
        "GX_ANALYTICS_ENABLED": "False",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # Prefect's ephemeral server cannot create its SQLite file in a missing folder.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
