"""`nutgraf status`: what it says before any run, after a real run, on an older warehouse, and
about a serving process; always read-only."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from flows.cli import main
from flows.runtime import resolve_prefect_home
from flows.serve_state import (
    clear_serve_state,
    read_serve_state,
    serve_state_path,
    write_serve_state,
)
from flows.settings import Settings
from flows.status import format_duration
from tests.helpers import SAMPLES, flow_settings
from warehouse.connection import open_writer
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations, list_migrations

OLD = time.time() - 3600  # an mtime well past settle_seconds


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`nutgraf ARGS` through the console script's entry point: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _status_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    code, out, err = _cli(capsys, "status", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def _write(path: Path, text: str, *, mtime: float = OLD) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):
    """One real run of the samples (one of them empty, so quarantined): its settings and
    summary. Tests only read its warehouse."""
    from flows.ingest import ingest

    root = tmp_path_factory.mktemp("status")
    shutil.copytree(SAMPLES, root / "landing")
    settings = flow_settings(root, root / "landing")
    return settings, ingest(settings).as_dict()


def test_status_before_the_first_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    landing = tmp_path / "landing"
    _write(landing / "a.txt", "Title\n\nBody.\n")
    _write(landing / "wire" / "b.md", "# Title\n\nBody.\n")
    _write(landing / "c.txt", "Still being written", mtime=time.time())
    _write(landing / "notes.csv", "not an article pattern")
    warehouse = tmp_path / "nutgraf.duckdb"

    code, out, err = _cli(capsys, "status", "--warehouse", str(warehouse), "--landing", "landing")
    assert code == 0, err
    assert "nutgraf.duckdb: none yet (the first `nutgraf run` creates it)" in out
    assert "landing: 3 files pending" in out and "1 still being written" in out
    assert "runs        none yet" in out and "serving     no" in out
    assert not warehouse.exists()  # status never creates the warehouse

    status = _status_json(capsys, "--warehouse", str(warehouse), "--landing", "landing")
    assert status["warehouse"]["exists"] is False and status["runs"] == []
    assert status["landing"] == {
        "path": "landing",
        "exists": True,
        "files": 3,
        "bytes": sum(p.stat().st_size for p in landing.rglob("*.*") if p.suffix != ".csv"),
        "settling": 1,
    }

    code, out, _ = _cli(capsys, "status", "--warehouse", str(warehouse), "--landing", "nowhere")
    assert code == 0 and "nowhere: no such folder" in out
    code, _, err = _cli(capsys, "status", "--runs", "0")
    assert code == 2 and "--runs" in err


def test_status_after_a_run(
    loaded: tuple[Settings, dict],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    settings, summary = loaded
    monkeypatch.chdir(tmp_path)
    before = _digest(settings.warehouse)
    flags = ("--warehouse", str(settings.warehouse), "--landing", str(settings.landing))

    code, out, err = _cli(capsys, "status", *flags)
    assert code == 0, err
    assert summary["run_id"] in out and "published" in out and "passed" in out
    assert "nothing pending" in out and "nothing is writing now" in out
    assert "quarantine  1 file waiting for release (empty 1)" in out

    status = _status_json(capsys, *flags, "--runs", "3")
    (run,) = status["runs"]
    assert {k: run[k] for k in ("run_id", "status", "gate", "files_new", "articles")} == {
        "run_id": summary["run_id"],
        "status": "published",
        "gate": "passed",
        "files_new": summary["files_new"],
        "articles": summary["articles"],
    }
    assert (run["files_quarantined"], run["paragraphs_new"]) == (
        summary["files_quarantined"],
        summary["paragraphs_new"],
    )
    assert status["warehouse"]["bytes"] == settings.warehouse.stat().st_size > 0
    assert status["warehouse"]["schema_version"] == max(v for v, _, _ in list_migrations())
    assert status["quarantined"] == {"waiting": 1, "by_reason": {"empty": 1}}
    assert status["retag_runs"] == []

    # Pending = not in the ledger with the same path, size and mtime; nothing is read.
    landing = tmp_path / "landing"
    shutil.copytree(settings.landing, landing)  # copy2 keeps every mtime
    loaded_files = sorted(p for p in landing.rglob("*.txt") if p.stat().st_size)
    _write(landing / "new" / "story.txt", "A new story\n\nIt arrived after the run.\n")
    loaded_files[0].write_text(loaded_files[0].read_text() + "\nAn added paragraph.\n")
    os.utime(loaded_files[0], (OLD, OLD))
    os.utime(loaded_files[1], (OLD, OLD))  # same bytes, new mtime: a run reads it to see
    status = _status_json(capsys, "--warehouse", str(settings.warehouse), "--landing", str(landing))
    assert (status["landing"]["files"], status["landing"]["settling"]) == (3, 0)

    with writer_lock(settings.warehouse, timeout=0):
        code, out, _ = _cli(capsys, "status", *flags)
    assert code == 0 and f"pid {os.getpid()} holds the writer lock" in out
    assert _digest(settings.warehouse) == before  # opened read-only, never written


def test_a_runs_duration_is_the_flows_wall_time_everywhere(
    loaded: tuple[Settings, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The run row's finished_at is the flow's end (not its last publish's transaction start),
    and status, its JSON and the run's summary and report agree on the duration."""
    settings, summary = loaded
    started = datetime.fromisoformat(summary["started_at"])
    finished = datetime.fromisoformat(summary["finished_at"])
    assert summary["seconds"] == round((finished - started).total_seconds(), 3)

    flags = ("--warehouse", str(settings.warehouse), "--landing", str(settings.landing))
    (run,) = _status_json(capsys, *flags)["runs"]
    assert datetime.fromisoformat(run["started_at"]) == started
    assert datetime.fromisoformat(run["finished_at"]) == finished
    assert run["seconds"] == pytest.approx(summary["seconds"], abs=0.001)

    code, out, err = _cli(capsys, "status", *flags)
    assert code == 0, err
    (row,) = [line for line in out.splitlines() if summary["run_id"] in line]
    assert f"  {format_duration(summary['seconds'])}  " in row

    page = Path(summary["report_path"]).read_text()
    assert f"took {format_duration_report(summary['seconds'])}" in page
    assert summary["finished_at"] in page


