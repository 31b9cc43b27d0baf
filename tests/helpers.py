"""Test helpers: where the corpora are, and assertions about warehouse tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flows.settings import Settings
    from warehouse.publish import RunRecord

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "articles"
# The shared corpora are never copied into the repository; point NUTGRAF_CORPORA elsewhere
# when they are not beside the checkout.
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
SEED = "000_8ab4b52764c9943c.txt"
CACHE_DIR = ROOT / ".nutgraf" / "cache"
"""The unpacked language model, one for the whole suite: the `cache_dir` setting of the runs
the tests start (conftest), and what tests calling the language tagger directly pass."""


def corpus(*parts: str) -> Path:
    """A path inside the shared corpora, or skip the test saying why."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        why = f"corpus {path} not found: set NUTGRAF_CORPORA to the shared corpora folder"
        if os.environ.get("CI") == "true":  # CI has the corpora: a skip there hides a test
            pytest.fail(why)
        pytest.skip(why)
    return path


def set_tagger_version(monkeypatch: pytest.MonkeyPatch, tagger: str, version: str) -> None:
    """Give a tagger of the registry another version for the test, as a developer would."""
    from dataclasses import replace

    from transforms.tagging import TAGGERS

    monkeypatch.setitem(TAGGERS, tagger, replace(TAGGERS[tagger], version=version))


def read_counts(warehouse: Path) -> dict[str, int]:
    """Row count of every warehouse table, read through a read-only connection."""
    from warehouse.connection import open_reader
    from warehouse.queries import table_counts

    with open_reader(warehouse) as con:
        return table_counts(con)


