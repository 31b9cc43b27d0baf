"""One file version, one quarantine row: bytes already judged are never quarantined again,
whatever their mtime, path or landing folder; a release re-reads them once.

Every test makes real flow runs over a real DuckDB file, then checks that the run summary, the
`runs` row, `nutgraf report`, `nutgraf status` and `nutgraf quarantine list` agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from flows.cli import main
from flows.settings import Settings
from tests.helpers import flow_settings, query, run_ingest

pytestmark = pytest.mark.usefixtures("prefect_harness")

GOOD = "Good news\n\nThe council opened a new library on the high street.\n"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
BIG = "".join(
    f"Paragraph {n} of a long report, too long for a strict limit.\n\n" for n in range(40)
)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """stdout of `nutgraf ARGS`, which must exit 0."""
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _bump_mtime(path: Path, seconds: float = 100.0) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime, st.st_mtime + seconds))


def assert_quarantined_once(warehouse: Path, sha256: str) -> None:
    """Exactly one quarantine row holds these bytes, and it waits for release."""
    rows = query(warehouse, "SELECT sha256, released_at FROM quarantine")
    assert [r for r in rows if r[0] == sha256] == [(sha256, None)], rows


def assert_counts_agree(
    capsys: pytest.CaptureFixture[str], settings: Settings, summary: dict[str, object]
) -> None:
    """The run summary, its `runs` row, `nutgraf report`, `nutgraf status` and `nutgraf
    quarantine list` tell the same story about the quarantine."""
    w = str(settings.warehouse)
    run_id = summary["run_id"]
    per_run = Counter(r for (r,) in query(settings.warehouse, "SELECT run_id FROM quarantine"))
    n = summary["files_quarantined"]
    assert n == len(summary["quarantined"]) == per_run[run_id], (summary, per_run)
    recorded = dict(query(settings.warehouse, "SELECT run_id, files_quarantined FROM runs"))
    assert recorded[run_id] == n
    report = _cli(capsys, "report", "--warehouse", w, "--run", str(run_id))
    assert f"quarantined {n};" in report
    assert report.count("\n  quarantined ") == n, report

    waiting = query(settings.warehouse, "SELECT count(*) FROM quarantine WHERE released_at IS NULL")
    listed = json.loads(_cli(capsys, "quarantine", "list", "--warehouse", w, "--format", "json"))
    status = json.loads(_cli(capsys, "status", "--json", "--warehouse", w))
    assert status["quarantined"]["waiting"] == len(listed) == waiting[0][0], (status, listed)


@pytest.fixture(scope="module")
def first_run(
    tmp_path_factory: pytest.TempPathFactory, prefect_harness: None
) -> tuple[Path, dict[str, object]]:
    """A folder holding a landing folder and the warehouse of its first run, which loaded
    one article and quarantined one empty file; and that run's summary. Made once: each test
    gets a copy (`first`)."""
    root = tmp_path_factory.mktemp("first")
    landing = root / "landing"
    landing.mkdir()
    (landing / "good.txt").write_text(GOOD)
    (landing / "empty.txt").write_bytes(b"")
    summary = run_ingest(flow_settings(root, landing, max_quarantined_share=1.0))
    assert summary["status"] == "published" and summary["files_quarantined"] == 1, summary
    return root, summary


@pytest.fixture
def first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_run: tuple[Path, dict[str, object]]
) -> Settings:
    """A copy of the first run's landing folder (mtimes kept) and warehouse."""
    root, summary = first_run
    shutil.copytree(root / "landing", tmp_path / "landing")
    shutil.copy2(root / "nutgraf.duckdb", tmp_path / "nutgraf.duckdb")
    settings = flow_settings(tmp_path, tmp_path / "landing", max_quarantined_share=1.0)
    assert_quarantined_once(settings.warehouse, EMPTY_SHA)
    assert_counts_agree(capsys, settings, summary)
    return settings


def test_a_touched_quarantined_file_is_not_quarantined_again(first: Settings, capsys):
    _bump_mtime(first.landing / "empty.txt")

    summary = run_ingest(first)

    assert summary["status"] == "nothing_new", summary
    assert summary["files_touched"] == 1 and summary["files_quarantined"] == 0, summary
    assert_quarantined_once(first.warehouse, EMPTY_SHA)
    assert_counts_agree(capsys, first, summary)
    mtime = (first.landing / "empty.txt").stat().st_mtime
    ledger = query(first.warehouse, "SELECT path, status, mtime FROM source_files")
    assert ("empty.txt", "quarantined", mtime) in ledger  # seen again: not re-read next time
    assert run_ingest(first)["files_seen"] == 2


def test_a_copy_of_a_quarantined_file_is_a_duplicate(first: Settings, capsys):
    shutil.copy(first.landing / "empty.txt", first.landing / "copy-of-empty.txt")

    summary = run_ingest(first)

    assert summary["files_duplicate"] == 1 and summary["files_quarantined"] == 0, summary
    assert summary["quarantined"] == [], summary
    assert_quarantined_once(first.warehouse, EMPTY_SHA)
    assert_counts_agree(capsys, first, summary)
    copy = query(
        first.warehouse,
        "SELECT status, reason, duplicate_of FROM source_files WHERE path = 'copy-of-empty.txt'",
    )
    assert copy == [("duplicate", None, "empty.txt")]


