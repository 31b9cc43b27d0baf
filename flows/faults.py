"""Fault injection for the crash and failure tests: named points where a run can be made to die.

Set with the `fault_points` setting (`NUTGRAF_FAULT_POINTS='["kill@publish:articles#2"]'`):
- `kill@POINT` sends SIGKILL to the process the first time POINT is reached;
  `kill@POINT#N` the N-th time (points inside a batch are reached once per batch);
- `eacces@read:PATH` makes reading the landing file PATH fail with a permission error, which
  is how the tests get an unreadable file while running as root;
- `trace@FILE` appends every point reached to FILE, one per line: how `bench/crash-soak` learns
  which points a command passes, and how often, without a list to keep in step.
Empty by default: then every check is one dictionary lookup.
"""

from __future__ import annotations

import errno
import os
import signal
from collections import Counter


class Faults:
    """Counts arrivals at named points and acts on the configured ones."""

    def __init__(self, specs: tuple[str, ...] = ()) -> None:
        self._kills: dict[str, int] = {}
        self._denied: set[str] = set()
        self._trace: str | None = None
        for spec in specs:
            action, _, point = spec.partition("@")
            if action == "kill":
                name, _, nth = point.partition("#")
                self._kills[name] = int(nth or 1)
            elif action == "eacces" and point.startswith("read:"):
                self._denied.add(point.removeprefix("read:"))
            elif action == "trace":
                self._trace = point
            else:
                raise ValueError(f"unknown fault point {spec!r}")
        self._seen: Counter[str] = Counter()

    def reach(self, point: str) -> None:
        """Called by the pipeline at `point`; kills the process if so configured."""
        if self._trace is not None:
            with open(self._trace, "a", encoding="utf-8") as trace:
                trace.write(point + "\n")
        if point not in self._kills:
            return
        self._seen[point] += 1
        if self._seen[point] == self._kills[point]:
            os.kill(os.getpid(), signal.SIGKILL)

    def before_read(self, path: str) -> None:
        """Called before reading a landing file; raises a permission error if so configured."""
        if path in self._denied:
            raise PermissionError(errno.EACCES, "Permission denied (simulated)", path)
