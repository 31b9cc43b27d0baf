"""bench/crash-soak at six moments: kills at fault points inside a run, a run in two batches, a
retag and a rerun, and at random times inside a search-index build and a quarantine release,
leave every table as a clean history leaves it, once the killed command has run again.
`bench/crash-soak 200` is the full soak (RELIABILITY.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_soak import soak
from tests.helpers import NutgrafProcesses

pytestmark = pytest.mark.slow

# Six moments (three rounds of two) where ten took five rounds: seed 51 draws one fault point
# in each of the four commands that pass any (run, run-more, retag, rerun) and random times in
# `search` and `release`, six of the history's seven commands (seed 25's ten moments reached
# five: three in run-more, none in search). If new fault points change the draw, the
# coverage assertion below fails: pick a seed whose draw covers them again.
MOMENTS = 6
SEED = 51


def test_six_kill_moments_then_a_rerun_equal_a_clean_history(
    tmp_path: Path, processes: NutgrafProcesses
):
    history, outcomes = soak(processes, tmp_path, n=MOMENTS, seed=SEED)

    assert [(o.moment.describe(history), o.problem) for o in outcomes if o.problem] == []
    at_points = [o for o in outcomes if o.moment.point is not None]
    assert len(at_points) == 4 and all(o.killed for o in at_points)
    # Every command of the history passes fault points or is killed at random times only.
    with_points = {h.command.name for h in history if h.points}
    assert with_points >= {"run", "run-more", "retag", "rerun"}
    # Each command that passes fault points is killed at one of them.
    assert {history[o.moment.step].command.name for o in at_points} == with_points
    at_times = {history[o.moment.step].command.name for o in outcomes if o.moment.delay is not None}
    assert at_times == {"search", "release"}
