"""Pruning old run reports (`nutgraf vacuum --prune-reports`).

A scheduled pipeline writes two files per run (``<run_id>.html`` and ``<run_id>.json``); every
few minutes for months, that is a folder of tens of thousands of files and an index too long to
read. Reports older than the retention are deleted, except the index page and the reports of
the latest runs (the ones someone on call opens), then the index is rewritten from what is left
so it links no deleted page. Only files named like a run report are ever touched.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from expectations.report import load_runs, rebuild_index

KEEP_RECENT_RUNS = 5
"""The reports of this many latest runs are kept whatever their age."""
REPORT_SUFFIXES = (".html", ".json")
_RUN_REPORT_STEM = re.compile(r"\d{8}T\d{6}-[A-Za-z0-9_.:-]+")
"""How a run report's file is named: the run id (`flows.ingest.new_run_id`), made file-safe."""
_DAY = 86_400


@dataclass(frozen=True)
class Pruned:
    """What pruning the report folder did."""

    deleted: list[Path] = field(default_factory=list)  # files removed
    runs_deleted: int = 0  # run reports (a page and its JSON) removed
    runs_kept: int = 0  # run reports left in the folder
    bytes_freed: int = 0
    index_runs: int = 0  # runs the rewritten index lists


def _run_reports(report_dir: Path) -> dict[str, list[Path]]:
    """Files of each run report in the folder, by file stem."""
    found: dict[str, list[Path]] = {}
    for path in report_dir.iterdir():
        if (
            path.suffix in REPORT_SUFFIXES
            and _RUN_REPORT_STEM.fullmatch(path.stem)
            and path.is_file()
            and not path.is_symlink()
        ):
            found.setdefault(path.stem, []).append(path)
    return found


def prune_reports(
    report_dir: Path,
    *,
    retention_days: float,
    now: float,
    keep_runs: Collection[str] = (),
    keep_recent: int = KEEP_RECENT_RUNS,
) -> Pruned:
    """Delete run reports last written more than `retention_days` before `now` (epoch
    seconds), never those of the `keep_recent` latest runs in the folder nor of the run ids in
    `keep_runs`; `retention_days` 0 keeps all. Then rewrite the index. A run's page and JSON go
    together, judged by the newer of the two (a run rewrites both after every batch)."""
    report_dir = Path(report_dir)
    if not report_dir.is_dir():
        return Pruned()
    reports = _run_reports(report_dir)
    runs = load_runs(report_dir)  # newest first
    protected = {r["stem"] for r in runs[:keep_recent]} | set(keep_runs)
    protected |= {r["stem"] for r in runs if r["run_id"] in keep_runs}
    cutoff = now - retention_days * _DAY
    deleted: list[Path] = []
    freed = 0
    runs_deleted = 0
    for stem, files in sorted(reports.items()):
        if retention_days <= 0 or stem in protected:
            continue
        stats = [f.stat() for f in files]
        if max(s.st_mtime for s in stats) >= cutoff:
            continue
        for file, st in zip(files, stats, strict=True):
            file.unlink(missing_ok=True)
            deleted.append(file)
            freed += st.st_size
        runs_deleted += 1
    index_runs = rebuild_index(report_dir)
    return Pruned(deleted, runs_deleted, len(reports) - runs_deleted, freed, index_runs)
