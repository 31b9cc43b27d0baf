"""Whether `nutgraf serve` is running, and on what schedule: a small state file in PREFECT_HOME.

The contract between `nutgraf serve` (the writer) and `nutgraf status` (a reader):

- The file is ``<prefect home>/nutgraf-serve.json``, where the prefect home is the one both
  processes use (``flows.runtime.resolve_prefect_home``: PREFECT_HOME, else the setting
  ``prefect_home``). It holds one JSON object::

      {"pid": 4242, "schedule": "cron */5 * * * *", "started_at": "2026-11-28T11:50:09+00:00",
       "ui_url": "http://127.0.0.1:4200"}

  ``pid`` is the serving process; ``schedule`` is a human-readable description of when runs
  start (free text, shown as it is); ``started_at`` is when serving began (UTC, ISO 8601,
  written by :func:`write_serve_state`); ``ui_url`` is where Prefect's UI shows the runs, or
  null when serving without a UI.
- `serve` calls :func:`write_serve_state` once its schedule is registered and
  :func:`clear_serve_state` when it stops (in a ``finally``). A serve that is killed cannot
  clear it; that is why readers check the pid.
- :func:`read_serve_state` returns the object only while its pid is alive, else None; it never
  raises on a missing, half-written or foreign file.

The file is written whole to a temporary name and renamed, so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

SERVE_STATE_FILE = "nutgraf-serve.json"
_KEYS = ("pid", "schedule", "started_at", "ui_url")


def serve_state_path(prefect_home: Path) -> Path:
    """Where the state file of a serve using `prefect_home` lives."""
    return Path(prefect_home) / SERVE_STATE_FILE


def write_serve_state(prefect_home: Path, *, pid: int, schedule: str, ui_url: str | None) -> Path:
    """Record that process `pid` serves on `schedule` (started now); returns the file's path."""
    path = serve_state_path(prefect_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "pid": int(pid),
        "schedule": str(schedule),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "ui_url": ui_url,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; status may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def clear_serve_state(prefect_home: Path, *, pid: int | None = None) -> None:
    """Remove the state file when serving stops. With `pid`, only if the file names that
    process, so a serve that exits cannot erase the record of another one started since."""
    path = serve_state_path(prefect_home)
    if pid is not None:
        state = _load(path)
        if state is not None and state.get("pid") != pid:
            return
    path.unlink(missing_ok=True)


def read_serve_state(prefect_home: Path) -> dict | None:
    """{pid, schedule, started_at, ui_url} of the running serve; None when there is no state
    file, it cannot be read, or its process is gone (killed without clearing it)."""
    state = _load(serve_state_path(prefect_home))
    if state is None or not _alive(state["pid"]):
        return None
    return state


def _load(path: Path) -> dict | None:
    """The state object, or None when the file is missing or not one we wrote."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("pid"), int):
        return None
    return {key: state.get(key) for key in _KEYS}


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without signalling)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
