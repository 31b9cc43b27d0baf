"""The progress line of `nutgraf run`: drawn on a terminal, never into logs or pipes."""

from __future__ import annotations

import os
import re
import shutil
import threading
from io import StringIO
from pathlib import Path

import pytest

from flows import progress
from flows.progress import (
    ProgressBar,
    format_duration,
    format_size,
    running_in_ci,
    terminal_bar,
)
from tests.helpers import SAMPLES, NutgrafProcesses

MB = 1_000_000


class FakeTerminal(StringIO):
    """A stream that says it is a terminal, and keeps what was written."""

    def isatty(self) -> bool:
        return True


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _frames(out: str) -> list[str]:
    """The successive states of the line: what followed each carriage return."""
    assert out.startswith("\r")
    return [frame.rstrip(" \n") for frame in out.split("\r")[1:]]


def test_the_bar_shows_counts_rate_and_eta():
    out, clock = FakeTerminal(), Clock()
    bar = ProgressBar(out, clock=clock, columns=200)
    bar.start(10, 50 * MB)
    clock.now += 10
    bar.advance(4, 20 * MB)  # 2 MB/s; 30 MB to go: 15 s
    clock.now += 15
    bar.advance(6, 30 * MB)
    bar.close()
    bar.close()  # ends the line once
    first, middle, last = _frames(out.getvalue())
    assert first == (
        "[--------------------]   0%  0/10 files  0.0/50.0 MB  ETA --:--  elapsed 0:00"
    )
    assert middle == (
        "[########------------]  40%  4/10 files  20.0/50.0 MB  2.0 MB/s  0.4 files/s  "
        "ETA 0:15  elapsed 0:10"
    )
    assert last == (
        "[####################] 100%  10/10 files  50.0/50.0 MB  2.0 MB/s  0.4 files/s  "
        "done  elapsed 0:25"
    )
    assert out.getvalue().endswith("\n") and out.getvalue().count("\n") == 1


def test_small_runs_count_kb_and_empty_files_count_files():
    out, clock = FakeTerminal(), Clock()
    bar = ProgressBar(out, clock=clock, columns=200)
    bar.start(3, 4_500)
    clock.now += 2
    bar.advance(1, 1_500)
    assert "1.5/4.5 KB  0.75 KB/s  0.5 files/s  ETA 0:04" in bar.render()

    empty = ProgressBar(FakeTerminal(), clock=clock, columns=200)
    empty.start(4, 0)  # only empty files: the share and the ETA follow files
    clock.now += 3
    empty.advance(1, 0)
    assert " 25%  1/4 files" in empty.render() and "ETA 0:09" in empty.render()


def test_a_shorter_line_blanks_the_longer_one_and_never_wraps():
    out, clock = FakeTerminal(), Clock()
    bar = ProgressBar(out, clock=clock, columns=200)
    bar.start(1_000, 1_000 * MB)
    clock.now += 1
    bar.advance(1, MB)
    bar.start(1_000, 1_000 * MB)  # a shorter line again
    _, _, longer, shorter = out.getvalue().split("\r")
    assert len(shorter) == len(longer) and shorter.rstrip() != shorter

    narrow = FakeTerminal()
    bar = ProgressBar(narrow, clock=clock, columns=40)
    bar.start(1_000, 1_000 * MB)
    bar.advance(500, 500 * MB)
    assert all(len(frame) <= 39 for frame in narrow.getvalue().split("\r"))


def test_durations_and_sizes():
    assert format_duration(0) == "0:00"
    assert format_duration(75.4) == "1:15"
    assert format_duration(3725) == "1:02:05"
    sizes = [format_size(n) for n in (66, 999, 1_000, 10_760_192, 5_300_000_000)]
    assert sizes == ["66 B", "999 B", "1.0 KB", "10.8 MB", "5.3 GB"]


def test_only_an_interactive_terminal_outside_ci_gets_a_bar():
    assert terminal_bar(StringIO(), quiet=False, ci=False) is None  # a pipe or a log file
    assert terminal_bar(FakeTerminal(), quiet=True, ci=False) is None  # --json or -v
    assert terminal_bar(FakeTerminal(), quiet=False, ci=True) is None
    assert isinstance(terminal_bar(FakeTerminal(), quiet=False, ci=False), ProgressBar)
    assert running_in_ci({"CI": "true"}) and running_in_ci({"CI": "1"})
    assert not running_in_ci({}) and not running_in_ci({"CI": "false"})


def test_the_flow_reports_only_while_a_bar_is_installed():
    out = FakeTerminal()
    progress.started(5, 10)  # no bar installed: nothing happens
    with progress.reporting(ProgressBar(out, columns=200)):
        progress.started(2, 2 * MB)
        progress.advanced(2, 2 * MB)
    progress.advanced(1, 1)
    assert "2/2 files" in out.getvalue() and out.getvalue().endswith("\n")
    assert out.getvalue().count("\r") == 2


# --- real `nutgraf run` processes ---------------------------------------------------------------


@pytest.mark.slow  # the first forked run pays the process server's preload (~12 s)
def test_a_run_into_a_log_file_prints_no_progress(tmp_path: Path, processes: NutgrafProcesses):
    shutil.copytree(SAMPLES, tmp_path / "landing")
    out = tmp_path / "out.txt"
    env = {"NUTGRAF_SETTLE_SECONDS": "0", "CI": ""}
    code = processes.run(["run", "--landing", "landing"], cwd=tmp_path, env=env, output=out)
    text = out.read_text()
    assert code == 4, text  # the samples hold an empty file on purpose
    assert "published" in text and "files       seen" in text
    assert "\r" not in text and "ETA" not in text and "files/s" not in text


@pytest.mark.slow
def test_a_run_in_a_terminal_shows_progress(tmp_path: Path, processes: NutgrafProcesses):
    shutil.copytree(SAMPLES, tmp_path / "landing")
    master, slave = os.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # a full terminal buffer would block the run
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the last writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        env = {"NUTGRAF_SETTLE_SECONDS": "0", "CI": ""}
        code = processes.run(
            ["run", "--landing", "landing"],
            cwd=tmp_path,
            env=env,
            output=Path(os.ttyname(slave)),
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert code == 4, text
    n_files = int(re.search(r"files +seen (\d+)", text).group(1))
    frames = [f for f in text.replace("\r\n", "\n").split("\r") if f.strip()]
    assert frames[0].startswith(f"[--------------------]   0%  0/{n_files} files")
    assert f"[####################] 100%  {n_files}/{n_files} files" in text and "done" in text
    # The line is ended before the summary starts.
    assert "done  elapsed" in text.split("run ")[0]