def format_duration_report(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def test_status_of_an_older_warehouse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "landing" / "a.txt", "Title\n\nBody.\n")
    flags = ("--landing", "landing")
    before_retag = tmp_path / "v8.duckdb"
    with open_writer(before_retag) as con:
        apply_migrations(con, through=8)  # before `retag_runs`
    code, out, err = _cli(capsys, "status", "--warehouse", str(before_retag), *flags)
    latest = max(v for v, _, _ in list_migrations())
    assert code == 0, err
    assert f"schema 8 of {latest} (the next `nutgraf run` migrates it)" in out
    assert "retags      none (the warehouse predates `nutgraf retag`)" in out
    assert "landing: 1 file pending" in out

    before_release = tmp_path / "v2.duckdb"
    with open_writer(before_release) as con:
        apply_migrations(con, through=2)  # the ledger has no release column yet
    status = _status_json(capsys, "--warehouse", str(before_release), *flags)
    assert status["retag_runs"] is None and "files" not in status["landing"]
    assert status["quarantined"] == {"waiting": 0, "by_reason": {}}
    code, out, _ = _cli(capsys, "status", "--warehouse", str(before_release), *flags)
    assert code == 0 and "pending files unknown until the next run" in out


def test_serve_state_and_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "prefect-home"
    path = write_serve_state(
        home, pid=os.getpid(), schedule="cron */5 * * * *", ui_url="http://127.0.0.1:4200"
    )
    assert path == serve_state_path(home) == home / "nutgraf-serve.json"
    state = read_serve_state(home)
    assert state is not None and state["pid"] == os.getpid()
    assert state["schedule"] == "cron */5 * * * *" and state["started_at"].endswith("+00:00")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    assert resolve_prefect_home(Settings()) == home.resolve()
    code, out, _ = _cli(capsys, "status", "--warehouse", "none.duckdb")
    assert code == 0
    assert f"serving     yes: pid {os.getpid()}, schedule cron */5 * * * *" in out
    assert "UI http://127.0.0.1:4200" in out

    clear_serve_state(home, pid=os.getpid() + 1)  # another serve's exit leaves ours alone
    assert read_serve_state(home) is not None
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    write_serve_state(home, pid=int(gone.stdout), schedule="every 60 s", ui_url=None)
    assert read_serve_state(home) is None  # killed without clearing: not serving
    code, out, _ = _cli(capsys, "status", "--warehouse", "none.duckdb")
    assert "serving     no" in out
    clear_serve_state(home)
    assert not path.exists()
    path.write_text("{not json")
    assert read_serve_state(home) is None

    monkeypatch.delenv("PREFECT_HOME")
    assert resolve_prefect_home(Settings(prefect_home=tmp_path / "p")) == tmp_path / "p"
