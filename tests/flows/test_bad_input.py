"""Bad input never stops a batch: each kind is recorded with a reason and the rest publishes."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from flows.settings import Settings
from tests.helpers import SAMPLES, query

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _run(settings: Settings) -> dict[str, object]:
    from flows.ingest import ingest

    return ingest(settings).as_dict()


def _write_bad_and_odd_files(landing: Path, outside: Path) -> dict[str, str | None]:
    """Write every awkward case; returns path -> expected reason (None: loads)."""
    bad = landing / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "whitespace.txt").write_text(" \t\n\n \u00a0\n")
    (bad / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (bad / "nul.txt").write_bytes(b"Title\n\nText with a \x00 NUL byte.\n")
    (bad / "invalid.txt").write_bytes(b"Headline\n\nBody \xff\xfe\x81\x8d\x90 bytes.\n")
    (bad / "big.txt").write_bytes(b"Long line. " * 30_000)  # 330 KB > max_file_bytes below
    (bad / "one-line.md").write_bytes(b"word " * 2_000_000)  # 10 MB, no newline at all
    (bad / "unreadable.txt").write_text("Nobody may read this.\n")
    (bad / "folder.txt").mkdir()
    (bad / "folder.txt" / "inside.txt").write_text("A file inside a folder named like one.\n")
    outside.write_text("Outside the landing folder.\n")
    (bad / "escape.txt").symlink_to(outside)

    odd = landing / "odd"
    odd.mkdir()
    (odd / "bom.txt").write_bytes("\ufeffHeadline\n\nBody after a BOM.\n".encode())
    (odd / "mixed-newlines.txt").write_bytes(b"Head\r\n\r\nOne.\r\nStill one.\n\nTwo.\r\rThree.\r")
    (odd / "spaces.txt").write_text("Head\n\nZero\u200bwidth and non\u00a0breaking spaces.\n")
    (odd / "name with spaces.txt").write_text("Spaces in the file name.\n")
    (odd / "nämé-ünïcødé.txt").write_text("Non-ASCII letters in the file name.\n")
    (odd / "new\nline.txt").write_text("A newline in the file name.\n")
    return {
        "bad/empty.txt": "empty",
        "bad/whitespace.txt": "empty",
        "bad/image.txt": "binary",
        "bad/nul.txt": "binary",
        "bad/invalid.txt": "undecodable",
        "bad/big.txt": "oversized",
        "bad/one-line.md": "paragraph_too_long",
        "bad/unreadable.txt": "unreadable",
        "bad/folder.txt": "not_a_file",
        "bad/folder.txt/inside.txt": None,
        "bad/escape.txt": "outside_landing",
        "odd/bom.txt": None,
        "odd/mixed-newlines.txt": None,
        "odd/spaces.txt": None,
        "odd/name with spaces.txt": None,
        "odd/nämé-ünïcødé.txt": None,
        "odd/new\nline.txt": None,
    }


def test_every_kind_of_bad_input_is_recorded_and_the_rest_loads(tmp_path: Path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    expected = _write_bad_and_odd_files(landing, tmp_path / "outside.txt")
    unreadable = landing / "bad" / "unreadable.txt"
    faults: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # root reads every file whatever its mode: simulate the permission error instead.
        faults = ("eacces@read:bad/unreadable.txt",)
    unreadable.chmod(0)
    settings = Settings(
        landing=landing,
        warehouse=tmp_path / "w.duckdb",
        reports=tmp_path / "reports",
        settle_seconds=0,
        max_file_bytes=12_000_000,
        fault_points=faults,
    )
    big = landing / "bad" / "big.txt"
    settings = settings.model_copy(update={"max_file_bytes": big.stat().st_size - 1})
    (landing / "bad" / "one-line.md").write_bytes(b"word " * 20_000)  # under the file limit
    summary = _run(settings)

    assert summary["status"] == "published", summary
    reasons = {item["path"]: item["reason"] for item in summary["quarantined"]}
    quarantined = {p: r for p, r in expected.items() if r is not None}
    assert reasons == quarantined
    w = settings.warehouse
    # One version, one quarantine row: the sample's empty placeholder holds the same (no) bytes
    # as bad/empty.txt, so it is recorded as that file's duplicate, not set aside again.
    placeholder = query(
        w,
        "SELECT status, reason, duplicate_of FROM source_files"
        " WHERE path = 'valley-post/2026-11-05-placeholder.txt'",
    )
    assert placeholder == [("duplicate", None, "bad/empty.txt")]
    ledger = dict(query(w, "SELECT path, coalesce(reason, status) FROM source_files"))
    for path, reason in expected.items():
        assert ledger[path] == (reason or "loaded"), path
    assert dict(query(w, "SELECT path, reason_code FROM quarantine")) == reasons
    assert query(w, "SELECT sha256 FROM source_files WHERE path = 'bad/escape.txt'") == [(None,)]

    texts = dict(
        query(
            w,
            "SELECT a.path, string_agg(text, ' | ' ORDER BY position) FROM article_text a"
            " GROUP BY ALL",
        )
    )
    assert texts["odd/mixed-newlines.txt"] == "One. Still one. | Two. | Three."
    assert texts["odd/spaces.txt"] == "Zerowidth and non breaking spaces."
    assert texts["odd/new\nline.txt"] == "A newline in the file name."
    titles = dict(query(w, "SELECT path, title FROM articles"))
    assert titles["odd/bom.txt"] == "Headline"

    # Nothing is retried or re-reported: quarantined versions are in the ledger.
    again = _run(settings)
    assert again["status"] == "nothing_new" and again["files_quarantined"] == 0


def test_a_file_still_being_written_waits_for_the_next_run(tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "done.txt").write_text("Finished article.\n")
    growing = landing / "growing.txt"
    growing.write_text("Start of a long article.\n")
    old = time.time() - 60
    os.utime(landing / "done.txt", (old, old))
    stop = threading.Event()

    def keep_writing() -> None:
        with growing.open("a") as handle:
            while not stop.is_set():
                handle.write("More text arriving.\n")
                handle.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    settings = Settings(
        landing=landing, warehouse=tmp_path / "w.duckdb", reports=tmp_path / "r", settle_seconds=1
    )
    try:
        first = _run(settings)
    finally:
        stop.set()
        writer.join()
    assert first["files_settling"] == 1 and first["articles"] == 1
    assert query(settings.warehouse, "SELECT path FROM source_files") == [("done.txt",)]

    second = _run(settings)  # waits out the settle interval, then loads the finished file
    assert second["articles"] == 1 and second["files_settling"] == 0
    loaded = query(settings.warehouse, "SELECT n_chars FROM articles WHERE path = 'growing.txt'")
    assert loaded == [(len(growing.read_text()),)]
    assert _run(settings)["status"] == "nothing_new"
