"""A run's bookkeeping, apart from Prefect so a run with nothing to do needs none of it:
status, counts summed over batches, seconds per stage, the `runs` row and the summary."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl

from expectations.gate import DQ_RESULTS, GateResult
from transforms import schema as S
from transforms.neardup import SHINGLING
from transforms.normalise import HASH_ALGORITHM, NORMAL_FORM, sha256_hex
from transforms.pipeline import add_seconds
from transforms.staged import (
    N_DUPLICATE_GROUPS,
    Staged,
    file_counts,
    largest_duplicate_groups,
    quarantined_rows,
)
from transforms.tagging import tagger_versions
from warehouse.publish import IndexTime, RunRecord

STATUS_PUBLISHED = "published"
STATUS_NOTHING_NEW = "nothing_new"
STATUS_GATE_FAILED = "gate_failed"
WORKER_PREFIX = "worker_"
"""Stages timed on Dask workers: `worker_<stage>`, apart from this process's own seconds."""


class Mark(NamedTuple):
    """A moment, on the wall clock and on the process's CPU clock."""

    wall: float
    cpu: float


def mark() -> Mark:
    """Now, on both clocks."""
    return Mark(time.perf_counter(), time.process_time())


@dataclass
class RunTimings:
    """Seconds per stage, summed over a run's batches: wall time (`wall`, the summary's
    "timings") and the CPU time of the whole process meanwhile (`cpu`, "cpu_seconds": every
    thread's, Prefect's background threads included); more CPU than wall seconds means more
    than one core was busy."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, since: Mark) -> None:
        """The time from `since` to now, to stage `name`."""
        now = mark()
        self.merge({name: now.wall - since.wall}, {name: now.cpu - since.cpu})

    def merge(self, wall: dict[str, float], cpu: dict[str, float]) -> None:
        """Seconds per stage measured elsewhere (a batch's own stopwatch)."""
        add_seconds(self.wall, wall)
        add_seconds(self.cpu, cpu)

    def move(self, spent: IndexTime, source: str, target: str) -> None:
        """Book `spent`, measured inside stage `source`, to stage `target` instead."""
        self.merge(
            {source: -spent.wall, target: spent.wall}, {source: -spent.cpu, target: spent.cpu}
        )


@dataclass
class Totals:
    """Counts of a run, summed over its batches."""

    files_seen: int = 0
    files_settling: int = 0
    files_new: int = 0
    files_duplicate: int = 0
    files_quarantined: int = 0
    files_touched: int = 0
    records_unchanged: int = 0
    near_dup_compared: int = 0
    near_dup_candidates: int = 0
    near_dup_verified: int = 0
    near_dup_linked: int = 0
    near_dup_repointed: int = 0
    articles: int = 0
    paragraphs_new: int = 0
    occurrences: int = 0
    tags: int = 0
    occurrences_by_kind: dict[str, int] = field(default_factory=dict)
    tags_by_type: dict[str, int] = field(default_factory=dict)
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def add(self, staged: Staged) -> None:
        """Add one batch's counts."""
        for name, value in file_counts(staged).items():
            setattr(self, name, getattr(self, name) + value)
        if staged.near is not None:
            for name, value in staged.near.counts.items():
                setattr(self, name, getattr(self, name) + value)
        batch = staged.batch
        self.articles += batch.articles.height
        self.paragraphs_new += batch.paragraphs.height
        self.occurrences += batch.occurrences.height
        self.tags += batch.tags.height
        for key, n in batch.occurrences.group_by(S.KIND).len().iter_rows():
            self.occurrences_by_kind[key] = self.occurrences_by_kind.get(key, 0) + n
        for key, n in batch.tags.group_by(S.TAG_TYPE).len().iter_rows():
            self.tags_by_type[key] = self.tags_by_type.get(key, 0) + n
        self.occurrences_by_kind = dict(sorted(self.occurrences_by_kind.items()))
        self.tags_by_type = dict(sorted(self.tags_by_type.items()))
        rows = quarantined_rows(staged).select(S.PATH, S.RECORD, S.REASON, S.DETAIL, S.RULE)
        self.quarantined += [
            {"path": p, "record": n, "reason": r, "detail": d, "rule": u}
            for p, n, r, d, u in rows.iter_rows()
        ]


@dataclass
class RunState:
    """Everything the run row and the summary say, kept up to date batch by batch."""

    run_id: str
    started_at: datetime
    landing: Path
    totals: Totals = field(default_factory=Totals)
    batches: int = 0
    status: str = STATUS_NOTHING_NEW
    results: list[pl.DataFrame] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    report_path: Path | None = None
    batch_shape: dict[str, float | None] | None = None
    duplicate_groups: pl.DataFrame | None = None
    finished_at: datetime | None = None  # the flow's end, once it is there
    flow_run_id: str | None = None  # Prefect's id of the flow run; None without Prefect

    def add_duplicate_groups(self, staged: Staged) -> None:
        """Merge the batch's groups of identical paragraphs into the run's largest ones."""
        if staged.inputs is None or staged.inputs.normalised.is_empty():
            return
        groups = largest_duplicate_groups(staged.inputs.normalised)
        if self.duplicate_groups is not None:
            groups = (
                pl.concat([self.duplicate_groups, groups])
                .group_by(S.PARAGRAPH_HASH)
                .agg(pl.col(S.TEXT).first(), pl.col("occurrences").sum(), pl.col("articles").sum())
                .sort("occurrences", S.PARAGRAPH_HASH, descending=[True, False])
                .head(N_DUPLICATE_GROUPS)
            )
        self.duplicate_groups = groups

    def record(self) -> RunRecord:
        """The `runs` row as of now."""
        t = self.totals
        return RunRecord(
            run_id=self.run_id,
            flow_run_id=self.flow_run_id,
            started_at=self.started_at,
            status=self.status,
            batches=self.batches,
            landing=str(self.landing),
            files_seen=t.files_seen,
            files_new=t.files_new,
            files_duplicate=t.files_duplicate,
            files_quarantined=t.files_quarantined,
            articles=t.articles,
            paragraphs_new=t.paragraphs_new,
            occurrences=t.occurrences,
            tags=t.tags,
            counts=json.dumps(
                {"occurrences_by_kind": t.occurrences_by_kind, "tags_by_type": t.tags_by_type}
            ),
            gate_success=None if not self.results else not self.failed,
            failed_checks=list(self.failed),
            report_path=None if self.report_path is None else str(self.report_path),
            normal_form=NORMAL_FORM,
            hash_algorithm=HASH_ALGORITHM,
            shingling=SHINGLING,
            tagger_versions=json.dumps(tagger_versions(), separators=(",", ":")),
        )

    def gate_result(self) -> GateResult:
        """The checks of every gated batch so far, as one result for the report."""
        return GateResult(
            success=not self.failed,
            results=pl.concat(self.results) if self.results else pl.DataFrame(schema=DQ_RESULTS),
            failed=list(self.failed),
            quarantine_article_ids=[],
        )

    def summary(self, timings: RunTimings) -> RunSummary:
        """What `nutgraf run` prints and returns."""
        gate = "skipped" if not self.results else ("failed" if self.failed else "passed")
        return RunSummary(
            run_id=self.run_id,
            status=self.status,
            batches=self.batches,
            totals=replace(self.totals),
            gate=gate,
            failed_checks=list(self.failed),
            report_path=None if self.report_path is None else str(self.report_path),
            started_at=self.started_at.isoformat(),
            finished_at=None if self.finished_at is None else self.finished_at.isoformat(),
            seconds=(
                None
                if self.finished_at is None
                else round((self.finished_at - self.started_at).total_seconds(), 3)
            ),
            batch_shape=self.batch_shape,
            duplicate_groups=(
                [] if self.duplicate_groups is None else self.duplicate_groups.to_dicts()
            ),
            timings=dict(timings.wall),
            cpu_seconds=dict(timings.cpu),
        )


@dataclass
class RunSummary:
    """A run as `nutgraf run` prints it (`--json`: as_dict), the report and Prefect's artifacts
    show it and `runs` records it."""

    run_id: str
    status: str
    batches: int
    totals: Totals
    gate: str  # passed, failed or skipped (nothing was gated)
    failed_checks: list[str]
    report_path: str | None
    started_at: str  # ISO 8601, UTC
    finished_at: str | None
    seconds: float | None  # wall time from the flow's start to its end
    batch_shape: dict[str, float | None] | None
    duplicate_groups: list[dict[str, object]]
    timings: dict[str, float]  # wall seconds per stage, summed over batches
    cpu_seconds: dict[str, float]  # the process's CPU seconds per stage
    search_index: dict[str, object] = field(default_factory=dict)
    # What Prefect spent before the flow's first line (its server's start-up), set by the CLI.
    prefect_start_seconds: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The summary as JSON-ready values, the counts of `totals` at the top level."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "totals":
                out.update(asdict(value))
            else:
                out[f.name] = value
        if self.prefect_start_seconds is None:
            del out["prefect_start_seconds"]
        return out


def new_run_id(started_at: datetime, flow_run_id: str | None) -> str:
    """Sortable and unique: UTC time of the start plus the flow run's short id (without a flow
    run, a hash of the start)."""
    if flow_run_id:
        suffix = flow_run_id[:8]
    else:
        suffix = sha256_hex(pl.Series([started_at.isoformat()]))[0][:8]
    return f"{started_at:%Y%m%dT%H%M%S}-{suffix}"
