"""The ingest flow: landing folder -> gated batches published to the warehouse. Orchestration only.

One task per stage per batch; the logic lives in `transforms`, `expectations` and `warehouse`.
The whole run holds the writer lock, so two runs never load the same file; each batch
publishes in its own transaction, so a failure in batch 7 keeps batches 1-6.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Failed, State

from expectations import suites as Q
from expectations.gate import (
    DQ_RESULTS,
    GateBatch,
    GateResult,
    Thresholds,
    language_shares,
    run_gate,
)
from expectations.report import write_report
from flows import progress
from flows.batch import (
    NearDuplicates,
    Staged,
    finish_batch,
    prepare,
    prepare_options,
    set_aside_articles,
    settled,
)
from flows.faults import Faults
from flows.logs import run_logging
from flows.publish_slot import publish_slot
from flows.retries import RETRIES
from flows.search import refresh_search_index, skipped_search_index
from flows.settings import Settings, open_warehouse
from transforms import schema as S
from transforms.discover import (
    DUPLICATE_OF,
    FILE_TOUCHED,
    Discovery,
    find_unsettled,
    list_files,
    plan_batches,
    select_unseen,
)
from transforms.errors import NutgrafError
from transforms.gazetteer import load_gazetteer, vocabulary
from transforms.neardup import (
    NEAR_DUP_OF,
    PAIR_A,
    PAIR_B,
    SEEN_AT,
    SHINGLING,
    SIGNATURE,
    SIMILARITY,
    assign_canonicals,
    band_signatures,
    candidate_pairs,
    prefilter,
    verify,
)
from transforms.normalise import HASH_ALGORITHM, NORMAL_FORM, sha256_hex
from transforms.pipeline import (
    add_seconds,
)
from transforms.prepare import PreparedBatch
from transforms.tagging import tagger_versions
from warehouse.ledger import (
    read_batch_history,
    read_ledger,
)
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.publish import IndexTime, PublishBatch, RunRecord, publish_batch, record_run
from warehouse.sql import execute, fetch
from warehouse.sql import staged as staged_frames

STATUS_PUBLISHED = "published"
STATUS_NOTHING_NEW = "nothing_new"
STATUS_GATE_FAILED = "gate_failed"

MAX_SET_ASIDE_ROUNDS = 5
"""Gate -> set aside quarantined articles -> gate again, at most this often per batch."""
N_DUPLICATE_GROUPS = 10
"""The largest groups of identical paragraphs the summary and report show."""
_MOJIBAKE_REASONS = ("mojibake", "undecodable")


class Mark(NamedTuple):
    """A moment, on the wall clock and on the process's CPU clock."""

    wall: float
    cpu: float


def _mark() -> Mark:
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
        now = _mark()
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


@task(name="discover-files", cache_policy=NO_CACHE, **RETRIES)
def discover_files(settings: Settings, faults: Faults) -> Discovery:
    """Migrate the warehouse, list the landing folder, keep settled files the ledger lacks."""
    with open_warehouse(settings) as con:
        apply_migrations(con)
        ledger = read_ledger(con)
    faults.reach("discover:migrated")
    listed = list_files(
        settings.landing,
        patterns=tuple(settings.patterns),
        follow_symlinks=settings.follow_symlinks,
    )
    unseen = select_unseen(listed, ledger)
    young = find_unsettled(unseen, now=time.time(), settle_seconds=settings.settle_seconds)
    if not young.is_empty():
        # Files written moments ago may still be growing: look again after the settle time
        # and take only those whose size and mtime did not move.
        time.sleep(settings.settle_seconds)
        again = list_files(
            settings.landing,
            patterns=tuple(settings.patterns),
            follow_symlinks=settings.follow_symlinks,
        )
        moved = young.join(again, on=[S.PATH, S.SIZE, S.MTIME], how="anti")
        unseen = unseen.join(moved.select(S.PATH), on=S.PATH, how="anti")
    else:
        moved = young
    faults.reach("discover:listed")
    batches = plan_batches(unseen, max_files=settings.batch_files, max_bytes=settings.batch_bytes)
    return Discovery(listed.height, moved.height, batches, ledger)


