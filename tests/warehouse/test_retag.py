"""Versioned tags in the warehouse: migration 0009 on an existing warehouse, which rows
`current_tags` keeps, `tag_diff`, and the retag transaction. A real DuckDB file; rows are
written with SQL the way the ingest's publish writes them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transforms import schema as S
from transforms.retag import choose_taggers
from warehouse.connection import open_writer
from warehouse.errors import WarehouseError
from warehouse.migrations import apply_migrations
from warehouse.queries import table_counts
from warehouse.retag import (
    RetagChunk,
    RetagRun,
    count_paragraphs,
    publish_retag,
    read_current_versions,
    read_paragraph_page,
)

VERSIONS = {
    "entities": "entities_v2",
    "topics": "topics_v1",
    "language": "language_v1",
    "quality": "quality_v1",
}


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _at(minute: int) -> datetime:
    return datetime(2026, 11, 28, 10, minute, tzinfo=UTC)


def _ingest(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    started: datetime,
    texts: dict,
    tagger_versions: str | None = None,
) -> None:
    """What a published ingest run leaves: its run row (with `tagger_versions`, JSON, once
    migration 0009 made the column), one article, its new paragraphs and their tags.
    `texts`: text -> [(tag_type, tag_value, span_start, span_end, tagger, version)]."""
    con.execute(
        "INSERT INTO runs (run_id, started_at, finished_at, status, batches, landing, "
        "files_seen, files_new, files_duplicate, files_quarantined, articles, paragraphs_new, "
        "occurrences, tags) VALUES (?, ?, ?, 'published', 1, 'l', 1, 1, 0, 0, 1, ?, ?, 0)",
        [run_id, started, started, len(texts), len(texts)],
    )
    if tagger_versions is not None:
        con.execute(
            "UPDATE runs SET tagger_versions = ? WHERE run_id = ?", [tagger_versions, run_id]
        )
    article = f"a-{run_id}"
    con.execute(
        "INSERT INTO articles (article_id, article_key, version, path, sha256, encoding, "
        "language, n_paragraphs, n_chars, run_id) VALUES (?, ?, 1, ?, 's', 'utf-8', 'en', ?, 0, ?)",
        [article, article, f"{article}.txt", len(texts), run_id],
    )
    for position, (text, tags) in enumerate(texts.items()):
        con.execute(
            "INSERT INTO paragraphs (paragraph_hash, text, n_chars, n_words, language, "
            "first_article_id, run_id) VALUES (?, ?, ?, 1, 'en', ?, ?)",
            [_hash(text), text, len(text), article, run_id],
        )
        con.execute(
            "INSERT INTO occurrences (article_id, position, paragraph_hash, char_start, char_end,"
            " kind) VALUES (?, ?, ?, 0, 1, 'first')",
            [article, position, _hash(text)],
        )
        for tag_type, value, start, end, tagger, version in tags:
            con.execute(
                "INSERT INTO paragraph_tags (paragraph_hash, tag_type, tag_value, span_start, "
                "span_end, score, tagger, tagger_version, run_id) "
                "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
                [_hash(text), tag_type, value, start, end, tagger, version, run_id],
            )


V1 = '{"entities": "entities_v1", "language": "l1", "quality": "q1"}'
P1 = "Anna met Bob in Paris."
P2 = "Carla spoke to reporters in Rome."
P3 = "Ends."


def _tags(*rows: tuple) -> pl.DataFrame:
    """TAGS rows from (text, tag_type, tag_value, span_start, span_end, tagger, version)."""
    return pl.DataFrame(
        [
            {
                S.PARAGRAPH_HASH: _hash(text),
                S.TAG_TYPE: tag_type,
                S.TAG_VALUE: value,
                S.SPAN_START: start,
                S.SPAN_END: end,
                S.TAGGER: tagger,
                S.TAGGER_VERSION: version,
            }
            for text, tag_type, value, start, end, tagger, version in rows
        ],
        schema=S.TAGS,
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_a_warehouse_from_before_0009_migrates(tmp_path: Path):
    path = tmp_path / "old.duckdb"
    with open_writer(path) as con:
        assert apply_migrations(con, through=8)[-1] == "0008_source_records.sql"
        _ingest(
            con,
            "r1",
            _at(0),
            {
                P1: [
                    ("person", "Anna", 0, 4, "entities", "entities_v1"),
                    ("place", "FR", 16, 21, "entities", "entities_v1"),
                    ("language", "en", None, None, "language", "language_v1"),
                ]
            },
        )
        _ingest(con, "r2", _at(1), {P3: [("quality", "too_short", None, None, "quality", "q_v9")]})
        mentions = _rows(con, "SELECT * FROM entity_mentions ORDER BY ALL")
        co_mentions = _rows(con, "SELECT * FROM co_mentions ORDER BY ALL")
        tags = _rows(con, "SELECT * FROM paragraph_tags ORDER BY ALL")

        assert apply_migrations(con, through=9) == ["0009_tagger_versions.sql"]
        versions = dict(_rows(con, "SELECT run_id, tagger_versions::VARCHAR FROM runs"))
        import json

        # The versions a run's rows carry; for a tagger it wrote nothing of, the first ones.
        assert json.loads(versions["r1"]) == {
            "entities": "entities_v1",
            "topics": "topics_v1",
            "language": "language_v1",
            "quality": "quality_v1",
        }
        assert json.loads(versions["r2"])["quality"] == "q_v9"
        assert _rows(con, "SELECT * FROM current_tags ORDER BY ALL") == tags
        assert _rows(con, "SELECT * FROM entity_mentions ORDER BY ALL") == mentions
        assert _rows(con, "SELECT * FROM co_mentions ORDER BY ALL") == co_mentions
        assert _rows(con, "SELECT count(*) FROM retag_runs") == [(0,)]
        current = read_current_versions(con)
        stale = choose_taggers(current, versions=VERSIONS, requested=None, n_paragraphs=2)
        # entities_v1 is not the code's entities_v2; r2's quality is not quality_v1
        assert [c.tagger for c in stale] == ["entities", "quality"]
        assert stale[1].old_versions == ("q_v9", "quality_v1")


def _fresh(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with open_writer(path) as con:
        apply_migrations(con)
    return path


def _retag_run(run_id: str, tagger: str, version: str, minute: int, paragraphs: int, tags: int):
    return RetagRun(run_id, tagger, version, _at(minute), paragraphs, tags, None)


def test_current_tags_follow_the_latest_retag_that_covered_a_paragraph(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        _ingest(
            con,
            "r1",
            _at(0),
            {
                P1: [("person", "Anna", 0, 4, "entities", "entities_v1")],
                P3: [("person", "Ends", 0, 4, "entities", "entities_v1")],
            },
            V1,
        )
        # entities_v2 finds Bob where v1 found Anna, and nothing in "Ends."
        new = _tags((P1, "person", "Bob", 9, 12, "entities", "entities_v2"))
        publish_retag(
            con, [_retag_run("g1", "entities", "entities_v2", 5, 2, 1)], [RetagChunk(new, None)]
        )
        # r2 took its start time before g1 (it waited for the writer lock) and stored P2 after.
        carla = {P2: [("person", "Carla", 0, 5, "entities", "entities_v1")]}
        _ingest(con, "r2", _at(3), carla, V1)

        current = _rows(
            con,
            "SELECT paragraph_hash, tag_value, tagger_version, run_id FROM current_tags "
            "ORDER BY run_id",
        )
        assert current == [
            (_hash(P1), "Bob", "entities_v2", "g1"),
            (_hash(P2), "Carla", "entities_v1", "r2"),  # its own tags, though r2 started first
        ]
        assert _rows(con, "SELECT ingest_runs FROM retag_runs") == [(["r1"],)]
        diff = _rows(
            con,
            "SELECT paragraph_hash, tag_value, change "
            "FROM tag_diff('entities', 'entities_v1', 'entities_v2')",
        )
        assert diff == sorted(
            [
                (_hash(P1), "Anna", "removed"),
                (_hash(P1), "Bob", "added"),
                (_hash(P3), "Ends", "removed"),  # v2 tags nothing in "Ends.": a removal
            ]
        )  # P2 was never tagged with entities_v2: not compared
        current_versions = read_current_versions(con).filter(pl.col(S.TAGGER) == "entities")
        assert current_versions.rows() == [
            ("entities", "entities_v1", 1),
            ("entities", "entities_v2", 2),
        ]

        # A second retag covers r2 as well, and going back to v1 brings v1's rows back.
        again = _tags(
            (P1, "person", "Anna", 0, 4, "entities", "entities_v1"),
            (P2, "person", "Carla", 0, 5, "entities", "entities_v1"),
        )
        publish_retag(
            con, [_retag_run("g2", "entities", "entities_v1", 9, 3, 2)], [RetagChunk(again, None)]
        )
        current = _rows(con, "SELECT tag_value, run_id FROM current_tags ORDER BY tag_value")
        assert current == [("Anna", "g2"), ("Carla", "g2")]
        # the latest run of each version decides: g2 for v1, g1 for v2 (over r1 only)
        diff = _rows(
            con, "SELECT tag_value, change FROM tag_diff('entities', 'entities_v1', 'entities_v2')"
        )
        assert diff == [("Anna", "removed"), ("Bob", "added")]


def test_a_language_retag_rewrites_paragraphs_language_only(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        _ingest(con, "r1", _at(0), {P1: [("language", "en", None, None, "language", "l1")]}, V1)
        _ingest(con, "r2", _at(1), {P2: [("language", "en", None, None, "language", "l1")]}, V1)
        before = _rows(con, "SELECT * EXCLUDE (language) FROM paragraphs ORDER BY ALL")
        languages = pl.DataFrame(
            {S.PARAGRAPH_HASH: [_hash(P1), _hash(P2)], S.LANGUAGE: ["en", "it"]}
        )
        tags = _tags(
            (P1, "language", "en", None, None, "language", "l2"),
            (P2, "language", "it", None, None, "language", "l2"),
        )
        publish_retag(
            con, [_retag_run("g1", "language", "l2", 5, 2, 2)], [RetagChunk(tags, languages)]
        )
        assert _rows(con, "SELECT * EXCLUDE (language) FROM paragraphs ORDER BY ALL") == before
        assert dict(_rows(con, "SELECT text, language FROM paragraphs")) == {P1: "en", P2: "it"}
        rolled = _rows(con, "SELECT article_id, language, rank FROM article_languages ORDER BY 1")
        assert rolled == [("a-r1", "en", 1), ("a-r2", "it", 1)]


def test_pages_and_a_failed_retag_rolls_back(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        _ingest(con, "r1", _at(0), {P1: [], P2: [], P3: []}, V1)
        first = read_paragraph_page(con, after="", limit=2)
        rest = read_paragraph_page(con, after=first[S.PARAGRAPH_HASH][-1], limit=2)
        hashes = first[S.PARAGRAPH_HASH].to_list() + rest[S.PARAGRAPH_HASH].to_list()
        assert hashes == sorted(_hash(t) for t in (P1, P2, P3))
        assert first.columns == list(S.STORED_PARAGRAPHS)
        assert set(first[S.ARTICLE_LANGUAGE]) == {"en"}

        tags = _tags((P1, "quality", "all_caps", None, None, "quality", "q2"))
        publish_retag(con, [_retag_run("g1", "quality", "q2", 5, 3, 1)], [RetagChunk(tags, None)])
        before = table_counts(con)
        retags = _rows(con, "SELECT * FROM retag_runs")
        cases = [
            # the same run id again: refused at its first statement
            ([_retag_run("g1", "quality", "q3", 6, 3, 1)], "Constraint"),
            # the warehouse no longer holds the paragraphs the run counted
            ([_retag_run("g2", "quality", "q3", 6, 99, 1)], "holds 3 paragraphs"),
            # tags of a version the run is not
            ([_retag_run("g3", "quality", "q3", 6, 3, 1)], "stored 0 tags of the 1"),
        ]
        for runs, message in cases:
            with pytest.raises(WarehouseError, match=message):
                publish_retag(con, runs, [RetagChunk(tags, None)])
            assert table_counts(con) == before
            assert _rows(con, "SELECT * FROM retag_runs") == retags
        assert count_paragraphs(con) == 3
