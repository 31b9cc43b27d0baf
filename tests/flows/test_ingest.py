"""End to end: real files, a real DuckDB file, real Prefect flow runs, real GX validations."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from flows.settings import Settings
from tests.helpers import SAMPLES, SEED, assert_table_counts, corpus, query, read_counts

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _settings(tmp_path: Path, landing: Path, **extra: object) -> Settings:
    # Test files are written a moment before the run: no need to wait for them to settle.
    extra.setdefault("settle_seconds", 0)
    return Settings(
        landing=landing,
        warehouse=tmp_path / "nutgraf.duckdb",
        reports=tmp_path / "reports",
        **extra,
    )


def _run(settings: Settings) -> dict[str, object]:
    from flows.ingest import ingest

    return ingest(settings).as_dict()


def test_seed_article_repeats_and_tags(tmp_path: Path, landing: Path):
    shutil.copy(SAMPLES / "seed" / SEED, landing / SEED)
    settings = _settings(tmp_path, landing)
    summary = _run(settings)
    assert summary["status"] == "published"
    w = settings.warehouse

    # The seed file holds 15 lines: 8 distinct paragraphs, then lines 2-8 again (7 repeats).
    assert_table_counts(w, {"articles": 1, "paragraphs": 8, "occurrences": 15})
    repeats = query(
        w,
        "SELECT position, repeat_of_position FROM occurrences WHERE kind = 'repeat' ORDER BY 1",
    )
    assert repeats == [(p, p - 7) for p in range(8, 15)]
    same = query(
        w,
        """SELECT count(*) FROM occurrences r JOIN occurrences f
           ON r.article_id = f.article_id AND f.position = r.repeat_of_position
           WHERE r.kind = 'repeat' AND f.paragraph_hash = r.paragraph_hash AND f.kind = 'first'""",
    )
    assert same == [(7,)]

    def values(tag_type: str) -> set[str]:
        rows = query(
            w, f"SELECT DISTINCT tag_value FROM paragraph_tags WHERE tag_type = '{tag_type}'"
        )
        return {r[0] for r in rows}

    assert {"Xi Jinping", "Donald Trump", "Vladimir Putin", "Mikhail Mishustin"} <= values("person")
    bare = query(w, "SELECT DISTINCT tag_value FROM paragraph_tags WHERE surface = 'Xi'")
    assert bare == [("Xi Jinping",)]  # the seed never says a bare "Putin": see the samples test
    assert {"CN", "RU", "US", "UA", "Beijing", "Moscow", "Washington"} <= values("place")
    cities = dict(
        query(w, "SELECT tag_value, country_code FROM paragraph_tags WHERE tag_detail = 'city'")
    )
    assert {cities["Beijing"], cities["Moscow"], cities["Washington"]} == {"CN", "RU", "US"}
    assert {"Kremlin", "Ministry of Foreign Affairs"} <= values("organisation")
    topics = values("topic")
    assert {"politics/diplomacy", "conflict-war-peace"} <= topics
    assert any(t.endswith("/trade") for t in topics)
    assert query(w, "SELECT DISTINCT language FROM articles") == [("en",)]
    assert values("language") == {"en"}


def test_samples_then_rerun_publishes_nothing(tmp_path: Path, sample_landing: Path):
    settings = _settings(tmp_path, sample_landing)
    first = _run(settings)
    assert first["status"] == "published" and first["gate"] == "passed"
    assert Path(str(first["report_path"])).is_file()
    # Every stage timed is measured in CPU seconds too, the search index apart from the
    # publish around it as for its wall time.
    cpu = first["cpu_seconds"]
    assert cpu.keys() == first["timings"].keys() >= {"tag", "publish", "search_index"}
    assert min(cpu.values()) >= 0 and sum(cpu.values()) > 0
    w = settings.warehouse
    bare = query(
        w,
        """SELECT DISTINCT surface, tag_value FROM paragraph_tags
           WHERE tag_type = 'person' AND surface IN ('Xi', 'Putin', 'President Xi')""",
    )
    assert {value for _, value in bare} == {"Xi Jinping", "Vladimir Putin"}
    assert {surface for surface, _ in bare} >= {"Putin"}
    enc = dict(query(w, "SELECT path, encoding FROM articles"))
    assert enc["valley-post/2026-11-04-flood-defences.txt"] == "cp1252"
    pound = query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%£2m%'")
    assert pound == [(1,)]  # the title is not a paragraph; one body paragraph mentions it
    title = query(w, "SELECT title FROM articles WHERE encoding = 'cp1252'")
    assert title == [("Council approves £2m flood defence plan",)]
    assert query(w, "SELECT path, reason_code FROM quarantine") == [
        ("valley-post/2026-11-05-placeholder.txt", "empty")
    ]
    # A paragraph syndicated from the port story into the markets story.
    assert query(w, "SELECT count(*) FROM syndication") == [(1,)]
    # Wrapped wire copy is re-joined into three paragraphs.
    wire = query(w, "SELECT n_paragraphs FROM articles WHERE path LIKE '%boj-wire.txt'")
    assert wire == [(3,)]
    # Offsets index the decoded text (CRLF read as LF).
    crlf = query(
        w,
        """SELECT o.char_start, o.char_end FROM occurrences o JOIN articles a USING (article_id)
           WHERE a.path = 'valley-post/2026-11-03-markets.txt' AND o.position = 0""",
    )
    text = (sample_landing / "valley-post/2026-11-03-markets.txt").read_text().replace("\r\n", "\n")
    start, end = crlf[0]
    assert text[start:end].startswith("Shares in London fell sharply")

    before = read_counts(w)
    # Rewriting a file with the same bytes is not a new version: only its mtime is noted.
    touched = sample_landing / "seed" / SEED
    os.utime(touched, (touched.stat().st_atime, touched.stat().st_mtime + 60))
    second = _run(settings)
    assert second["status"] == "nothing_new"
    assert second["files_touched"] == 1
    after = read_counts(w)
    assert after == {**before, "runs": before["runs"] + 1}
    ledger_mtime = query(w, f"SELECT mtime FROM source_files WHERE path = 'seed/{SEED}'")
    assert ledger_mtime == [(touched.stat().st_mtime,)]
    assert _run(settings)["files_touched"] == 0  # not even re-read now


def test_gate_failure_publishes_nothing(tmp_path: Path, sample_landing: Path):
    # A user rule file that maps a keyword to a topic outside the vocabulary: the gate must stop it.
    rules = tmp_path / "tags.toml"
    rules.write_text('[[topic]]\nkeyword = "strike"\ntopic = "labour-disputes-typo"\nweight = 5\n')
    settings = _settings(tmp_path, sample_landing, tags_file=rules)
    settings.warehouse.parent.mkdir(exist_ok=True)
    # Create the warehouse with one good article first so "unchanged" is not trivially empty.
    seed_only = tmp_path / "seed_only"
    seed_only.mkdir()
    shutil.copy(SAMPLES / "seed" / SEED, seed_only / SEED)
    _run(_settings(tmp_path, seed_only))
    before = read_counts(settings.warehouse)

    summary = _run(settings)
    assert summary["status"] == "gate_failed"
    assert any("tag_value_in_vocabulary[topic]" in name for name in summary["failed_checks"])
    after = read_counts(settings.warehouse)
    data_tables = (
        "source_files",
        "articles",
        "paragraphs",
        "occurrences",
        "paragraph_tags",
        "quarantine",
    )
    assert {t: after[t] for t in data_tables} == {t: before[t] for t in data_tables}
    assert after["runs"] == before["runs"] + 1
    assert after["dq_results"] > before["dq_results"]
    status = query(
        settings.warehouse,
        "SELECT status, gate_success, report_path FROM runs ORDER BY started_at DESC LIMIT 1",
    )
    assert status[0][:2] == ("gate_failed", False)
    report = Path(status[0][2])
    assert report.is_file() and "labour-disputes-typo" in report.read_text()
    # The files stay pending: with the rule fixed, the next run loads them.
    rules.write_text(
        '[[topic]]\nkeyword = "strike"\ntopic = "economy-business-finance"\nweight = 1\n'
    )
    assert _run(settings)["status"] == "published"


def test_bad_files_are_quarantined_and_the_rest_loads(tmp_path: Path, sample_landing: Path):
    bad = sample_landing / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00 zip bytes")
    (bad / "undecodable.txt").write_bytes(b"Headline\n\nBody with \x81\x8d bytes")
    mojibake = "Café déjà vu, naïve résumé – crème brûlée"
    (bad / "mojibake.txt").write_text(mojibake.encode().decode("cp1252"))
    (bad / "huge.txt").write_text("word " * 3000)
    settings = _settings(tmp_path, sample_landing, max_file_bytes=10_000)
    summary = _run(settings)
    assert summary["status"] == "published"
    reasons = {item["path"]: item["reason"] for item in summary["quarantined"]}
    assert reasons == {
        "bad/binary.txt": "binary",
        "bad/undecodable.txt": "undecodable",
        "bad/mojibake.txt": "mojibake",
        "bad/huge.txt": "oversized",
        "valley-post/2026-11-05-placeholder.txt": "empty",
    }
    w = settings.warehouse
    assert_table_counts(w, {"articles": 9, "quarantine": 5})  # the .jsonl sample holds two
    ledger = query(w, "SELECT status, count(*) FROM source_files GROUP BY 1 ORDER BY 1")
    assert ledger == [("duplicate", 1), ("loaded", 8), ("quarantined", 5)]
    # Quarantined versions are in the ledger: the next run does not retry or re-report them.
    again = _run(settings)
    assert again["status"] == "nothing_new" and again["quarantined"] == []


def test_too_many_bad_files_fail_the_batch(tmp_path: Path, landing: Path):
    shutil.copy(SAMPLES / "seed" / SEED, landing / SEED)
    for i in range(11):  # shares are judged from min_shape_files (10) files on
        (landing / f"empty-{i}.txt").write_text(" " * i + "\n")  # distinct bytes
    settings = _settings(tmp_path, landing)
    summary = _run(settings)
    assert summary["status"] == "gate_failed", summary
    # Eleven of twelve files hold no text: the batch's empty share names the reason.
    assert "batch_suite_v4.empty_article_share_at_most_max" in summary["failed_checks"], summary
    assert read_counts(settings.warehouse)["articles"] == 0


@pytest.mark.slow
def test_bbc_corpus_loads_once(tmp_path: Path):
    bbc = corpus("bbc")
    settings = _settings(tmp_path, bbc)
    summary = _run(settings)
    assert summary["status"] == "published", summary
    assert summary["files_seen"] == 2225
    assert summary["files_duplicate"] == 98
    w = settings.warehouse
    assert_table_counts(w, {"source_files": 2225, "articles": 2225 - 98, "quarantine": 0})
    assert query(w, "SELECT count(*) FROM source_files WHERE status = 'duplicate'") == [(98,)]
    assert query(
        w, "SELECT count(*) FROM source_files WHERE duplicate_of IS NULL AND status = 'duplicate'"
    ) == [(0,)]
    assert query(w, "SELECT encoding FROM articles WHERE path = 'sport/199.txt'") == [("cp1252",)]
    pound = query(
        w,
        """SELECT count(*) FROM article_text WHERE path = 'sport/199.txt' AND text LIKE '%£%'""",
    )
    assert pound[0][0] >= 1
    assert query(w, "SELECT count(*) FROM articles WHERE title IS NULL") == [(0,)]
    before = read_counts(w)
    again = _run(settings)
    assert again["status"] == "nothing_new"
    assert read_counts(w) == {**before, "runs": before["runs"] + 1}


@pytest.mark.parametrize("ahead", [False, True], ids=["one-by-one", "prepared-ahead"])
def test_a_failed_batch_keeps_the_batches_before_it(
    tmp_path: Path, sample_landing: Path, ahead: bool
):
    # Batches follow path order: harbour-times/* (4 files) first; seed/* and valley-post/*
    # second (its markets story mentions the FTSE); wire-desk/* third, being prepared ahead
    # (with prepare_ahead) when the second fails its gate.
    rules = tmp_path / "tags.toml"
    rules.write_text('[[topic]]\nkeyword = "FTSE"\ntopic = "not-in-vocabulary"\n')
    settings = _settings(
        tmp_path, sample_landing, batch_files=4, tags_file=rules, prepare_ahead=ahead
    )
    summary = _run(settings)
    assert summary["status"] == "gate_failed" and summary["batches"] == 1
    w = settings.warehouse
    loaded = {r[0].split("/")[0] for r in query(w, "SELECT path FROM articles")}
    assert loaded == {"harbour-times"}
    assert query(w, "SELECT status, batches FROM runs") == [("gate_failed", 1)]
    assert query(w, "SELECT DISTINCT batch FROM dq_results WHERE NOT success") == [(2,)]

    rules.write_text('[[topic]]\nkeyword = "FTSE"\ntopic = "economy-business-finance/markets"\n')
    again = _run(settings)
    assert again["status"] == "published" and again["files_new"] == 4  # the rest, once
    assert query(w, "SELECT count(*) FROM articles") == [(9,)]


def test_new_bytes_under_a_known_path_make_a_new_version(tmp_path: Path, landing: Path):
    story = landing / "story.txt"
    story.write_text("Headline\n\nFirst paragraph.\n\nSecond paragraph.\n")
    settings = _settings(tmp_path, landing)
    _run(settings)
    story.write_text("Headline, updated\n\nFirst paragraph.\n\nSecond paragraph, corrected.\n")
    os.utime(story, (time.time() + 5, time.time() + 5))  # a new mtime even on coarse clocks
    (landing / "z-copy.txt").write_bytes(story.read_bytes())  # same bytes, a later path
    summary = _run(settings)
    assert (summary["files_new"], summary["files_duplicate"]) == (1, 1)
    w = settings.warehouse
    versions = query(w, "SELECT version, title FROM articles WHERE path = 'story.txt' ORDER BY 1")
    assert versions == [(1, "Headline"), (2, "Headline, updated")]
    assert query(w, "SELECT version, title FROM current_articles") == [(2, "Headline, updated")]
    kinds = query(
        w,
        """SELECT o.position, o.kind FROM occurrences o JOIN articles a USING (article_id)
           WHERE a.version = 2 ORDER BY 1""",
    )
    assert kinds == [(0, "corpus"), (1, "first")]  # the unchanged paragraph was seen before
    # The file disappears from the landing folder: the warehouse keeps every version.
    story.unlink()
    assert _run(settings)["status"] == "nothing_new"
    assert query(w, "SELECT count(*) FROM articles WHERE path = 'story.txt'") == [(2,)]


def test_a_second_run_reads_no_unchanged_file(tmp_path: Path, sample_landing: Path):
    settings = _settings(tmp_path, sample_landing)
    assert _run(settings)["status"] == "published"
    # Any read of this file on the next run would fail and quarantine it: the ledger's
    # (path, size, mtime) must keep discovery from opening it at all.
    again = settings.model_copy(update={"fault_points": (f"eacces@read:seed/{SEED}",)})
    second = _run(again)
    assert second["status"] == "nothing_new" and second["files_quarantined"] == 0


@pytest.mark.slow
def test_a_benchmark_corpus_loads_as_its_manifest_says(tmp_path: Path):
    from bench.generate import disagreements, generate

    manifest = generate(tmp_path / "landing", 400, corpus("bbc"))
    settings = _settings(tmp_path, tmp_path / "landing")
    summary = _run(settings)
    assert summary["status"] == "published"
    assert manifest["duplicate_files"] and manifest["self_repeats"]  # the seed injects both
    assert disagreements(summary, manifest) == []