_LINKS = pl.Schema({S.PARAGRAPH_HASH: pl.String, NEAR_DUP_OF: pl.String, SIMILARITY: pl.Float64})


@task(name="link-near-duplicates", cache_policy=NO_CACHE, **RETRIES)
def link_near_duplicates(settings: Settings, staged: Staged) -> NearDuplicates:
    """Band the batch's new paragraphs, find candidates among the stored bands and inside the
    batch, verify them on exact shingle sets and link each to its group's canonical paragraph.

    Only the new paragraphs are banded and looked up: the cost follows the batch, not the
    warehouse."""
    paragraphs = staged.batch.paragraphs.select(S.PARAGRAPH_HASH, S.TEXT, S.ARTICLE_ID)
    bands = band_signatures(paragraphs, min_words=settings.near_dup_min_words)
    with open_warehouse(settings) as con:
        with staged_frames(con, bands=bands.drop(SIGNATURE).with_row_index("i")):
            outside = fetch(con, "near_dup_candidates")
    signatures = pl.concat(
        [
            bands.select(S.PARAGRAPH_HASH, SIGNATURE),
            outside.select(pl.col(PAIR_B).alias(S.PARAGRAPH_HASH), SIGNATURE).unique(
                S.PARAGRAPH_HASH
            ),
        ]
    )
    inside = candidate_pairs(bands, bands.clear())
    found = pl.concat([outside.select(PAIR_A, PAIR_B), inside]).unique()
    candidates = prefilter(found, signatures, threshold=settings.near_dup_threshold)
    with open_warehouse(settings) as con:
        wanted = candidates.select(pl.col(PAIR_B).alias(S.PARAGRAPH_HASH)).unique()
        with staged_frames(con, wanted=wanted):
            stored = fetch(con, "near_dup_paragraphs").with_columns(
                pl.col(SEEN_AT).dt.convert_time_zone("UTC")
            )
    texts = pl.concat(
        [paragraphs.select(S.PARAGRAPH_HASH, S.TEXT), stored.select(S.PARAGRAPH_HASH, S.TEXT)]
    )
    verified = verify(candidates, texts, threshold=settings.near_dup_threshold)
    seen = paragraphs.join(
        staged.batch.articles.select(S.ARTICLE_ID, pl.col(S.PUBLISHED_AT).alias(SEEN_AT)),
        on=S.ARTICLE_ID,
        how="left",
    ).select(S.PARAGRAPH_HASH, SEEN_AT)
    members, replaced = assign_canonicals(
        seen, verified, stored.select(S.PARAGRAPH_HASH, SEEN_AT, NEAR_DUP_OF)
    )
    linked = members.filter(pl.col("canonical") != pl.col(S.PARAGRAPH_HASH)).select(
        pl.col(S.PARAGRAPH_HASH).alias(PAIR_A), pl.col("canonical").alias(PAIR_B)
    )
    links = _similarities(linked, texts)
    repointed = S.empty(_LINKS)
    if not replaced.is_empty():
        with open_warehouse(settings) as con:
            with staged_frames(con, replaced=replaced.select(S.PARAGRAPH_HASH)):
                group = fetch(con, "near_dup_members")
        moved = group.join(
            replaced.rename({S.PARAGRAPH_HASH: "_old"}),
            left_on=pl.coalesce(NEAR_DUP_OF, S.PARAGRAPH_HASH),
            right_on="_old",
        ).select(pl.col(S.PARAGRAPH_HASH).alias(PAIR_A), pl.col("canonical").alias(PAIR_B))
        repointed = _similarities(moved, pl.concat([texts, group.select(S.PARAGRAPH_HASH, S.TEXT)]))
    counts = {
        "near_dup_compared": bands.height,
        "near_dup_candidates": found.height,
        "near_dup_verified": candidates.height,
        "near_dup_linked": links.height,
        "near_dup_repointed": repointed.height,
    }
    return NearDuplicates(bands, links, repointed, counts)


