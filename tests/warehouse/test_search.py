"""Full-text search: the BM25 index each publish keeps in step, when it is rebuilt instead, the
`search_paragraphs` macro, and `nutgraf search`. A real warehouse built by real ingest flow
runs over the bundled samples, a real DuckDB file, the real fts extension, real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from tests.helpers import CORPORA, SAMPLES, corpus, flow_settings, query, run_ingest
from warehouse.connection import open_reader, open_writer
from warehouse.errors import ReadOnlyViolation, WarehouseError
from warehouse.lock import writer_lock
from warehouse.queries import run_readonly_query
from warehouse.search import (
    INDEX_SLICE,
    INDEX_VERSION,
    STEMMER,
    STOPWORDS,
    ensure_index,
    fts_extension_path,
    read_status,
    search_paragraphs,
)

ROOT = Path(__file__).resolve().parents[2]
SUMMIT = "harbour-times/2026-11-07-summit.txt"
SEED = "seed/000_8ab4b52764c9943c.txt"
STRIKE = "harbour-times/2026-11-02-port-strike.txt"
NEW_STORY = (
    "Wind farm deal signed\n\n"
    "Norway and Poland signed an offshore wind agreement on Tuesday, the first of its kind "
    "between the two governments.\n"
)


@pytest.fixture(scope="module")
def samples_warehouse(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    """A warehouse one real ingest run built from the bundled samples (read, never changed:
    tests that write work on a copy, see `copy_of`)."""
    folder = tmp_path_factory.mktemp("search")
    landing = folder / "landing"
    shutil.copytree(SAMPLES, landing)
    summary = run_ingest(flow_settings(folder, landing))
    assert summary["status"] == "published"
    # The publish built it over the empty warehouse's first batch: fresh at the end of the run.
    assert summary["search_index"]["status"] == "fresh", summary["search_index"]
    assert "search_index" in summary["timings"]
    return folder / "nutgraf.duckdb"


def copy_of(warehouse: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the samples warehouse and of its landing folder (mtimes kept, so the ledger
    still knows every file): a later run there loads only what a test adds."""
    landing = tmp_path / "landing"
    shutil.copytree(warehouse.parent / "landing", landing)
    shutil.copy2(warehouse, tmp_path / warehouse.name)
    return tmp_path / warehouse.name, landing


