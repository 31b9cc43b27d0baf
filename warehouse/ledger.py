"""The file ledger and the other facts a batch needs from the warehouse before it is built."""

from __future__ import annotations

import duckdb
import polars as pl

from transforms import schema as S
from warehouse.sql import fetch, staged


def read_ledger(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """PATH, SIZE, MTIME, SHA256, STATUS of every file version seen."""
    return fetch(con, "ledger_files")


def find_known_files(con: duckdb.DuckDBPyConnection, hashes: pl.Series) -> pl.DataFrame:
    """SHA256, first_path for the batch's file hashes already in the ledger."""
    with staged(con, hashes=hashes.unique().to_frame(S.SHA256)):
        return fetch(con, "known_file_hashes")


def find_known_paragraphs(con: duckdb.DuckDBPyConnection, hashes: pl.Series) -> pl.DataFrame:
    """PARAGRAPH_HASH, LANGUAGE of the batch's paragraphs that the warehouse already holds."""
    with staged(con, hashes=hashes.unique().to_frame(S.PARAGRAPH_HASH)):
        return fetch(con, "known_paragraph_hashes")


def find_latest_versions(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_KEY, EXTERNAL_ID, URL of a batch's records -> ARTICLE_KEY, VERSION,
    CONTENT_SHA256, EXTERNAL_ID, URL of every version of every article they may continue
    (same key, same external id or same url)."""
    with staged(con, keys=keys.select(S.ARTICLE_KEY, S.EXTERNAL_ID, S.URL).unique()):
        return fetch(con, "latest_versions")


def read_batch_history(con: duckdb.DuckDBPyConnection, n_batches: int) -> pl.DataFrame:
    """metric, value, batches: each metric's mean over the last `n_batches` published batches."""
    return fetch(con, "batch_history", {"n": n_batches})