def _similarities(pairs: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """PAIR_A (member), PAIR_B (its canonical) -> PARAGRAPH_HASH, NEAR_DUP_OF, SIMILARITY."""
    scored = verify(pairs, texts, threshold=0.0)
    return (
        pairs.join(scored, on=[PAIR_A, PAIR_B], how="left")
        .select(
            pl.col(PAIR_A).alias(S.PARAGRAPH_HASH),
            pl.col(PAIR_B).alias(NEAR_DUP_OF),
            pl.col(SIMILARITY).fill_null(0.0),
        )
        .pipe(S.conform, _LINKS)
        .sort(S.PARAGRAPH_HASH)
    )


@task(name="gate-batch", cache_policy=NO_CACHE)
def gate_batch(settings: Settings, staged: Staged, run_id: str, faults: Faults) -> GateResult:
    """Run the expectation suites on the batch before anything is written."""
    faults.reach("gate:start")
    counts = _file_counts(staged)
    with open_warehouse(settings) as con:
        history = read_batch_history(con, settings.history_batches)
        with staged_frames(con, hashes=staged.batch.occurrences.select(S.PARAGRAPH_HASH).unique()):
            boilerplate = fetch(con, "boilerplate_hashes")[S.PARAGRAPH_HASH]
    quarantined = _quarantined(staged)
    new_files = int((staged.files[S.STATUS] == S.FILE_NEW).sum())
    batch = GateBatch(
        run_id=run_id,
        articles=staged.batch.articles,
        occurrences=staged.batch.occurrences,
        paragraphs=staged.batch.paragraphs,
        tags=staged.batch.tags,
        n_files=counts["files_new"] + counts["files_duplicate"] + counts["files_quarantined"],
        n_quarantined=counts["files_quarantined"],
        n_duplicate_files=counts["files_duplicate"],
        n_new_files=new_files,
        n_empty=int((staged.set_aside[S.REASON] == "empty").sum()),
        n_mojibake=int(quarantined[S.REASON].is_in(_MOJIBAKE_REASONS).sum()),
        history=history,
        boilerplate=boilerplate,
    )
    # Every threshold is a setting of the same name.
    thresholds = Thresholds(**{f.name: getattr(settings, f.name) for f in fields(Thresholds)})
    gazetteer = load_gazetteer(settings.tags_file)
    vocab = vocabulary(gazetteer, cache_dir=settings.cache_dir.resolve())
    result = run_gate(batch, vocabulary=vocab, thresholds=thresholds)
    faults.reach("gate:done")
    return result


@task(name="publish-batch", cache_policy=NO_CACHE, **RETRIES)
def publish(
    settings: Settings,
    staged: Staged,
    run: RunRecord,
    results: pl.DataFrame,
    faults: Faults,
    batch_no: int,
    shape: dict[str, float | None] | None = None,
) -> IndexTime:
    """One transaction: data, ledger rows, quarantine rows, the batch's shape, the run row and
    its dq rows, and the search index kept in step; returns the time the index took."""
    rule = (settings.boilerplate_min_articles, settings.boilerplate_edge_share)
    frames = _publish_frames(staged, run.run_id, shape, rule)
    # Besides the OS lock the run holds: with a Prefect server, workers take turns here.
    with (
        publish_slot(settings),
        open_warehouse(settings) as con,
    ):
        index_time = publish_batch(
            con,
            frames,
            run,
            results,
            batch_no=batch_no,
            step=faults.reach,
            search_index=settings.search_index,
            fts_extension=settings.fts_extension,
        )
    faults.reach("publish:committed")
    return index_time


@task(name="finish-run", cache_policy=NO_CACHE, **RETRIES)
def finish_run(settings: Settings, run_id: str, finished_at: datetime) -> None:
    """Stamp the run row's `finished_at` with the flow's end (each batch wrote its own)."""
    with open_warehouse(settings) as con:
        execute(con, "finish_run", {"run_id": run_id, "finished_at": finished_at})


@task(name="record-run", cache_policy=NO_CACHE, **RETRIES)
def record(settings: Settings, run: RunRecord, results: pl.DataFrame, batch_no: int) -> None:
    """Record a batch that publishes no data: the run row and the checks that stopped it."""
    with (
        publish_slot(settings),
        open_warehouse(settings) as con,
    ):
        record_run(con, run, results, batch_no=batch_no)


def _quarantined(staged: Staged) -> pl.DataFrame:
    """PATH, RECORD, SHA256, REASON, DETAIL, RULE of every file, or record of a file, set aside
    in this batch."""
    files = staged.files
    whole = files.filter(pl.col(S.REASON).is_not_null()).select(
        S.PATH,
        pl.lit(None, pl.Int32).alias(S.RECORD),
        S.SHA256,
        S.REASON,
        S.DETAIL,
        pl.concat_str(pl.lit("read:"), S.REASON).alias(S.RULE),
    )
    records = staged.set_aside.join(files.select(S.PATH, S.SHA256), on=S.PATH, how="left").select(
        whole.columns
    )
    return pl.concat([whole, records]).sort(S.PATH, S.RECORD, nulls_last=False)


def _source_records(staged: Staged) -> pl.DataFrame:
    """What became of every record of the batch's new files: loaded, unchanged, quarantined."""
    sha = staged.files.select(S.PATH, S.SHA256)
    loaded = staged.batch.articles.select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit(S.FILE_LOADED).alias(S.STATUS),
        S.ARTICLE_ID,
        S.ARTICLE_KEY,
        pl.lit(None, pl.String).alias(S.REASON),
    )
    unchanged = staged.unchanged.join(sha, on=S.PATH, how="left").select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit("unchanged").alias(S.STATUS),
        pl.lit(None, pl.String).alias(S.ARTICLE_ID),
        S.ARTICLE_KEY,
        pl.lit(None, pl.String).alias(S.REASON),
    )
    aside = staged.set_aside.join(sha, on=S.PATH, how="left").select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit(S.FILE_QUARANTINED).alias(S.STATUS),
        S.ARTICLE_ID,
        pl.lit(None, pl.String).alias(S.ARTICLE_KEY),
        S.REASON,
    )
    return pl.concat([loaded, unchanged, aside]).sort(S.PATH, S.RECORD, nulls_last=False)