def test_a_copied_landing_folder_does_not_quarantine_its_files_again(
    first: Settings, tmp_path: Path, capsys
):
    # A copy that does not keep mtimes (cp without -p): every file looks changed.
    moved = tmp_path / "landing-copy"
    shutil.copytree(first.landing, moved, copy_function=shutil.copy)
    for path in moved.iterdir():
        _bump_mtime(path)
    (moved / "fresh.txt").write_text("Fresh news\n\nThe ferry runs again from Monday.\n")
    settings = first.model_copy(update={"landing": moved})

    summary = run_ingest(settings)

    assert summary["status"] == "published", summary
    assert summary["files_new"] == 1 and summary["files_quarantined"] == 0, summary
    assert summary["quarantined"] == [], summary
    assert_quarantined_once(settings.warehouse, EMPTY_SHA)
    assert_counts_agree(capsys, settings, summary)


def test_nothing_new_after_a_copy_adds_no_quarantine_row(first: Settings, capsys):
    shutil.copy(first.landing / "empty.txt", first.landing / "copy-of-empty.txt")
    copied = run_ingest(first)
    assert_counts_agree(capsys, first, copied)

    again = run_ingest(first)
    assert again["status"] == "nothing_new", again
    assert_counts_agree(capsys, first, again)
    # A backup tool rewrites both with the same bytes: still nothing new.
    _bump_mtime(first.landing / "empty.txt")
    _bump_mtime(first.landing / "copy-of-empty.txt")
    touched = run_ingest(first)

    assert touched["status"] == "nothing_new", touched
    assert touched["files_touched"] == 2 and touched["files_quarantined"] == 0, touched
    assert_quarantined_once(first.warehouse, EMPTY_SHA)
    assert_counts_agree(capsys, first, touched)


def test_a_released_version_is_read_once_even_with_a_copy_beside_it(tmp_path: Path, capsys):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "big.txt").write_text(BIG)
    settings = flow_settings(
        tmp_path, landing, max_quarantined_share=1.0, max_file_bytes=len(BIG) - 1
    )
    sha = hashlib.sha256(BIG.encode()).hexdigest()
    assert run_ingest(settings)["files_quarantined"] == 1
    shutil.copy(landing / "big.txt", landing / "big-copy.txt")
    copied = run_ingest(settings)
    assert copied["files_duplicate"] == 1 and copied["files_quarantined"] == 0, copied
    assert_quarantined_once(settings.warehouse, sha)
    assert_counts_agree(capsys, settings, copied)

    (row,) = json.loads(
        _cli(
            capsys, "quarantine", "list", "--warehouse", str(settings.warehouse), "--format", "json"
        )
    )
    out = _cli(capsys, "quarantine", "release", row["id"], "--warehouse", str(settings.warehouse))
    assert "released 1 quarantined file" in out
    relaxed = settings.model_copy(update={"max_file_bytes": len(BIG) * 2})
    reread = run_ingest(relaxed)

    # The version loads once, under the first of its paths (as copies in one batch always do);
    # the other path is again a duplicate of it.
    assert reread["status"] == "published", reread
    assert reread["files_new"] == 1 and reread["files_duplicate"] == 1, reread
    assert reread["articles"] == 1 and reread["files_quarantined"] == 0, reread
    assert query(settings.warehouse, "SELECT path, sha256 FROM articles") == [("big-copy.txt", sha)]
    ledger = query(
        settings.warehouse,
        "SELECT path, status, duplicate_of FROM source_files WHERE released_at IS NULL",
    )
    assert sorted(ledger) == [
        ("big-copy.txt", "loaded", None),
        ("big.txt", "duplicate", "big-copy.txt"),
    ]
    assert_counts_agree(capsys, relaxed, reread)
    assert run_ingest(relaxed)["status"] == "nothing_new"
    assert query(settings.warehouse, "SELECT count(*) FROM articles") == [(1,)]


def test_a_released_file_still_bad_is_set_aside_again_without_failing_the_run(
    tmp_path: Path, capsys
):
    # Default thresholds: a run that re-reads only the released file is a batch of one file,
    # all of it set aside. Judged by share it failed the gate, recorded nothing, and every
    # later run read the file again and failed again.
    landing = tmp_path / "landing"
    landing.mkdir()
    for n in range(12):
        (landing / f"good-{n:02d}.txt").write_text(GOOD.replace("a new", f"library number {n},"))
    (landing / "empty.txt").write_bytes(b"")
    settings = flow_settings(tmp_path, landing)
    assert run_ingest(settings)["files_quarantined"] == 1
    _cli(capsys, "quarantine", "release", "--all", "--warehouse", str(settings.warehouse))

    reread = run_ingest(settings)

    assert reread["status"] != "gate_failed", reread
    assert reread["files_quarantined"] == 1, reread
    rows = query(settings.warehouse, "SELECT sha256, released_at IS NULL FROM quarantine")
    assert sorted(rows) == [(EMPTY_SHA, False), (EMPTY_SHA, True)]  # released; set aside again
    assert_counts_agree(capsys, settings, reread)
    assert run_ingest(settings)["status"] == "nothing_new"
