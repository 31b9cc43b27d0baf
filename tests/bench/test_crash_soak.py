"""bench/crash-soak at ten moments: kills at fault points and at random times inside a run, a
retag, a search-index build, a quarantine release and a vacuum leave every table as a clean
history leaves it, once the killed command has run again. `bench/crash-soak 200` is the full
soak (RELIABILITY.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_soak import soak
from tests.helpers import NutgrafProcesses

pytestmark = pytest.mark.slow


def test_ten_kill_moments_then_a_rerun_equal_a_clean_history(
    tmp_path: Path, processes: NutgrafProcesses
):
    history, outcomes = soak(processes, tmp_path, n=10, seed=25)

    assert [(o.moment.describe(history), o.problem) for o in outcomes if o.problem] == []
    at_points = [o for o in outcomes if o.moment.point is not None]
    assert len(at_points) == 7 and all(o.killed for o in at_points)
    # Every command of the history passes fault points or is killed at random times only.
    assert {h.command.name for h in history if h.points} >= {"run", "run-more", "retag", "rerun"}
