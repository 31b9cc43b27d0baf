"""Find article files in the landing folder and pick the ones the ledger has not handled.

Listing costs one `stat` per file; bytes are read only for files whose (path, size, mtime)
the ledger does not already hold, so a tick with nothing new reads nothing.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

import polars as pl

from transforms import schema as S

DUPLICATE_OF = "duplicate_of"
FILE_TOUCHED = "touched"  # same path, same bytes, new mtime: nothing to load


def list_files(landing: Path, *, patterns: tuple[str, ...]) -> pl.DataFrame:
    """Every regular file under `landing` matching a pattern -> FILES without SHA256, by path.

    Hidden files and folders (a leading dot: editors' swap files, `.git`) are skipped.
    """
    paths: list[str] = []
    sizes: list[int] = []
    mtimes: list[float] = []
    for root, dirs, names in os.walk(landing):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if name.startswith(".") or not any(fnmatch.fnmatch(name, p) for p in patterns):
                continue
            full = Path(root) / name
            try:
                st = full.stat()
            except OSError:
                continue  # vanished between listing and stat: the next tick sees it or not
            if not stat.S_ISREG(st.st_mode):
                continue  # a FIFO or device named *.txt would block or never end on read
            paths.append(full.relative_to(landing).as_posix())
            sizes.append(st.st_size)
            mtimes.append(st.st_mtime)
    return pl.DataFrame(
        {S.PATH: paths, S.SIZE: sizes, S.MTIME: mtimes},
        schema={S.PATH: pl.String, S.SIZE: pl.Int64, S.MTIME: pl.Float64},
    ).sort(S.PATH)


def select_unseen(listed: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Listed files minus those whose path, size and mtime match a ledger row."""
    return listed.join(
        ledger.select(S.PATH, S.SIZE, S.MTIME), on=[S.PATH, S.SIZE, S.MTIME], how="anti"
    ).sort(S.PATH)


def classify_files(read: pl.DataFrame, known: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Read files (PATH, SHA256, REASON...) -> adds STATUS and duplicate_of.

    - same path and bytes as a ledger row: 'touched' (only its mtime changed);
    - bytes already in the ledger under another path, or earlier in this batch: 'duplicate';
    - a reason already set (unreadable, oversized, ...): 'quarantined';
    - otherwise 'new'.
    `known` is SHA256, first_path for hashes already in the ledger.
    """
    same_path = ledger.select(S.PATH, S.SHA256).with_columns(pl.lit(True).alias("_same"))
    ranked = (
        read.join(same_path, on=[S.PATH, S.SHA256], how="left")
        .join(known, on=S.SHA256, how="left")
        .with_columns(
            pl.col(S.PATH).first().over(S.SHA256, order_by=S.PATH).alias("_first_in_batch")
        )
    )
    return (
        ranked.with_columns(
            pl.when(pl.col("_same").fill_null(False))
            .then(pl.lit(FILE_TOUCHED))
            .when(pl.col(S.REASON).is_not_null())
            .then(pl.lit(S.FILE_QUARANTINED))
            .when(pl.col("first_path").is_not_null())
            .then(pl.lit(S.FILE_DUPLICATE))
            .when(pl.col("_first_in_batch") != pl.col(S.PATH))
            .then(pl.lit(S.FILE_DUPLICATE))
            .otherwise(pl.lit(S.FILE_NEW))
            .alias(S.STATUS),
        )
        .with_columns(
            pl.when(pl.col(S.STATUS) == S.FILE_DUPLICATE)
            .then(pl.coalesce("first_path", "_first_in_batch"))
            .otherwise(None)
            .alias(DUPLICATE_OF),
        )
        .drop("_same", "first_path", "_first_in_batch")
    )