def assert_table_counts(warehouse: Path, expected: dict[str, int]) -> None:
    """The named tables hold exactly these row counts."""
    counts = read_counts(warehouse)
    assert {name: counts[name] for name in expected} == expected


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of a read-only query."""
    from warehouse.queries import run_readonly_query

    return run_readonly_query(warehouse, sql).rows()


# --- running `nutgraf` as separate processes that can be killed ------------------------------

_PRELOAD = ["tests.preload"]


def _child_main(
    argv: list[str], cwd: str, env: dict[str, str], api_url: str, output: str | None
) -> None:
    """Body of a forked `nutgraf` process: the same entry point a user runs."""
    import sys

    from prefect.settings import PREFECT_API_URL, temporary_settings

    if output is not None:  # stdout and stderr to a file the test reads afterwards
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    os.chdir(cwd)
    os.environ.update(env)
    from flows.cli import main

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        code = main(argv)
    sys.stdout.flush()
    os._exit(code)


class NutgrafProcesses:
    """Starts `nutgraf` processes forked from a server that has already imported Prefect,
    Polars and Great Expectations, so each costs a fork rather than ~15 s of imports.
    They talk to the test session's Prefect API like any client process would."""

    def __init__(self, api_url: str) -> None:
        import multiprocessing

        self.api_url = api_url
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(_PRELOAD)

    def start(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        output: Path | None = None,
    ):
        """Start `nutgraf ARGV` in `cwd` with extra environment; returns the process."""
        process = self._ctx.Process(
            target=_child_main,
            args=(argv, str(cwd), dict(env or {}), self.api_url, output and str(output)),
        )
        process.start()
        return process

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        output: Path | None = None,
    ) -> int:
        """Run to the end; the exit code (negative: killed by that signal)."""
        process = self.start(argv, cwd=cwd, env=env, output=output)
        process.join(timeout=300)
        if process.exitcode is None:
            process.kill()
            raise AssertionError(f"nutgraf {argv} did not finish in 300 s")
        return process.exitcode


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table's content, sorted, without what differs between two correct histories of the
    same work: for comparing a warehouse that went through crashes with one that did not.

    Data tables are compared row for row without run ids, ids and timestamps (a released row
    counts as released, whenever that was). Log tables are compared by what a rerun cannot
    change: a run killed after its commit and run again adds a run that found nothing new (a
    retag, a third copy of the tags, of which `current_tags` still shows one), and
    a batch cut short is finished by a later run in a batch of its own, so `runs` is compared
    by its totals; `dq_results`, `batch_metrics`, `retag_runs` and `search_index` by their
    distinct content (and whether each row belongs to a recorded run)."""
    from warehouse.queries import run_readonly_query

    queries = {
        "source_files": "SELECT path, sha256, size, mtime, status, reason, duplicate_of, encoding,"
        " released_at IS NOT NULL FROM source_files",
        "source_records": "SELECT * EXCLUDE (run_id) FROM source_records",
        "articles": "SELECT * EXCLUDE (run_id) FROM articles",
        "paragraphs": "SELECT * EXCLUDE (run_id) FROM paragraphs",
        "occurrences": "SELECT * FROM occurrences",
        # A retag appends its tags under its own run and `current_tags` picks the rows in
        # force: a retag killed after its commit and run again stores them a third time.
        "paragraph_tags": "SELECT DISTINCT * EXCLUDE (run_id) FROM paragraph_tags",
        "current_tags": "SELECT * EXCLUDE (run_id) FROM current_tags",
        "title_tags": "SELECT * EXCLUDE (run_id) FROM title_tags",
        "paragraph_bands": "SELECT * EXCLUDE (run_id) FROM paragraph_bands",
        "boilerplate": "SELECT * EXCLUDE (run_id) FROM boilerplate",
        "quarantine": "SELECT path, sha256, reason_code, detail, released_at IS NOT NULL, rule,"
        " record FROM quarantine",
        "schema_migrations": "SELECT version, name FROM schema_migrations",
        "runs": "SELECT sum(articles), sum(paragraphs_new), sum(occurrences), sum(tags),"
        " sum(files_new), sum(files_quarantined), bool_and(gate_success) FROM runs",
        "dq_results": "SELECT DISTINCT suite, expectation, column_name, severity, run_id IN"
        " (SELECT run_id FROM runs) FROM dq_results",
        "batch_metrics": "SELECT DISTINCT metric, run_id IN (SELECT run_id FROM runs)"
        " FROM batch_metrics",
        "retag_runs": "SELECT DISTINCT tagger, tagger_version, paragraphs, tags FROM retag_runs",
        "search_index": "SELECT DISTINCT paragraphs, index_version, stemmer, stopwords, trigger"
        " FROM search_index",
    }
    has_index = run_readonly_query(
        warehouse,
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'fts_main_paragraphs'",
    ).item()
    if has_index:  # the full-text index by paragraph and term, whatever ids it gave them
        fts = "fts_main_paragraphs"
        queries["search_terms"] = (
            f"SELECT d.name, d.len, t.term, t.df, count(*) FROM {fts}.terms x "
            f"JOIN {fts}.docs d USING (docid) JOIN {fts}.dict t USING (termid) GROUP BY ALL"
        )
        queries["search_stats"] = f"SELECT num_docs, round(avgdl, 9) FROM {fts}.stats"
    tables = {
        r[0]
        for r in run_readonly_query(
            warehouse, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        ).rows()
    }
    # A table added later fails here until it is given its comparison above.
    assert tables <= set(queries), f"tables the snapshot does not compare: {tables - set(queries)}"
    return {
        name: sorted(run_readonly_query(warehouse, sql).rows(), key=repr)
        for name, sql in queries.items()
    }


def run_record(**fields: object) -> RunRecord:
    """A `runs` row for warehouse-level tests: one published batch of one article, but for
    the `fields` given."""
    from warehouse.publish import RunRecord

    published = {
        "run_id": "r1",
        "flow_run_id": None,
        "started_at": "2026-11-28 00:00:00+00",
        "status": "published",
        "batches": 1,
        "landing": "/l",
        "files_seen": 1,
        "files_new": 1,
        "files_duplicate": 0,
        "files_quarantined": 0,
        "articles": 1,
        "paragraphs_new": 1,
        "occurrences": 1,
        "tags": 0,
        "counts": "{}",
        "gate_success": True,
    }
    return RunRecord(**{**published, **fields})


# --- flow runs inside the test session's Prefect harness -------------------------------------


def flow_settings(
    tmp_path: Path, landing: Path, name: str = "nutgraf.duckdb", **extra: object
) -> Settings:
    """Settings of a test run: warehouse and reports under `tmp_path`, no settle wait."""
    from flows.settings import Settings

    return Settings(
        landing=landing,
        warehouse=tmp_path / name,
        reports=tmp_path / "reports",
        settle_seconds=0,
        **extra,
    )


def run_ingest(settings: Settings) -> dict[str, object]:
    """One real run of the ingest flow; returns its summary."""
    from flows.ingest import ingest

    return ingest(settings).as_dict()
