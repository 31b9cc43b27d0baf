from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.helpers import run_record
from transforms import schema as S
from warehouse.connection import open_reader, open_writer
from warehouse.errors import ReadOnlyViolation, WarehouseError, WarehouseMissing
from warehouse.migrations import apply_migrations, list_migrations
from warehouse.publish import PublishBatch, publish_batch
from warehouse.queries import run_readonly_query, table_counts


def _batch(paragraph_hash: str = "h1") -> PublishBatch:
    return PublishBatch(
        source_files=pl.DataFrame(
            {
                "path": ["a.txt"],
                "sha256": ["s1"],
                "size": [3],
                "mtime": [1.0],
                "status": ["loaded"],
                "reason": [None],
                "duplicate_of": [None],
                "encoding": ["utf-8"],
            },
            schema_overrides={"reason": pl.String, "duplicate_of": pl.String},
        ),
        touched=pl.DataFrame(
            schema={"path": pl.String, "sha256": pl.String, "size": pl.Int64, "mtime": pl.Float64}
        ),
        articles=pl.DataFrame(
            {
                "article_id": ["a1"],
                "article_key": ["a.txt"],
                "version": [1],
                "path": ["a.txt"],
                "sha256": ["s1"],
                "title": [None],
                "encoding": ["utf-8"],
                "language": ["en"],
                "n_paragraphs": [1],
                "n_chars": [3],
            },
            schema_overrides={"title": pl.String},
        ).with_columns(
            pl.lit(None, dtype).alias(name)
            for name, dtype in S.ARTICLES.items()
            if name not in {"article_id", "article_key", "version", "path", "sha256", "title"}
            and name not in {"encoding", S.TEXT, S.TITLE_LINE}
        ),
        paragraphs=pl.DataFrame(
            {
                S.PARAGRAPH_HASH: [paragraph_hash],
                S.TEXT: ["abc"],
                S.N_CHARS: [3],
                S.N_WORDS: [1],
                S.ARTICLE_ID: ["a1"],
                S.LANGUAGE: ["en"],
            }
        ),
        occurrences=pl.DataFrame(
            {
                S.ARTICLE_ID: ["a1"],
                S.POSITION: [0],
                S.PARAGRAPH_HASH: [paragraph_hash],
                S.CHAR_START: [0],
                S.CHAR_END: [3],
                S.KIND: ["first"],
                S.REPEAT_OF: [None],
            },
            schema=S.OCCURRENCES,
        ),
        tags=S.empty(S.TAGS),
        quarantine=pl.DataFrame(
            schema={
                "quarantine_id": pl.String,
                S.PATH: pl.String,
                S.RECORD: pl.Int32,
                S.SHA256: pl.String,
                S.REASON: pl.String,
                S.DETAIL: pl.String,
                S.RULE: pl.String,
            }
        ),
        batch_metrics=pl.DataFrame({"metric": ["n_files"], "value": [1.0]}),
    )


DQ = pl.DataFrame(
    schema={
        "suite": pl.String,
        "expectation": pl.String,
        "column_name": pl.String,
        "severity": pl.String,
        "success": pl.Boolean,
        "observed": pl.String,
        "unexpected_count": pl.Int64,
        "examples": pl.String,
    }
)


def _fresh(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with open_writer(path) as con:
        assert apply_migrations(con) == [name for _, name, _ in list_migrations()]
        assert apply_migrations(con) == []  # applied once only
    return path


def test_publish_writes_every_table_in_one_go(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        publish_batch(con, _batch(), run_record(), DQ)
        counts = table_counts(con)
    assert counts["articles"] == counts["paragraphs"] == counts["occurrences"] == 1
    assert counts["source_files"] == counts["runs"] == 1


def test_failed_publish_rolls_back_everything(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        publish_batch(con, _batch(), run_record(run_id="r1"), DQ)
        before = table_counts(con)
        # The same paragraph hash again violates the primary key half-way through the batch.
        with pytest.raises(WarehouseError, match="rolled back"):
            publish_batch(con, _batch(), run_record(run_id="r2"), DQ)
        assert table_counts(con) == before


def test_reader_refuses_writes(tmp_path: Path):
    path = _fresh(tmp_path)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        run_readonly_query(path, "INSERT INTO runs (run_id) VALUES ('x')")
    with pytest.raises(ReadOnlyViolation):
        run_readonly_query(path, "DROP TABLE articles")
    with pytest.raises(ReadOnlyViolation, match="file system"):
        run_readonly_query(path, f"COPY runs TO '{tmp_path / 'out.csv'}'")
    assert not (tmp_path / "out.csv").exists()
    assert run_readonly_query(path, "SELECT count(*) AS n FROM runs").rows() == [(0,)]


def test_reader_needs_an_existing_file(tmp_path: Path):
    with pytest.raises(WarehouseMissing, match="nutgraf run"):
        with open_reader(tmp_path / "nope.duckdb"):
            pass


def test_extensions_are_never_auto_installed(tmp_path: Path):
    path = _fresh(tmp_path)
    with open_writer(path) as con:
        setting = con.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone()
    assert setting == (False,)
    assert isinstance(duckdb.__version__, str) and duckdb.__version__.startswith("1.5.5")


def test_the_writer_takes_the_memory_limit_it_is_given(tmp_path: Path):
    from flows.settings import Settings

    warehouse = tmp_path / "w.duckdb"
    limit = Settings().writer_memory_limit
    assert limit == "256MB"
    with open_writer(warehouse, memory_limit=limit) as con:
        capped = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    with open_writer(warehouse) as con:
        default = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert capped.replace(" ", "") in ("244.1MiB", "256.0MB") and capped != default
    with pytest.raises(WarehouseError, match="memory limit 'lots'"):
        with open_writer(warehouse, memory_limit="lots"):
            pass
