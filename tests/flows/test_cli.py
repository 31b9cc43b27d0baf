"""The command line as a user types it: real processes, real ephemeral Prefect, real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, read_counts
from warehouse.connection import open_writer
from warehouse.migrations import apply_migrations


def nutgraf(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NUTGRAF_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={**full_env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "nutgraf.duckdb"
    with open_writer(path) as con:
        apply_migrations(con)
    return path


def test_query_refuses_writes_and_changes_nothing(tmp_path: Path, empty_warehouse: Path):
    before = read_counts(empty_warehouse)
    for sql in (
        "INSERT INTO runs (run_id) VALUES ('x')",
        "DELETE FROM articles",
        "CREATE TABLE evil AS SELECT 1",
    ):
        done = nutgraf("query", "--warehouse", str(empty_warehouse), sql, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "read-only" in done.stderr and "Traceback" not in done.stderr
    assert read_counts(empty_warehouse) == before


def test_query_formats(tmp_path: Path, empty_warehouse: Path):
    sql = "SELECT 1 AS n, 'a,b' AS s UNION ALL SELECT 2, 'c'"
    as_json = nutgraf(
        "query", "--warehouse", str(empty_warehouse), "--format", "json", sql, cwd=tmp_path
    )
    assert json.loads(as_json.stdout) == [{"n": 1, "s": "a,b"}, {"n": 2, "s": "c"}]
    as_csv = nutgraf(
        "query", "--warehouse", str(empty_warehouse), "--format", "csv", sql, cwd=tmp_path
    )
    assert as_csv.stdout.splitlines() == ["n,s", '1,"a,b"', "2,c"]
    table = nutgraf("query", "--warehouse", str(empty_warehouse), sql, cwd=tmp_path)
    assert "a,b" in table.stdout and table.returncode == 0


def test_missing_warehouse_is_a_clear_error(tmp_path: Path):
    done = nutgraf("query", "--warehouse", str(tmp_path / "none.duckdb"), "SELECT 1", cwd=tmp_path)
    assert done.returncode == 1 and "nutgraf run" in done.stderr and "Traceback" not in done.stderr
    missing = nutgraf("run", "--landing", str(tmp_path / "nope"), cwd=tmp_path)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    (tmp_path / "nutgraf.toml").write_text("max_file_bytes = 'lots'\n")
    bad = nutgraf("report", cwd=tmp_path)
    assert (
        bad.returncode == 2 and "invalid settings" in bad.stderr and "max_file_bytes" in bad.stderr
    )
    assert "Traceback" not in bad.stderr


_LOADED = (
    "import sys; from flows.cli import main; code = main(sys.argv[1:]); "
    "heavy = {m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations', 'dask'}; "
    "print('loaded:', sorted(heavy)); sys.exit(code)"
)


def test_a_run_with_nothing_new_is_recorded_without_prefect(tmp_path: Path):
    """Nothing to load: the run is recorded (a `runs` row, finished) before Prefect, GX or
    Dask would load, and says so."""
    landing = tmp_path / "articles"
    landing.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NUTGRAF_"))}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", _LOADED, "run", "--json", "--landing", str(landing)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        summary_text, loaded = done.stdout.rsplit("loaded:", 1)
        assert loaded.strip() == "[]", loaded
        summary = json.loads(summary_text)
        assert summary["status"] == "nothing_new" and summary["gate"] == "skipped", summary
        assert summary["files_seen"] == 0 and summary["batches"] == 0
        assert "prefect" not in summary["timings"] and summary["seconds"] is not None
    with open_writer(tmp_path / "nutgraf.duckdb") as con:
        rows = con.execute(
            "SELECT status, batches, flow_run_id, finished_at IS NOT NULL FROM runs"
        ).fetchall()
    assert rows == [("nothing_new", 0, None, True)] * 2


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One Prefect home for this module's runs: the first run creates its database, as on a
    new machine; later runs reuse it, as a user's second run does (~15 s less each)."""
    return {"NUTGRAF_PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}


@pytest.mark.slow
def test_run_report_and_query_on_the_samples(tmp_path: Path, prefect_home: dict[str, str]):
    landing = tmp_path / "articles"
    shutil.copytree(SAMPLES, landing)
    done = nutgraf("run", "--landing", str(landing), cwd=tmp_path, env=prefect_home)
    assert done.returncode == 4, done.stdout + done.stderr  # published; one file quarantined
    out = done.stdout
    for expected in (
        "published",
        "files       seen 10, new 8, duplicate 1, quarantined 1",
        "first",
        "repeat",
        "corpus",
        "person",
        "gate        passed",
        "report",
        "of Prefect start-up before the flow began",  # apart from the run's own duration
    ):
        assert expected in out, out
    assert done.stderr.strip() == "", done.stderr  # no warnings or progress bars
    assert (tmp_path / "nutgraf.duckdb").is_file()  # the default warehouse in the working dir
    assert list((tmp_path / "reports").glob("*.html"))

    report = nutgraf("report", cwd=tmp_path)
    assert report.returncode == 0 and "published" in report.stdout and ".html" in report.stdout

    rows = nutgraf("query", "--format", "json", "SELECT count(*) AS n FROM articles", cwd=tmp_path)
    assert json.loads(rows.stdout) == [{"n": 9}]  # the .jsonl sample holds two

    again = nutgraf("run", "--landing", str(landing), cwd=tmp_path, env=prefect_home)
    assert again.returncode == 0 and "nothing new" in again.stdout

    # The newest run published nothing: the report says so and points at the one that did.
    (published_page,) = [p for p in (tmp_path / "reports").glob("*.html") if p.name != "index.html"]
    newest = nutgraf("report", cwd=tmp_path)
    assert newest.returncode == 0, newest.stderr
    lines = newest.stdout.splitlines()
    assert ": nothing_new (" in lines[0], newest.stdout
    assert "report: none (no checks ran)" in newest.stdout
    (pointer,) = [line for line in lines if "last run that published" in line]
    assert published_page.stem in pointer
    assert f"report: {published_page.relative_to(tmp_path)}" in pointer  # as the run stored it


@pytest.mark.slow
def test_gate_failure_exits_non_zero_and_names_the_check(
    tmp_path: Path, prefect_home: dict[str, str]
):
    landing = tmp_path / "articles"
    shutil.copytree(SAMPLES, landing)
    rules = tmp_path / "rules.toml"
    rules.write_text('[[topic]]\nkeyword = "strike"\ntopic = "not-a-topic"\nweight = 5\n')
    (tmp_path / "nutgraf.toml").write_text(f'landing = "{landing}"\ntags_file = "{rules}"\n')
    done = nutgraf("run", cwd=tmp_path, env=prefect_home)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "FAILED" in done.stdout and "tag_value_in_vocabulary[topic]" in done.stdout
    assert "nothing was published" in done.stdout
    assert read_counts(tmp_path / "nutgraf.duckdb")["articles"] == 0
