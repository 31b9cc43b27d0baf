"""A progress line for `nutgraf run` in a terminal: files and MB done, rate and ETA.

Batches are the unit of work, so the line moves once per batch. It is drawn with a carriage
return on stderr, and only when stderr is an interactive terminal outside CI: a log file or a
pipe never receives it (what a run did per batch goes to the run's log lines instead).

The ingest flow reports through :func:`started`, :func:`advanced` and :func:`finished`; they
do nothing unless the caller installed a bar with :func:`reporting`, which holds it in a
context variable for the block (a flow called inside sees it; other threads and later calls
do not). That keeps the flow's parameters plain (Prefect records them) and the flow free of
terminal concerns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

MB = 1_000_000
KB = 1_000
_BAR_CELLS = 20
_FALSY = ("", "0", "false", "no")


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """Whether the environment says it is a CI job (CI=true, as GitHub, GitLab and most
    others set it): their consoles claim to be terminals but keep every carriage return."""
    return environ.get("CI", "").strip().lower() not in _FALSY


def format_duration(seconds: float) -> str:
    """M:SS, or H:MM:SS from an hour on."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_size(n: int) -> str:
    """Bytes in decimal units, as `ls -h --si` and file managers show them."""
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1000:
            return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


class ProgressBar:
    """One line on `stream`, redrawn in place: bar, share, files and MB done of the total,
    rate and ETA. The ETA follows bytes (reading, splitting and hashing cost per byte), or
    files when the files are empty."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        columns: int | None = None,
    ) -> None:
        self.stream = stream
        self.clock = clock
        self.columns = columns
        self.total_files = 0
        self.total_bytes = 0
        self.files = 0
        self.bytes = 0
        self._t0 = 0.0
        self._drawn = 0  # characters of the line on screen; 0 when none

    def start(self, total_files: int, total_bytes: int) -> None:
        """The work discovered: draw the empty bar and start the clock."""
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = self.bytes = 0
        self._t0 = self.clock()
        if total_files:
            self._draw(self.render())

    def advance(self, files: int, nbytes: int) -> None:
        """A batch of `files` files holding `nbytes` bytes is done."""
        self.files += files
        self.bytes += nbytes
        self._draw(self.render())

    def close(self) -> None:
        """End the line (once), so what is printed next starts on a line of its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = 0

    def render(self) -> str:
        """The line as it stands, without the carriage return."""
        elapsed = max(self.clock() - self._t0, 0.0)
        by_bytes = self.total_bytes > 0
        done, total = (self.bytes, self.total_bytes) if by_bytes else (self.files, self.total_files)
        share = min(done / total, 1.0) if total else 1.0
        filled = round(share * _BAR_CELLS)
        # KB for a run under one MB, which in MB would read 0.0/0.4.
        unit, name = (MB, "MB") if self.total_bytes >= MB else (KB, "KB")
        parts = [
            f"[{'#' * filled}{'-' * (_BAR_CELLS - filled)}] {share:4.0%}",
            f"{self.files:,}/{self.total_files:,} files",
            f"{self.bytes / unit:,.1f}/{self.total_bytes / unit:,.1f} {name}",
        ]
        if done and elapsed > 0:
            rate = self.bytes / unit / elapsed
            parts.append(f"{rate:,.{2 if rate < 1 else 1}f} {name}/s")
            per_second = self.files / elapsed
            parts.append(f"{per_second:,.{1 if per_second < 10 else 0}f} files/s")
            remaining = (total - done) * elapsed / done
            parts.append(f"ETA {format_duration(remaining)}" if done < total else "done")
        else:
            parts.append("ETA --:--")
        parts.append(f"elapsed {format_duration(elapsed)}")
        return "  ".join(parts)

    def _width(self) -> int:
        """Columns of the terminal the line is drawn on (stdout may be redirected)."""
        if self.columns:
            return self.columns
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            columns = 0
        return columns or 100  # a terminal whose size was never set reports 0 columns

    def _draw(self, line: str) -> None:
        line = line[: max(self._width() - 1, 10)]  # a wrapped line could not be redrawn in place
        self.stream.write("\r" + line.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(line)


def terminal_bar(stream: TextIO, *, quiet: bool, ci: bool) -> ProgressBar | None:
    """A bar on `stream` if it is an interactive terminal and nothing asks for silence
    (--json, -v whose log lines would tear the line, CI); else None."""
    if quiet or ci or not stream.isatty():
        return None
    return ProgressBar(stream)


_BAR: ContextVar[ProgressBar | None] = ContextVar("nutgraf_progress_bar", default=None)


@contextmanager
def reporting(bar: ProgressBar | None) -> Iterator[None]:
    """Send the flow's progress to `bar` (None: nowhere) for the duration of the block; the
    line is ended however the block ends, so an error message starts on its own line."""
    token = _BAR.set(bar)
    try:
        yield
    finally:
        if bar is not None:
            bar.close()
        _BAR.reset(token)


def started(total_files: int, total_bytes: int) -> None:
    """The flow found this much to read (no-op without a bar)."""
    if (bar := _BAR.get()) is not None:
        bar.start(total_files, total_bytes)


def advanced(files: int, nbytes: int) -> None:
    """The flow finished a batch (no-op without a bar)."""
    if (bar := _BAR.get()) is not None:
        bar.advance(files, nbytes)


def finished() -> None:
    """The flow is done reading (or stops early): end the line before anything is logged."""
    if (bar := _BAR.get()) is not None:
        bar.close()
