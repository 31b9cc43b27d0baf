"""The benchmark's floor does the same core work as nutgraf on a generated corpus, and a
summary that contradicts the generator's manifest is caught (what makes `bench/run` fail)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench.generate import MANIFEST_CHECKS, disagreements, generate
from tests.helpers import corpus

FLOOR = Path(__file__).resolve().parents[2] / "bench" / "floor.py"


@pytest.mark.slow
def test_the_floor_keeps_every_first_occurrence_in_one_duckdb_file(tmp_path: Path):
    manifest = generate(tmp_path / "landing", 400, corpus("bbc"))
    warehouse = tmp_path / "floor.duckdb"
    done = subprocess.run(
        [sys.executable, str(FLOOR), str(tmp_path / "landing"), str(warehouse)],
        capture_output=True,
        text=True,
        check=True,
    )
    floor = json.loads(done.stdout)

    assert floor["files"] == manifest["files"]
    # The floor keeps titles as paragraphs and does not skip duplicate files: its first
    # occurrences are the generator's distinct paragraphs plus one title per loaded article
    # (this seed's titles are all different), cp1252 and CRLF files decoded like the rest.
    loaded = manifest["files"] - manifest["duplicate_files"] - manifest["empty_files"]
    assert floor["distinct"] == manifest["distinct_paragraphs"] + loaded
    assert floor["paragraphs"] > manifest["occurrences"] + loaded  # and the duplicates' copies
    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.sql("SELECT count(*), count(DISTINCT hash) FROM paragraphs").fetchone()
        occurrences = con.sql("SELECT count(*) FROM occurrences").fetchone()
    assert stored == (floor["distinct"], floor["distinct"])
    assert occurrences == (floor["paragraphs"],)


def test_a_count_that_contradicts_the_manifest_is_named():
    manifest = {known: 10 for known in MANIFEST_CHECKS.values()}
    agrees = {field: 10 for field in MANIFEST_CHECKS if field != "repeat"}
    agrees["occurrences_by_kind"] = {"repeat": 10}
    assert disagreements(agrees, manifest) == []

    wrong = agrees | {"paragraphs_new": 9}
    assert disagreements(wrong, manifest) == [
        "nutgraf paragraphs_new=9, generator distinct_paragraphs=10"
    ]
    missing = agrees | {"occurrences_by_kind": {}}
    assert disagreements(missing, manifest) == ["nutgraf repeat=0, generator self_repeats=10"]
