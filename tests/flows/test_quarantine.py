"""Quarantine you can act on: list, show and release set-aside files, with real flow runs.

One flow run (module fixture) quarantines a binary file holding terminal escape codes, two
empty files and an oversized one; each test works on its own copy of that warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.cli import main
from flows.settings import Settings
from tests.helpers import query, read_counts

pytestmark = pytest.mark.usefixtures("prefect_harness")

HOSTILE = b"Red alert\n\nThis text turns \x1b[31mred\x1b[0m and holds a \x00 NUL byte.\n"
BIG = "".join(
    f"Paragraph {n} of a long article, too long only for a strict file limit.\n\n"
    for n in range(40)
).encode()


def _run(settings: Settings) -> dict[str, object]:
    from flows.ingest import ingest

    return ingest(settings).as_dict()


def _settings(root: Path, landing: Path, **overrides: object) -> Settings:
    return Settings(
        landing=landing,
        warehouse=root / "w.duckdb",
        reports=root / "reports",
        settle_seconds=0,
        max_quarantined_share=1.0,
        **overrides,
    )


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`nutgraf ARGS` through the console script's entry point: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _listed(capsys: pytest.CaptureFixture[str], warehouse: Path, *flags: str) -> list[dict]:
    code, out, err = _cli(
        capsys, "quarantine", "list", "--warehouse", str(warehouse), "--format", "json", *flags
    )
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, object]]:
    """One published run that set four files aside: binary, two empty, oversized."""
    root = tmp_path_factory.mktemp("quarantine")
    landing = root / "landing"
    landing.mkdir()
    (landing / "good.txt").write_text("Good news\n\nThe council opened a new library.\n")
    (landing / "hostile.txt").write_bytes(HOSTILE)
    (landing / "empty.txt").write_bytes(b"")
    (landing / "blank.md").write_bytes(b" \n\n\t\n")
    (landing / "big.txt").write_bytes(BIG)
    settings = _settings(root, landing, max_file_bytes=len(BIG) - 1)
    return settings, _run(settings)


@pytest.fixture
def warehouse(first_run: tuple[Settings, dict[str, object]], tmp_path: Path) -> Path:
    """A copy of the first run's warehouse, for a test to change."""
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(first_run[0].warehouse, copy)
    return copy


def _ids_by_path(rows: list[dict]) -> dict[str, str]:
    return {row["path"]: row["id"] for row in rows}


def test_list_and_show_a_quarantined_file_with_its_excerpt_escaped(
    first_run: tuple[Settings, dict[str, object]], warehouse: Path, capsys
):
    settings, summary = first_run
    assert summary["status"] == "published" and summary["articles"] == 1
    rows = _listed(capsys, warehouse)
    reasons = {row["path"]: row["reason"] for row in rows}
    assert reasons == {
        "hostile.txt": "binary",
        "empty.txt": "empty",
        "blank.md": "empty",
        "big.txt": "oversized",
    }
    assert all(row["released_at"] is None and row["run"] == summary["run_id"] for row in rows)

    code, table, _ = _cli(capsys, "quarantine", "list", "--warehouse", str(warehouse))
    assert code == 0 and "hostile.txt" in table and "oversized" in table

    hostile = _ids_by_path(rows)["hostile.txt"]
    code, out, err = _cli(
        capsys,
        "quarantine",
        "show",
        hostile,
        "--warehouse",
        str(warehouse),
        "--landing",
        str(settings.landing),
    )
    assert code == 0, err
    assert "binary" in out and "NUL" in out  # the reason and its detail
    assert "turns \\x1b[31mred\\x1b[0m and holds a \\x00 NUL" in out
    assert "\x1b" not in out and "\x00" not in out  # nothing a terminal would act on

    code, out, _ = _cli(
        capsys,
        "quarantine",
        "show",
        hostile,
        "--warehouse",
        str(warehouse),
        "--landing",
        str(settings.landing.parent / "elsewhere"),
    )
    assert code == 0 and "no longer in the landing folder" in out


def test_a_released_file_loads_exactly_once_after_its_rule_is_relaxed(
    first_run: tuple[Settings, dict[str, object]], warehouse: Path, capsys
):
    settings = first_run[0].model_copy(
        update={"warehouse": warehouse, "max_file_bytes": len(BIG) * 2}
    )
    before = read_counts(warehouse)
    ids = _ids_by_path(_listed(capsys, warehouse))

    code, out, err = _cli(
        capsys, "quarantine", "release", ids["big.txt"], "--warehouse", str(warehouse)
    )
    assert code == 0, err
    assert "released 1 quarantined file" in out and "next `nutgraf run`" in out
    code, out, err = _cli(
        capsys, "quarantine", "release", ids["empty.txt"], "--warehouse", str(warehouse)
    )
    assert code == 0, err

    second = _run(settings)
    assert second["status"] == "published", second
    assert second["files_new"] == 1 and second["articles"] == 1, second
    # Still empty: set aside again, under a new quarantine row.
    assert [q["path"] for q in second["quarantined"]] == ["empty.txt"]
    after = read_counts(warehouse)
    assert after["articles"] == before["articles"] + 1
    assert query(warehouse, "SELECT count(*) FROM articles WHERE path = 'big.txt'") == [(1,)]
    waiting = _listed(capsys, warehouse)
    assert sorted(row["path"] for row in waiting) == ["blank.md", "empty.txt", "hostile.txt"]
    assert ids["empty.txt"] not in _ids_by_path(waiting).values()
    released = {row["id"] for row in _listed(capsys, warehouse, "--all") if row["released_at"]}
    assert released == {ids["big.txt"], ids["empty.txt"]}

    third = _run(settings)
    assert third["status"] == "nothing_new", third
    assert read_counts(warehouse)["articles"] == after["articles"]


def test_releasing_an_unknown_or_released_id_says_so(warehouse: Path, capsys):
    code, out, err = _cli(
        capsys, "quarantine", "release", "0123456789abcdef", "--warehouse", str(warehouse)
    )
    assert code == 2 and out == ""
    assert "no quarantined file has id '0123456789abcdef'" in err and "Traceback" not in err

    some_id = _listed(capsys, warehouse)[0]["id"]
    assert _cli(capsys, "quarantine", "release", some_id, "--warehouse", str(warehouse))[0] == 0
    code, out, _ = _cli(capsys, "quarantine", "release", some_id, "--warehouse", str(warehouse))
    assert code == 0 and "already released" in out and "nothing to do" in out


def test_release_all_of_one_reason_releases_only_that_reason(warehouse: Path, capsys):
    ledger_sql = "SELECT path FROM source_files WHERE released_at IS NOT NULL ORDER BY path"
    code, _, err = _cli(
        capsys, "quarantine", "release", "--all", "--reason", "emty", "--warehouse", str(warehouse)
    )
    assert code == 2 and "reason 'emty'" in err and "empty (2 waiting)" in err

    code, out, err = _cli(
        capsys, "quarantine", "release", "--all", "--reason", "empty", "--warehouse", str(warehouse)
    )
    assert code == 0, err
    assert "released 2 quarantined files" in out
    assert sorted(row["reason"] for row in _listed(capsys, warehouse)) == ["binary", "oversized"]
    assert query(warehouse, ledger_sql) == [("blank.md",), ("empty.txt",)]

    code, out, _ = _cli(
        capsys, "quarantine", "release", "--all", "--reason", "empty", "--warehouse", str(warehouse)
    )
    assert code == 0 and "nothing to release" in out
