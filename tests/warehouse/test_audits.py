"""Audits: each returns no row on a good publish and the breaking row when one is written
directly among the batch's rows; a publish that breaks one rolls back. A real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import run_record
from tests.warehouse.test_publish import DQ, _batch, _fresh
from transforms import schema as S
from warehouse.audits import EXAMPLES, find_violations, list_audits
from warehouse.connection import open_writer
from warehouse.errors import AuditFailed
from warehouse.publish import PublishBatch, publish_batch
from warehouse.queries import table_counts
from warehouse.sql import staged

_OCCURRENCE = (
    "INSERT INTO occurrences VALUES ('a1', {position}, '{hash}', {start}, {end}, 'first', NULL)"
)
_PARAGRAPH = (
    "INSERT INTO paragraphs VALUES ('{hash}', 'abc', 3, 1, 'en', 'a1', NULL, NULL, '{run}')"
)
_TAG = (
    "INSERT INTO paragraph_tags (paragraph_hash, tag_type, tag_value, tagger, tagger_version, "
    "run_id) VALUES ('{hash}', 'topic', 'economy', 'topics', 'topics_v1', '{run}')"
)
_ARTICLE = (
    "INSERT INTO articles (article_id, article_key, version, path, sha256, encoding, "
    "n_paragraphs, n_chars, run_id) VALUES ('{id}', '{id}', 1, 'b.txt', 's2', 'utf-8', 0, 0, "
    "'{run}')"
)

# audit -> (statement that breaks it for the batch of run r1, one breaking row as the audit
# returns it). The rows written directly belong to the batch: article a2 and the tag of "gone"
# are among the batch's keys (see _as_batch).
BREAKING = {
    "occurrences_without_paragraph": (
        _OCCURRENCE.format(position=1, hash="gone", start=4, end=7),
        {"article_id": "a1", "position": 1, "paragraph_hash": "gone"},
    ),
    "duplicate_paragraphs": (
        _PARAGRAPH.format(hash="h1", run="r1"),
        {"paragraph_hash": "h1", "copies": 2, "run_ids": ["r1", "r1"]},
    ),
    "paragraphs_without_occurrence": (
        _PARAGRAPH.format(hash="lonely", run="r1"),
        {"paragraph_hash": "lonely", "first_article_id": "a1"},
    ),
    "occurrence_offsets": (
        _OCCURRENCE.format(position=1, hash="h1", start=5, end=5),
        {"article_id": "a1", "position": 1, "char_start": 5, "char_end": 5},
    ),
    "articles_without_source_file": (
        _ARTICLE.format(id="a2", run="r1"),
        {"article_id": "a2", "path": "b.txt", "sha256": "s2"},
    ),
    "tags_without_paragraph": (
        _TAG.format(hash="gone", run="r1"),
        {"paragraph_hash": "gone"},
    ),
}


def test_every_audit_has_a_breaking_case():
    assert set(BREAKING) == set(list_audits())


@contextmanager
def _as_batch(
    con, batch: PublishBatch, articles: tuple[str, ...] = (), tags: tuple[str, ...] = ()
) -> Iterator[None]:
    """Stage `batch`'s keys (plus the given article ids and tagged hashes) as a publish does."""
    ids = pl.Series(S.ARTICLE_ID, [*batch.articles[S.ARTICLE_ID], *articles], pl.String)
    hashes = pl.Series(S.PARAGRAPH_HASH, [*batch.tags[S.PARAGRAPH_HASH], *tags], pl.String)
    with staged(
        con,
        articles=ids.to_frame(),
        paragraphs=batch.paragraphs.select(S.PARAGRAPH_HASH),
        tags=hashes.to_frame(),
    ):
        yield


def test_a_good_publish_breaks_no_audit(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        publish_batch(con, _batch(), run_record(run_id="r1"), DQ)
        publish_batch(con, _second_batch(), run_record(run_id="r2"), DQ)
        for batch in (_batch(), _second_batch()):
            with _as_batch(con, batch):
                assert find_violations(con) == {}


def _second_batch() -> PublishBatch:
    """A second article, b.txt, holding h1 (stored by r1) and a new paragraph h2."""
    first = _batch("h2")
    occurrences = pl.concat(
        [
            first.occurrences,
            first.occurrences.with_columns(
                pl.lit("h1").alias(S.PARAGRAPH_HASH),
                pl.lit(1).alias(S.POSITION),
                pl.lit(4).alias(S.CHAR_START),
                pl.lit(7).alias(S.CHAR_END),
                pl.lit("corpus").alias(S.KIND),
            ).pipe(S.conform, S.OCCURRENCES),
        ]
    ).with_columns(pl.lit("a2").alias(S.ARTICLE_ID))
    return replace(
        first,
        source_files=first.source_files.with_columns(path=pl.lit("b.txt"), sha256=pl.lit("s2")),
        articles=first.articles.with_columns(
            article_id=pl.lit("a2"),
            article_key=pl.lit("b.txt"),
            path=pl.lit("b.txt"),
            sha256=pl.lit("s2"),
        ),
        paragraphs=first.paragraphs.with_columns(pl.lit("a2").alias(S.ARTICLE_ID)),
        occurrences=occurrences,
        reordered=pl.DataFrame({S.PARAGRAPH_HASH: ["h1"]}),
    )


@pytest.mark.parametrize("audit", sorted(BREAKING))
def test_an_audit_returns_the_row_that_breaks_it(tmp_path: Path, audit: str):
    statement, row = BREAKING[audit]
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        publish_batch(con, _batch(), run_record(run_id="r1"), DQ)
        con.execute(statement)
        extra = {
            "articles_without_source_file": {"articles": ("a2",)},
            "tags_without_paragraph": {"tags": ("gone",)},
        }.get(audit, {})
        with _as_batch(con, _batch(), **extra):
            found = find_violations(con)
        # Scoped to the batch: another batch's audit does not see this one's rows.
        b = _batch()
        keyless = replace(
            b, articles=b.articles.clear(), paragraphs=b.paragraphs.clear(), tags=b.tags.clear()
        )
        with _as_batch(con, keyless):
            assert find_violations(con) == {}
    assert list(found) == [audit]
    assert found[audit].to_dicts() == [row]


def test_a_publish_that_breaks_an_audit_rolls_back(tmp_path: Path):
    path = _fresh(tmp_path)
    bad = _batch()
    # Five occurrences of a paragraph the batch does not store (nor does the warehouse).
    occurrences = pl.concat(
        bad.occurrences.with_columns(
            pl.lit("gone").alias(S.PARAGRAPH_HASH), pl.lit(i).alias(S.POSITION)
        ).pipe(S.conform, S.OCCURRENCES)
        for i in range(5)
    )
    with open_writer(path) as con:
        before = table_counts(con)
        with pytest.raises(AuditFailed) as failed:
            publish_batch(con, replace(bad, occurrences=occurrences), run_record(), DQ)
        assert table_counts(con) == before
    message = str(failed.value)
    assert "rolled back" in message
    assert "occurrences_without_paragraph (5 rows" in message
    assert "paragraphs_without_occurrence (1 rows" in message  # h1 now appears nowhere
    assert message.count("'paragraph_hash': 'gone'") == EXAMPLES