def nutgraf(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`nutgraf ARGS` as a separate process, without the caller's Prefect or nutgraf settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NUTGRAF_"))}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def built_at(warehouse: Path) -> list[tuple]:
    """Every recorded build: (built_at, paragraphs, trigger)."""
    return query(warehouse, "SELECT built_at, paragraphs, trigger FROM search_index ORDER BY 1")


def test_search_finds_the_paragraph_with_its_article_and_tags(samples_warehouse: Path):
    hits = search_paragraphs(samples_warehouse, "energy cooperation", limit=10)
    top = hits.row(0, named=True)
    assert "Industry-specific cooperation, including energy" in top["text"]
    assert top["rank"] == 1 and top["score"] > hits["score"][1]
    assert top["path"] == SEED and top["source"] == "seed"
    # The seed article repeats its paragraphs once; no other article has this one.
    assert (top["other_occurrences"], top["other_articles"]) == (1, 0)
    assert "Xi Jinping" in top["people"] and "CN" in top["places"]
    assert "cooperation" in top["excerpt"]
    summit = hits.filter(hits["path"] == SUMMIT).row(0, named=True)
    assert summit["title"] == "Leaders meet in Moscow as grain deal wavers"
    assert summit["source"] == "harbour-times" and str(summit["published_at"])[:10] == "2026-11-07"
    assert {"Vladimir Putin", "Xi Jinping"} <= set(summit["people"])
    assert "energy exports" in summit["excerpt"]
    # Stemming: another form of the word finds the same paragraph.
    assert (
        search_paragraphs(samples_warehouse, "cooperating", limit=10)["text"]
        .str.contains("Industry-specific cooperation")
        .any()
    )


def test_a_syndicated_paragraph_names_its_first_article_and_counts_the_copy(
    samples_warehouse: Path,
):
    hits = search_paragraphs(samples_warehouse, "container traffic halted", limit=3)
    top = hits.row(0, named=True)
    assert top["text"].startswith("The strike halted most container traffic")
    # First published in the port-strike story (2 November); the markets story (3 November)
    # ran it again.
    assert top["path"] == STRIKE and top["source"] == "harbour-times"
    assert (top["other_occurrences"], top["other_articles"]) == (1, 1)


def test_limit_all_words_and_no_match(samples_warehouse: Path):
    ten = search_paragraphs(samples_warehouse, "Putin Xi", limit=10)
    two = search_paragraphs(samples_warehouse, "Putin Xi", limit=2)
    assert ten.height > 2 and two.height == 2
    assert two["paragraph_hash"].to_list() == ten["paragraph_hash"].head(2).to_list()
    both = search_paragraphs(samples_warehouse, "Putin Xi", limit=10, all_words=True)
    assert 0 < both.height < ten.height
    assert both["text"].str.contains("Putin").all() and both["text"].str.contains("Xi").all()
    assert search_paragraphs(samples_warehouse, "zqxjv", limit=10).is_empty()
    assert search_paragraphs(samples_warehouse, "the and of", limit=10).is_empty()  # stopwords


def test_plain_sql_macro_and_match_bm25_through_a_reader(samples_warehouse: Path, tmp_path: Path):
    first = search_paragraphs(samples_warehouse, "grain", limit=5)
    rows = query(
        samples_warehouse,
        "SELECT paragraph_hash, path FROM search_paragraphs('grain') LIMIT 5",
    )
    assert [r[0] for r in rows] == first["paragraph_hash"].to_list()
    scored = query(
        samples_warehouse,
        "SELECT paragraph_hash FROM (SELECT paragraph_hash, "
        "fts_main_paragraphs.match_bm25(paragraph_hash, 'grain') AS score FROM paragraphs) "
        "WHERE score IS NOT NULL ORDER BY score DESC, paragraph_hash",
    )
    assert [r[0] for r in scored] == first["paragraph_hash"].to_list()
    # The reader that loaded the extension still cannot touch files.
    leak = tmp_path / "leak.csv"
    with pytest.raises(ReadOnlyViolation):
        run_readonly_query(
            samples_warehouse, f"COPY (SELECT * FROM search_paragraphs('grain')) TO '{leak}'"
        )
    assert not leak.exists()
    with open_reader(samples_warehouse, extensions=(fts_extension_path(),)) as con:
        with pytest.raises(Exception, match="disabled"):
            con.execute("SELECT * FROM read_text('/etc/hostname')")
        with pytest.raises(Exception, match="[Cc]annot enable external access"):
            con.execute("SET enable_external_access = true")
    # What the index records is what it was built with.
    status = query(
        samples_warehouse,
        "SELECT index_version, stemmer, stopwords, fresh FROM search_index_status",
    )
    assert status == [(INDEX_VERSION, STEMMER, STOPWORDS, True)]
    macro = query(
        samples_warehouse,
        "SELECT macro_definition FROM duckdb_functions() "
        "WHERE schema_name = 'fts_main_paragraphs' AND function_name = 'match_bm25'",
    )
    assert f"'{STEMMER}'" in macro[0][0]


def test_a_query_before_any_index_says_how_to_build_it(tmp_path: Path):
    from warehouse.migrations import apply_migrations

    warehouse = tmp_path / "empty.duckdb"
    with open_writer(warehouse) as con:
        apply_migrations(con)
    with pytest.raises(WarehouseError, match="nutgraf search"):
        run_readonly_query(warehouse, "SELECT * FROM search_paragraphs('grain')")
    assert not read_status(warehouse).fresh


SCORED_QUERIES = ("energy cooperation", "grain", "offshore wind Norway", "Putin Xi", "strike")


def scores(warehouse: Path) -> dict[str, list[tuple[str, float]]]:
    """Each query's hits with their BM25 scores (rounded past float noise)."""
    return {
        q: [
            (h, round(v, 9))
            for h, v in search_paragraphs(warehouse, q, limit=50)
            .select("paragraph_hash", "score")
            .rows()
        ]
        for q in SCORED_QUERIES
    }


@pytest.mark.slow
def test_publishes_keep_the_index_in_step_and_a_stale_one_is_rebuilt_after_the_run(
    samples_warehouse: Path, tmp_path: Path
):
    warehouse, landing = copy_of(samples_warehouse, tmp_path)
    first = built_at(warehouse)
    assert len(first) == 1 and first[0][2] == "publish"
    with writer_lock(warehouse, timeout=10), open_writer(warehouse) as con:
        again = ensure_index(con)
    assert not again.rebuilt and built_at(warehouse) == first  # fresh: not rebuilt

    settings = flow_settings(tmp_path, landing)
    nothing = run_ingest(settings)
    assert nothing["status"] == "nothing_new"
    assert nothing["search_index"] == {"status": "skipped", "reason": "nothing published"}
    assert built_at(warehouse) == first

    # A new story: its publish extends the index in the same transaction.
    (landing / "wind.txt").write_text(NEW_STORY)
    summary = run_ingest(settings)
    assert summary["status"] == "published" and summary["paragraphs_new"] == 1
    assert summary["search_index"]["status"] == "fresh"
    builds = built_at(warehouse)
    assert [b[2] for b in builds] == ["publish", "publish"] and builds[1][0] > first[0][0]
    assert builds[1][1] == first[0][1] + 1
    assert read_status(warehouse).fresh
    hits = search_paragraphs(warehouse, "offshore wind Norway", limit=1)
    assert hits["path"].to_list() == ["wind.txt"]

    # The extended index scores every query as a full rebuild over the same paragraphs does.
    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy2(warehouse, rebuilt)
    with open_writer(rebuilt) as con:
        con.execute("DROP SCHEMA fts_main_paragraphs CASCADE")
        assert ensure_index(con).rebuilt
    assert scores(rebuilt) == scores(warehouse)

    # A run with the setting off leaves the index stale; the next run rebuilds it at its end.
    (landing / "solar.txt").write_text("Solar tariff\n\nSpain cut its solar feed-in tariff.\n")
    off = run_ingest(flow_settings(tmp_path, landing, search_index=False))
    assert off["search_index"] == {"status": "skipped", "reason": "setting search_index is off"}
    assert not read_status(warehouse).fresh and len(built_at(warehouse)) == 2
    (landing / "hydro.txt").write_text("Hydro dam\n\nNorway opened a hydro dam in Telemark.\n")
    on = run_ingest(settings)
    assert on["search_index"]["status"] == "built"
    assert [b[2] for b in built_at(warehouse)] == ["publish", "publish", "run"]
    assert read_status(warehouse).fresh
    assert search_paragraphs(warehouse, "solar tariff", limit=1)["path"].to_list() == ["solar.txt"]


@pytest.mark.slow
def test_a_failed_index_build_does_not_fail_the_run_and_search_rebuilds_it(
    samples_warehouse: Path, tmp_path: Path
):
    warehouse, landing = copy_of(samples_warehouse, tmp_path)
    (landing / "wind.txt").write_text(NEW_STORY)
    missing = tmp_path / "no-such-fts.duckdb_extension"
    summary = run_ingest(flow_settings(tmp_path, landing, fts_extension=missing))
    assert summary["status"] == "published" and summary["paragraphs_new"] == 1
    assert summary["search_index"]["status"] == "failed"
    assert str(missing) in summary["search_index"]["error"]
    assert query(warehouse, "SELECT count(*) FROM articles WHERE path = 'wind.txt'") == [(1,)]
    status = read_status(warehouse)
    assert not status.fresh and status.exists  # the old index stays, stale
    before = search_paragraphs(warehouse, "offshore wind Norway", limit=5)
    assert "wind.txt" not in before["path"].to_list()

    done = nutgraf("search", "offshore wind Norway", "--warehouse", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "stale" in done.stderr and "indexed in" in done.stderr
    assert done.stdout.splitlines()[1].split()[-1] == "wind.txt", done.stdout
    assert "fresh" in done.stdout.splitlines()[0]
    assert [row[2] for row in built_at(warehouse)] == ["publish", "search"]


def test_cli_search_limit_json_no_match_and_usage(
    samples_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    args = ("--warehouse", str(samples_warehouse))
    done = nutgraf("search", "energy cooperation", "--limit", "2", *args, cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith('the best 2 paragraphs for "energy cooperation"'), lines[0]
    assert "fresh" in lines[0]
    assert lines[1].split()[:1] == ["1."] and lines[1].split()[-1] == SEED
    assert "Industry-specific cooperation, including energy" in done.stdout
    assert "person Xi Jinping" in done.stdout and "1 other occurrence" in done.stdout
    assert sum(line.lstrip()[:3] in ("1. ", "2. ", "3. ") for line in lines) == 2

    # The same entry point in this process: cheaper than a process per case.
    assert main(["search", "Rotterdam", "--json", *args]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["index"]["fresh"] and body["note"] is None
    assert body["results"][0]["path"] == STRIKE and "Rotterdam" in body["results"][0]["places"]
    assert main(["search", "zqxjv", *args]) == 0
    assert capsys.readouterr().out.startswith('no paragraph matches for "zqxjv"')
    assert main(["search", "grain", "--limit", "0", *args]) == 2
    assert "--limit" in capsys.readouterr().err


def test_cli_search_while_a_run_writes_uses_the_index_it_has(
    samples_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    warehouse, _ = copy_of(samples_warehouse, tmp_path)
    with open_writer(warehouse) as con:  # stale: a paragraph the index has not seen
        con.execute(
            "INSERT INTO paragraphs (paragraph_hash, text, n_chars, n_words, first_article_id, "
            "run_id) SELECT 'f00d', 'grain silos', 11, 2, min(article_id), 'zz-later-run' "
            "FROM articles"
        )
    with writer_lock(warehouse, timeout=10):  # held here as a run holds it
        busy = nutgraf("search", "grain", "--warehouse", str(warehouse), cwd=tmp_path)
    assert busy.returncode == 0, busy.stderr
    assert "busy" in busy.stderr and "may miss the newest paragraphs" in busy.stderr
    assert SUMMIT in busy.stdout and "stale" in busy.stdout.splitlines()[0]
    assert len(built_at(warehouse)) == 1  # not rebuilt

    with open_writer(warehouse) as con:  # no index at all, and busy: nothing to search
        con.execute("DROP SCHEMA fts_main_paragraphs CASCADE")
    with writer_lock(warehouse, timeout=10):  # a second open file: flock refuses it too
        assert main(["search", "grain", "--warehouse", str(warehouse)]) == 75
    assert "no search index yet" in capsys.readouterr().err


def paragraph_texts() -> list[str]:
    """Distinct paragraphs of the bundled samples and, when present, of the multilingual
    corpus (accents, Chinese, Khmer, zero-width spaces): what the tokenizer has to get right."""
    files = sorted(SAMPLES.rglob("*.txt"))
    if (CORPORA / "multilingual").is_dir():
        files += sorted((CORPORA / "multilingual").rglob("*"))[:120]
    texts = []
    for path in files:
        if path.is_file():
            raw = path.read_bytes().decode("utf-8", errors="replace")
            texts += [t.strip() for t in raw.replace("\r\n", "\n").split("\n") if t.strip()]
    return list(dict.fromkeys(texts))


def index_content(con) -> dict[str, object]:
    """The index by paragraph and term, whatever ids it gave them."""
    s = "fts_main_paragraphs"
    return {
        "stats": con.execute(f"SELECT num_docs, round(avgdl, 9) FROM {s}.stats").fetchall(),
        "dict": sorted(con.execute(f"SELECT term, df FROM {s}.dict").fetchall()),
        "docs": sorted(con.execute(f"SELECT name, len FROM {s}.docs").fetchall()),
        "terms": sorted(
            con.execute(
                f"SELECT d.name, t.term, count(*) FROM {s}.terms x JOIN {s}.docs d USING (docid) "
                f"JOIN {s}.dict t USING (termid) GROUP BY ALL"
            ).fetchall()
        ),
    }


ODD_TEXTS = [
    "ΣΟΦΟΣ ΛΌΓΟΣ σοφός",  # a word-final capital sigma
    "a\u00a0b c\u000bd e\u200bf",  # no-break, vertical tab and zero-width space
    "\u212a\u212b elvin \u2126hm",  # Kelvin, Angstrom and Ohm signs decompose
    "한국어 텍스트",  # Hangul: decomposed and composed again
    "ﬁne ＡＢＣ ①②",  # compatibility characters are not decomposed
    "naïve café Ångström İstanbul ǅemal",
    "emoji 😀x 👍🏽thumb",
    "ខ្មែរ ភាសា",  # Khmer vowel signs are marks
    "  lead\ttrail\r\n  x—y–z «quoted» 1,000.5 G20 l'été",
    "",
]


def test_index_words_cut_text_as_the_index_tokenize_macro_does(tmp_path: Path):
    import polars as pl

    from warehouse.connection import load_extension
    from warehouse.migrations import apply_migrations
    from warehouse.search import index_words

    texts = paragraph_texts() + ODD_TEXTS
    docs = pl.DataFrame({"text": texts}).with_row_index("docid")
    ours = (
        index_words(docs.lazy())
        .group_by("docid")
        .agg(pl.col("w"))
        .collect()
        .rows_by_key("docid", unique=True)
    )
    with open_writer(tmp_path / "w.duckdb") as con:
        apply_migrations(con)
        load_extension(con, fts_extension_path())
        ensure_index(con)  # the tokenize macro comes with the index
        theirs = dict(
            con.execute(
                "SELECT docid, list_filter(fts_main_paragraphs.tokenize(text), w -> len(w) > 0) "
                "FROM docs",
            ).fetchall()
        )
    for docid, text in enumerate(texts):
        assert ours.get(docid, ([],))[0] == theirs[docid], text
    odd = len(texts) - len(ODD_TEXTS)
    assert theirs[odd] == ["σοφοσ", "λογοσ", "σοφος"]
    assert theirs[odd + 1] == ["a\u00a0b", "c\u000bd", "e\u200bf"]
    assert theirs[odd + 8][:3] == ["lead", "trail", "x"]


@pytest.mark.parametrize("slice_size", [7, INDEX_SLICE], ids=["slices-of-7", "one-slice"])
def test_an_index_extended_batch_by_batch_equals_one_built_at_once(tmp_path: Path, slice_size):
    """Three publishes extend the index; with slices of 7 paragraphs a word new to the index
    comes back in later slices of the same publish, and must keep the term id it got first."""
    import hashlib

    import polars as pl

    from warehouse.connection import load_extension
    from warehouse.migrations import apply_migrations
    from warehouse.search import keep_in_step, prepare_in_step, publish_plan
    from warehouse.sql import staged

    corpus("multilingual")  # the samples alone hold too few paragraphs for three publishes
    texts = paragraph_texts()
    assert len(texts) > 60
    frame = pl.DataFrame(
        {"paragraph_hash": [hashlib.sha256(t.encode()).hexdigest() for t in texts], "text": texts}
    )
    warehouse = tmp_path / "kept.duckdb"
    plans = []
    with open_writer(warehouse) as con:
        apply_migrations(con)
        load_extension(con, fts_extension_path())
        for number, chunk in enumerate(frame.iter_slices(len(texts) // 3 + 1)):
            con.execute("BEGIN TRANSACTION")
            plans.append(publish_plan(con))
            prepare_in_step(con, plans[-1])
            with staged(con, paragraphs=chunk):
                con.execute(
                    "INSERT INTO paragraphs (paragraph_hash, text, n_chars, n_words, "
                    "first_article_id, run_id) SELECT paragraph_hash, text, length(text), 1, "
                    "'a', $run FROM staged_paragraphs",
                    {"run": f"run-{number}"},
                )
                keep_in_step(con, chunk, slice_size=slice_size)
            con.execute("COMMIT")
        kept = index_content(con)
    assert plans == ["create", "extend", "extend"]
    assert read_status(warehouse).fresh

    whole = tmp_path / "whole.duckdb"
    shutil.copy2(warehouse, whole)
    with open_writer(whole) as con:
        con.execute("DROP SCHEMA fts_main_paragraphs CASCADE")
        assert ensure_index(con).rebuilt
        assert index_content(con) == kept
    assert kept["stats"][0][0] == len(texts)
    for q in ("gilets jaunes", "Macron", "grain strike", "manifestación", "黄背心"):
        assert search_paragraphs(whole, q, limit=20).select("paragraph_hash", "score").rows() == (
            search_paragraphs(warehouse, q, limit=20).select("paragraph_hash", "score").rows()
        )


def test_an_index_whose_statistics_lag_its_documents_fails_the_check(tmp_path: Path):
    """The publish's guard: stale BM25 statistics (an empty index's (0, NULL) after documents
    were added) raise AuditFailed, which rolls the batch back."""
    from warehouse.connection import load_extension
    from warehouse.errors import AuditFailed
    from warehouse.migrations import apply_migrations
    from warehouse.search import _check_stats

    with open_writer(tmp_path / "w.duckdb") as con:
        apply_migrations(con)
        load_extension(con, fts_extension_path())
        ensure_index(con)
        _check_stats(con)  # an empty index: (0, NULL) is right
        con.execute("INSERT INTO fts_main_paragraphs.docs VALUES (0, 'h', 3)")
        with pytest.raises(AuditFailed, match="statistics were not updated"):
            _check_stats(con)
        con.execute("UPDATE fts_main_paragraphs.stats SET num_docs = 1, avgdl = 3.0")
        _check_stats(con)
