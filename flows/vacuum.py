"""`nutgraf vacuum`: checkpoint the warehouse and, when asked, prune old run reports.

Both happen under the writer lock: a run writes its report (and rewrites the index) while it
holds that lock, so pruning never races a run rewriting the index, and the checkpoint never
runs beside a publish.
"""

from __future__ import annotations

from pathlib import Path

from expectations.retention import KEEP_RECENT_RUNS, Pruned, prune_reports
from flows.progress import format_size
from flows.settings import Settings
from warehouse.maintenance import Checkpoint, checkpoint, exclusive
from warehouse.status import recent_run_ids


def vacuum(settings: Settings, *, prune: bool, now: float) -> tuple[Checkpoint, Pruned | None]:
    """Checkpoint the warehouse; with `prune`, delete run reports older than
    `report_retention_days` (never the index nor the reports of the latest runs) and rewrite
    the index. Raises WarehouseMissing, or WarehouseBusy after `lock_timeout_seconds`."""
    with exclusive(settings.warehouse, lock_timeout=settings.lock_timeout_seconds):
        done = checkpoint(settings.warehouse)
        if not prune:
            return done, None
        latest = recent_run_ids(settings.warehouse, n=KEEP_RECENT_RUNS)
        pruned = prune_reports(
            settings.reports,
            retention_days=settings.report_retention_days,
            now=now,
            keep_runs=latest,
        )
    return done, pruned


def format_vacuum(settings: Settings, done: Checkpoint, pruned: Pruned | None) -> str:
    """What `nutgraf vacuum` prints: sizes around the checkpoint and what pruning did."""
    lines = [
        f"vacuum {settings.warehouse}",
        f"  checkpoint  {format_size(done.file_before)} -> {format_size(done.file_after)} "
        f"(write-ahead log {format_size(done.wal_before)} -> {format_size(done.wal_after)})",
    ]
    days = settings.report_retention_days
    reports = settings.reports
    if pruned is None:
        lines.append(
            f"  reports     left alone (--prune-reports deletes those older than "
            f"report_retention_days = {days} days)"
        )
    elif not Path(reports).is_dir():
        lines.append(f"  reports     no report folder at {reports}; nothing to prune")
    elif days == 0:
        lines.append(
            f"  reports     all kept (report_retention_days = 0); {reports}/index.html lists "
            f"{pruned.index_runs} run{'s' if pruned.index_runs != 1 else ''}"
        )
    else:
        runs = "run" if pruned.index_runs == 1 else "runs"
        if pruned.runs_deleted:
            what = (
                f"deleted {pruned.runs_deleted} run report"
                f"{'s' if pruned.runs_deleted != 1 else ''} older than {days} days "
                f"({len(pruned.deleted)} files, {format_size(pruned.bytes_freed)})"
            )
        else:
            what = f"none older than {days} days"
        lines.append(
            f"  reports     {what} in {reports}; kept {pruned.runs_kept} (the latest "
            f"{KEEP_RECENT_RUNS} runs' always); index.html lists {pruned.index_runs} {runs}"
        )
    return "\n".join(lines)
