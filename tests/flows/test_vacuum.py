"""`nutgraf vacuum`: a checkpoint under the writer lock, and pruning of old run reports, on a
real warehouse file and real report files."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from expectations.gate import DQ_RESULTS, GateResult
from expectations.report import write_report
from expectations.retention import prune_reports
from flows.cli import main
from tests.helpers import query, run_record
from warehouse.connection import open_writer
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.publish import record_run

DAY = 86_400
NOW = time.time()
START = datetime(2026, 1, 1, tzinfo=UTC)


def _run_id(i: int) -> str:
    return f"{START + timedelta(days=i):%Y%m%dT%H%M%S}-{i:08x}"


def _warehouse(path: Path, n_runs: int) -> Path:
    """A migrated warehouse with `n_runs` runs recorded the way a run records them."""
    with open_writer(path) as con:
        apply_migrations(con)
        for i in range(n_runs):
            run = run_record(
                run_id=_run_id(i),
                started_at=START + timedelta(days=i),
                status="nothing_new",
                batches=0,
                landing="landing",
                files_seen=0,
                files_new=0,
                articles=0,
                paragraphs_new=0,
                occurrences=0,
                gate_success=None,
            )
            record_run(con, run, pl.DataFrame(schema=DQ_RESULTS))
    return path


def _report(reports: Path, i: int, *, age_days: float) -> list[Path]:
    """Run i's report (page and JSON) as the report writer writes it, last written
    `age_days` ago."""
    summary = {"run_id": _run_id(i), "status": "published", "files_new": 1, "files_seen": 1}
    summary["started_at"] = (START + timedelta(days=i)).isoformat()
    result = GateResult(True, pl.DataFrame(schema=DQ_RESULTS), [], [])
    page = write_report(result, run_id=_run_id(i), report_dir=reports, summary=summary)
    files = [page, page.with_suffix(".json")]
    for file in files:
        os.utime(file, (NOW - age_days * DAY, NOW - age_days * DAY))
    return files


def _linked(reports: Path) -> set[str]:
    """Run pages the index links to."""
    index = (reports / "index.html").read_text()
    return set(re.findall(r'href="\./([^"]+)\.html"', index))


def _vacuum(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["vacuum", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_vacuum_checkpoints_and_prunes_old_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    warehouse = _warehouse(tmp_path / "nutgraf.duckdb", 8)
    # Leave committed rows in the write-ahead log, as a process killed mid-way would.
    con = duckdb.connect(str(warehouse))
    con.execute("PRAGMA disable_checkpoint_on_shutdown")
    con.execute("SET checkpoint_threshold = '1GB'")
    con.execute("CREATE TABLE scratch AS SELECT range AS i FROM range(200000)")
    con.close()
    wal = warehouse.with_name(warehouse.name + ".wal")
    assert wal.stat().st_size > 0

    reports = tmp_path / "reports"
    # Runs 0-7: 0-2 are old and beyond the latest five (deleted), 3-7 old or not but among the
    # latest five (kept); an unrelated file and a page named like no run stay whatever age.
    ages = [200, 120, 91, 200, 200, 5, 1, 0]
    files = {i: _report(reports, i, age_days=age) for i, age in enumerate(ages)}
    others = [reports / "notes.txt", reports / "team-summary.html"]
    for other in others:
        other.write_text("mine")
        os.utime(other, (NOW - 400 * DAY, NOW - 400 * DAY))
    assert _linked(reports) == {_run_id(i) for i in range(8)}

    code, out, err = _vacuum(
        capsys, "--prune-reports", "--warehouse", "nutgraf.duckdb", "--reports", "reports"
    )
    assert code == 0, err
    assert "checkpoint" in out and "write-ahead log" in out and "-> 0 B)" in out
    assert not wal.exists() or wal.stat().st_size == 0
    assert query(warehouse, "SELECT count(*) FROM scratch") == [(200_000,)]
    assert "deleted 3 run reports older than 90 days (6 files" in out
    assert "index.html lists 5 runs" in out
    for i in range(8):
        assert all(f.exists() == (i >= 3) for f in files[i]), i
    assert all(other.exists() for other in others) and (reports / "index.html").exists()
    assert _linked(reports) == {_run_id(i) for i in range(3, 8)}


def test_vacuum_leaves_reports_alone_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    _warehouse(tmp_path / "nutgraf.duckdb", 1)
    old = [_report(tmp_path / "reports", i, age_days=300) for i in range(7)]
    code, out, _ = _vacuum(capsys)
    assert code == 0 and "reports     left alone" in out
    monkeypatch.setenv("NUTGRAF_REPORT_RETENTION_DAYS", "0")
    code, out, _ = _vacuum(capsys, "--prune-reports")
    assert code == 0 and "all kept (report_retention_days = 0)" in out
    assert all(f.exists() for files in old for f in files)


def test_pruning_keeps_the_runs_it_is_told_to(tmp_path: Path):
    reports = tmp_path / "reports"
    old = [_report(reports, i, age_days=100) for i in range(3)]
    (reports / "index.html").unlink()  # rewritten even when lost
    pruned = prune_reports(
        reports, retention_days=30, now=NOW, keep_runs=[_run_id(0)], keep_recent=1
    )
    assert (pruned.runs_deleted, pruned.runs_kept, pruned.index_runs) == (1, 2, 2)
    assert [f.exists() for files in old for f in files] == [True, True, False, False, True, True]
    assert _linked(reports) == {_run_id(0), _run_id(2)}
    assert prune_reports(tmp_path / "none", retention_days=30, now=NOW).index_runs == 0


def test_vacuum_waits_for_the_writer_and_needs_a_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    code, _, err = _vacuum(capsys, "--warehouse", "missing.duckdb")
    assert code == 1 and "no warehouse at missing.duckdb" in err and "Traceback" not in err
    warehouse = _warehouse(tmp_path / "nutgraf.duckdb", 1)
    monkeypatch.setenv("NUTGRAF_LOCK_TIMEOUT_SECONDS", "0")
    with writer_lock(warehouse, timeout=0):
        code, out, err = _vacuum(capsys, "--prune-reports")
    assert code == 75 and "lock_timeout_seconds" in err and out == ""