def _set_aside_files(staged: Staged) -> pl.DataFrame:
    """PATH, REASON of every new file that loads nothing because what it held was set aside
    (a file of one article, or a .jsonl file all of whose lines were)."""
    kept = pl.concat(
        [staged.batch.articles.select(S.PATH), staged.unchanged.select(S.PATH)]
    ).unique()
    return (
        staged.set_aside.join(kept, on=S.PATH, how="anti")
        .sort(S.PATH, S.RECORD, nulls_last=False)
        .unique(S.PATH, keep="first")
        .select(S.PATH, S.REASON)
    )


def _file_counts(staged: Staged) -> dict[str, int]:
    status = staged.files[S.STATUS]
    return {
        "files_new": int((status == S.FILE_NEW).sum()) - _set_aside_files(staged).height,
        "files_duplicate": int((status == S.FILE_DUPLICATE).sum()),
        "files_quarantined": _quarantined(staged).height,
        "files_touched": int((status == FILE_TOUCHED).sum()),
        "records_unchanged": staged.unchanged.height,
    }


def _batch_metrics(staged: Staged, shape: dict[str, float | None] | None) -> pl.DataFrame:
    """metric, value rows of a published batch: its shape and its articles' language shares."""
    rows = [(k, shape.get(k)) for k in Q.HISTORY_METRICS if shape and shape.get(k) is not None]
    if shape is not None:
        shares = language_shares(staged.batch.articles)
        rows += [(Q.LANGUAGE_SHARE_PREFIX + k, v) for k, v in shares.items()]
    return pl.DataFrame(rows, schema={"metric": pl.String, "value": pl.Float64}, orient="row")


def _publish_frames(
    staged: Staged,
    run_id: str,
    shape: dict[str, float | None] | None = None,
    boilerplate_rule: tuple[int, float] = (5, 0.8),
) -> PublishBatch:
    files = staged.files
    quarantined = _quarantined(staged)
    aside_files = _set_aside_files(staged).select(S.PATH, pl.col(S.REASON).alias("_aside"))
    ledger_rows = (
        files.filter(pl.col(S.STATUS) != FILE_TOUCHED)
        .join(aside_files, on=S.PATH, how="left")
        .with_columns(pl.coalesce(S.REASON, "_aside").alias("_q"))
        .with_columns(
            pl.when(pl.col("_q").is_not_null())
            .then(pl.lit(S.FILE_QUARANTINED))
            .when(pl.col(S.STATUS) == S.FILE_NEW)
            .then(pl.lit(S.FILE_LOADED))
            .otherwise(pl.col(S.STATUS))
            .alias(S.STATUS),
            pl.col("_q").alias(S.REASON),
        )
        .select(S.PATH, S.SHA256, S.SIZE, S.MTIME, S.STATUS, S.REASON, DUPLICATE_OF, S.ENCODING)
    )
    touched = files.filter(pl.col(S.STATUS) == FILE_TOUCHED).select(
        S.PATH, S.SHA256, S.SIZE, S.MTIME
    )
    quarantine = quarantined.with_columns(
        pl.concat_str(
            pl.lit(run_id),
            S.PATH,
            pl.col(S.RECORD).cast(pl.String),
            separator="\x00",
            ignore_nulls=True,
        )
        .map_batches(sha256_hex, return_dtype=pl.String)
        .str.slice(0, 16)
        .alias("quarantine_id")
    )
    batch = staged.batch
    near = staged.near
    paragraphs = batch.paragraphs
    if near is not None:
        paragraphs = paragraphs.join(near.links, on=S.PARAGRAPH_HASH, how="left")
    return PublishBatch(
        source_files=ledger_rows,
        touched=touched,
        articles=batch.articles,
        paragraphs=paragraphs,
        occurrences=batch.occurrences,
        tags=batch.tags,
        title_tags=batch.title_tags,
        quarantine=quarantine,
        batch_metrics=_batch_metrics(staged, shape),
        reordered=(None if staged.inputs is None else staged.inputs.known.select(S.PARAGRAPH_HASH)),
        bands=None if near is None else near.bands,
        source_records=_source_records(staged),
        boilerplate_rule=boilerplate_rule,
        repointed=None if near is None else near.repointed,
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
        for name, value in _file_counts(staged).items():
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
        rows = _quarantined(staged).select(S.PATH, S.RECORD, S.REASON, S.DETAIL, S.RULE)
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
            flow_run_id=str(flow_run.id) if flow_run.id else None,
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

    def summary(self, timings: RunTimings) -> dict[str, object]:
        """What `nutgraf run` prints and returns."""
        gate = "skipped" if not self.results else ("failed" if self.failed else "passed")
        return {
            "run_id": self.run_id,
            "status": self.status,
            "batches": self.batches,
            **self.totals.__dict__,
            "gate": gate,
            "failed_checks": list(self.failed),
            "report_path": None if self.report_path is None else str(self.report_path),
            "started_at": self.started_at.isoformat(),
            # Wall time from the flow's start to its end; what Prefect spent before the flow
            # started (server start-up) is the CLI's `prefect_start_seconds`.
            "finished_at": None if self.finished_at is None else self.finished_at.isoformat(),
            "seconds": (
                None
                if self.finished_at is None
                else round((self.finished_at - self.started_at).total_seconds(), 3)
            ),
            "batch_shape": self.batch_shape,
            "duplicate_groups": (
                [] if self.duplicate_groups is None else self.duplicate_groups.to_dicts()
            ),
            "timings": timings.wall,
            "cpu_seconds": timings.cpu,
        }


def largest_duplicate_groups(normalised: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT (cut to 300 characters), occurrences, articles of the paragraphs
    that appear more than once in the batch, the N_DUPLICATE_GROUPS largest."""
    return (
        normalised.group_by(S.PARAGRAPH_HASH)
        .agg(
            pl.col(S.TEXT).first().str.head(300),
            pl.len().cast(pl.Int64).alias("occurrences"),
            pl.col(S.ARTICLE_ID).n_unique().cast(pl.Int64).alias("articles"),
        )
        .filter(pl.col("occurrences") > 1)
        .sort("occurrences", S.PARAGRAPH_HASH, descending=[True, False])
        .head(N_DUPLICATE_GROUPS)
    )


def new_run_id(started_at: datetime) -> str:
    """Sortable and unique: UTC time of the start plus the flow run's short id."""
    if flow_run.id:
        suffix = str(flow_run.id)[:8]
    else:
        suffix = sha256_hex(pl.Series([started_at.isoformat()]))[0][:8]
    return f"{started_at:%Y%m%dT%H%M%S}-{suffix}"


def _write_report(settings: Settings, state: RunState, timings: RunTimings) -> Path:
    return write_report(
        state.gate_result(),
        run_id=state.run_id,
        report_dir=settings.reports,
        summary=state.summary(timings),
    )


def merge_rounds(rounds: list[pl.DataFrame]) -> pl.DataFrame:
    """One dq row per check of a batch gated in several rounds: the last round's row, except
    that a quarantine check keeps the row of the round it set articles aside in (its count
    and examples say what was set aside; after the set-aside it passes)."""
    last = rounds[-1]
    key = ["suite", "expectation"]
    earlier = (
        pl.concat(rounds[:-1])
        .filter((pl.col("severity") == "quarantine") & ~pl.col("success"))
        .unique(key, keep="first", maintain_order=True)
        if len(rounds) > 1
        else last.clear()
    )
    kept = last.join(earlier.select(key), on=key, how="anti")
    order = last.select(key).with_row_index("_order")
    return pl.concat([kept, earlier]).join(order, on=key, how="left").sort("_order").drop("_order")


def _ingest_batch(
    settings: Settings,
    state: RunState,
    files: pl.DataFrame,
    ledger: pl.DataFrame,
    faults: Faults,
    timings: RunTimings,
    prepared: PrefectFuture[PreparedBatch] | None = None,
) -> bool:
    """Prepare, finish, gate and publish one batch; False when its gate failed.

    `prepared`: the batch prepared ahead on a Dask worker (flows.scaleout), to be finished
    here against the warehouse as it is now."""
    t = _mark()
    if prepared is None:  # serial: the same task a Dask worker runs, here and now
        batch = prepare(files, ledger, prepare_options(settings), faults)
        timings.merge(batch.timings, batch.cpu)
    else:
        from flows.scaleout import wait_for

        batch = wait_for(prepared, timings.wall)
    read, staged = finish_batch(settings, batch, ledger, faults)
    # The prepared frames (decoded texts, records, every paragraph and its precomputed tags)
    # are in `staged` now as far as they are still needed; held on here, they would stay
    # alive through the gate, near-duplicate linking and the publish, the run's peaks.
    del batch
    timings.merge(staged.timings, staged.cpu)
    if read.filter(pl.col(S.STATUS) != FILE_TOUCHED).is_empty():
        # Only files rewritten with the same bytes: note their mtimes, nothing to gate.
        t = _mark()
        empty = pl.DataFrame(schema=DQ_RESULTS)
        publish(settings, staged, state.record(), empty, faults, state.batches)
        timings.add("publish", t)
        state.totals.files_touched += _file_counts(staged)["files_touched"]
        return True

    t = _mark()
    gate = gate_batch(settings, staged, state.run_id, faults)
    timings.add("gate", t)
    rounds = [gate.results]
    while gate.success and not gate.quarantined.is_empty():
        if len(rounds) > MAX_SET_ASIDE_ROUNDS:
            raise NutgrafError(
                f"the gate kept setting articles aside after {MAX_SET_ASIDE_ROUNDS} rounds; "
                "nothing of this batch was published"
            )
        # Set the named articles aside, rebuild the batch without them and gate it again: the
        # rest publish only if they pass on their own.
        staged = set_aside_articles(settings, staged, gate.quarantined)
        timings.merge(staged.timings, staged.cpu)  # the rebuild's stages, booked once
        t = _mark()
        gate = gate_batch(settings, staged, state.run_id, faults)
        rounds.append(gate.results)
        timings.add("gate", t)
    results = merge_rounds(rounds)
    state.add_duplicate_groups(staged)
    if gate.success:
        del read  # the files' texts, also in staged.files until settled
        staged = settled(staged)
        t = _mark()
        staged.near = link_near_duplicates(settings, staged)
        timings.add("near_dup", t)
    state.totals.add(staged)
    state.batch_shape = gate.batch_shape
    batch_no = state.batches + 1
    state.results.append(results)
    state.failed += gate.failed
    state.status = STATUS_PUBLISHED if gate.success else STATUS_GATE_FAILED
    t = _mark()
    state.report_path = _write_report(settings, state, timings)
    faults.reach("report:written")
    timings.add("report", t)
    t = _mark()
    if gate.success:
        state.batches = batch_no  # the run row counts published batches
        index_time = publish(
            settings, staged, state.record(), results, faults, batch_no, gate.batch_shape
        )
        timings.add("publish", t)
        # Reported apart: the search index kept in step inside the publish transaction.
        timings.move(index_time, "publish", "search_index")
        # Written before the publish so a failed publish leaves a report; again now that the
        # batch counts as published.
        t = _mark()
        _write_report(settings, state, timings)
        timings.add("report", t)
    else:
        record(settings, state.record(), results, batch_no)
        timings.add("publish", t)
    return gate.success


@flow(name="nutgraf-ingest", validate_parameters=False)
def ingest(settings: Settings) -> dict[str, object] | State:
    """Discover new files, then read, transform, gate and publish them batch by batch.

    Returns the run summary (also recorded in the `runs` table and the report). An expected
    failure (warehouse busy, a publish rolled back) fails the flow run with a one-line message
    and re-raises the error to the caller, without a traceback in the logs.
    """
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    state = RunState(new_run_id(started_at), started_at, settings.landing)
    # Every line nutgraf logs in this run names it, as do its rows, report and artifacts.
    with run_logging(state.run_id):
        try:
            return _ingest(settings, logger, state)
        except NutgrafError as exc:
            logger.error("%s", exc)
            return Failed(message=str(exc), data=exc)


def _ingest(
    settings: Settings, logger: logging.Logger | logging.LoggerAdapter, state: RunState
) -> dict[str, object]:
    faults = Faults(tuple(settings.fault_points))
    timings = RunTimings()

    t = _mark()
    with writer_lock(settings.warehouse, timeout=settings.lock_timeout_seconds):
        timings.add("lock_wait", t)
        t = _mark()
        found = discover_files(settings, faults)
        timings.add("discover", t)
        state.totals.files_seen = found.n_seen
        state.totals.files_settling = found.n_settling
        total_files, total_bytes = _log_discovery(logger, found)
        progress.started(total_files, total_bytes)
        # Without Dask settings: no Dask import, and every batch is read and transformed here.
        from flows.scaleout import prefetch

        ahead = prefetch(settings, found, faults, timings.wall)
        for number, files in enumerate(found.batches, start=1):
            published = _ingest_batch(
                settings, state, files, found.ledger, faults, timings, ahead.next()
            )
            progress.advanced(files.height, int(files[S.SIZE].sum()))
            _log_batch(logger, state, files, number, len(found.batches))
            if not published:
                progress.finished()  # end the terminal's progress line before the error
                logger.error(
                    "gate failed (%s); this batch was not published; report %s",
                    ", ".join(state.failed),
                    state.report_path,
                )
                break
        if state.batches == 0 and state.status == STATUS_NOTHING_NEW:
            record(settings, state.record(), pl.DataFrame(schema=DQ_RESULTS), 0)
            logger.info("nothing new in %s", settings.landing)
        search_index = skipped_search_index(settings)
        if state.batches and settings.search_index:
            # After the last commit, still under the writer lock (the build writes the file).
            t = _mark()
            search_index = refresh_search_index(settings)  # fresh unless stale before the run
            timings.add("search_index", t)
        # The run ends here, not at its last publish: the index build and a gate failure's
        # record come later. Stamped last, still under the lock, so the row is never ahead.
        state.finished_at = datetime.now(UTC)
        finish_run(settings, state.run_id, state.finished_at)
    progress.finished()
    if state.report_path is not None:
        _write_report(settings, state, timings)  # with the run's end and duration
    summary = state.summary(timings)
    summary["search_index"] = search_index
    publish_artifacts(summary, state.gate_result().results)
    return summary


def _log_discovery(
    logger: logging.Logger | logging.LoggerAdapter, found: Discovery
) -> tuple[int, int]:
    """Log what discovery found to read; return its files and bytes (the progress total)."""
    n_files = sum(files.height for files in found.batches)
    n_bytes = sum(int(files[S.SIZE].sum()) for files in found.batches)
    if n_files:
        logger.info(
            "%d of %d files to read (%s) in %d batch(es); %d still being written",
            n_files,
            found.n_seen,
            progress.format_size(n_bytes),
            len(found.batches),
            found.n_settling,
        )
    return n_files, n_bytes


def _log_batch(
    logger: logging.Logger | logging.LoggerAdapter,
    state: RunState,
    files: pl.DataFrame,
    number: int,
    n_batches: int,
) -> None:
    """One line per batch: in a log file, these lines are the run's progress."""
    t = state.totals
    logger.info(
        "batch %d of %d %s: %d files (%s); so far: files %d new, %d duplicate, %d "
        "quarantined; articles %d; new paragraphs %d",
        number,
        n_batches,
        state.status,
        files.height,
        progress.format_size(int(files[S.SIZE].sum())),
        t.files_new,
        t.files_duplicate,
        t.files_quarantined,
        t.articles,
        t.paragraphs_new,
    )


ARTIFACT_SUMMARY_KEY = "nutgraf-run-summary"
ARTIFACT_CHECKS_KEY = "nutgraf-checks"


def publish_artifacts(summary: dict[str, object], results: pl.DataFrame) -> None:
    """Show the run next to its flow run in Prefect's UI: a markdown summary with the failing
    checks and a table of every check's result."""
    failing = results.filter(~pl.col("success"))
    lines = [
        f"# nutgraf run {summary['run_id']}: {summary['status']}",
        "",
        "| files seen | new | duplicate | quarantined | articles | new paragraphs | tags |",
        "|---|---|---|---|---|---|---|",
        f"| {summary['files_seen']} | {summary['files_new']} | {summary['files_duplicate']} "
        f"| {summary['files_quarantined']} | {summary['articles']} | "
        f"{summary['paragraphs_new']} | {summary['tags']} |",
        "",
        f"Gate: **{summary['gate']}**. Report: `{summary['report_path'] or 'none'}`",
    ]
    if not failing.is_empty():
        lines += ["", "## Checks that did not pass", ""]
        lines += ["| severity | check | unexpected | observed |", "|---|---|---|---|"]
        for row in failing.iter_rows(named=True):
            observed = _markdown_cell(str(row["observed"]))
            lines.append(
                f"| {row['severity']} | {row['suite']}.{_markdown_cell(row['expectation'])} | "
                f"{row['unexpected_count']} | {observed} |"
            )
    quarantined = summary.get("quarantined") or []
    if quarantined:
        lines += ["", f"## Quarantined files ({len(quarantined)})", ""]
        lines += [
            f"- `{_markdown_cell(q['path'])}`: {q['reason']}"
            for q in quarantined[:20]  # type: ignore[index]
        ]
    create_markdown_artifact(
        "\n".join(lines), key=ARTIFACT_SUMMARY_KEY, description="nutgraf run summary"
    )
    table = results.select(
        "suite", "expectation", "severity", "success", "unexpected_count", "observed"
    ).to_dicts()
    if table:
        create_table_artifact(table, key=ARTIFACT_CHECKS_KEY, description="data-quality checks")


def _markdown_cell(text: str) -> str:
    """Text safe inside a markdown table cell: no pipes, newlines, backticks or markup."""
    cleaned = text.replace("|", "/").replace("\n", " ").replace("`", "'")
    return cleaned.replace("<", "&lt;").replace(">", "&gt;")[:200]
