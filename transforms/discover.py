"""Find article files in the landing folder and pick the ones the ledger has not handled.

Listing costs one `stat` per file; bytes are read only for files whose (path, size, mtime)
the ledger does not already hold, so a tick with nothing new reads nothing.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms import schema as S

DUPLICATE_OF = "duplicate_of"
FILE_TOUCHED = "touched"  # same path, same bytes, new mtime: nothing to load


def list_files(
    landing: Path, *, patterns: tuple[str, ...], follow_symlinks: bool = False
) -> pl.DataFrame:
    """Every entry under `landing` matching a pattern -> PATH, SIZE, MTIME, REASON, DETAIL.

    Regular files get no reason. Entries that must not be read get one, so they are recorded
    rather than silently ignored: `not_a_file` (a folder, FIFO or device named like an
    article; a folder is still searched) and `outside_landing` (a symlink whose target lies
    outside the landing folder, unless `follow_symlinks`). Hidden names (a leading dot:
    editors' swap files, `.git`) are skipped.
    """
    root_real = landing.resolve()
    matches = re.compile("|".join(fnmatch.translate(p) for p in patterns)).match
    rows: list[tuple[str, int, float, str | None, str | None]] = []

    def visit(folder: str, prefix: str) -> None:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda e: e.name)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            rel = prefix + entry.name
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir:
                visit(entry.path, rel + "/")
            if not matches(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # vanished, or a dangling symlink: nothing there to load
            if entry.is_symlink() and not follow_symlinks:
                target = Path(entry.path).resolve()
                if not target.is_relative_to(root_real):
                    rows.append(
                        (
                            rel,
                            st.st_size,
                            st.st_mtime,
                            "outside_landing",
                            f"symlink to {target}, outside the landing folder; not followed "
                            "(setting follow_symlinks)",
                        )
                    )
                    continue
            if not stat.S_ISREG(st.st_mode):
                # A FIFO or device named *.txt would block or never end on read.
                kind = "folder" if stat.S_ISDIR(st.st_mode) else "special file"
                rows.append((rel, 0, st.st_mtime, "not_a_file", f"a {kind}, not an article file"))
                continue
            rows.append((rel, st.st_size, st.st_mtime, None, None))

    visit(str(landing), "")
    return pl.DataFrame(
        rows,
        schema={
            S.PATH: pl.String,
            S.SIZE: pl.Int64,
            S.MTIME: pl.Float64,
            S.REASON: pl.String,
            S.DETAIL: pl.String,
        },
        orient="row",
    ).sort(S.PATH)


def find_unsettled(listed: pl.DataFrame, *, now: float, settle_seconds: float) -> pl.DataFrame:
    """Files whose mtime is younger than `settle_seconds` (or in the future): maybe half-written."""
    age = now - pl.col(S.MTIME)
    return listed.filter((age < settle_seconds) & pl.col(S.REASON).is_null())


def plan_batches(files: pl.DataFrame, *, max_files: int, max_bytes: int) -> list[pl.DataFrame]:
    """Cut files (in path order) into batches of at most `max_files` files and about
    `max_bytes` bytes; a single file larger than `max_bytes` is a batch of its own."""
    if files.is_empty():
        return []
    numbered = files.sort(S.PATH).with_columns(
        (pl.int_range(pl.len()) // max_files).alias("_by_count"),
        ((pl.col(S.SIZE).cum_sum() - pl.col(S.SIZE)) // max(max_bytes, 1)).alias("_by_bytes"),
    )
    # A new batch starts whenever either bound rolls over.
    keyed = numbered.with_columns(
        (
            (pl.col("_by_count") != pl.col("_by_count").shift(1))
            | (pl.col("_by_bytes") != pl.col("_by_bytes").shift(1))
        )
        .fill_null(False)
        .cum_sum()
        .alias("_batch")
    )
    return [
        part.drop("_by_count", "_by_bytes", "_batch")
        for part in keyed.partition_by("_batch", maintain_order=True)
    ]


def select_unseen(listed: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Listed files minus those whose path, size and mtime match a ledger row."""
    return listed.join(
        ledger.select(S.PATH, S.SIZE, S.MTIME),
        on=[S.PATH, S.SIZE, S.MTIME],
        how="anti",
        nulls_equal=True,
    ).sort(S.PATH)


def classify_files(read: pl.DataFrame, known: pl.DataFrame, ledger: pl.DataFrame) -> pl.DataFrame:
    """Read files (PATH, SHA256, REASON...) -> adds STATUS and duplicate_of.

    A file version is its sha256, judged once: bytes the ledger already holds, or that an
    earlier path of this batch holds, are not judged again, whatever their reason now.
    - same path and bytes as a ledger row: 'touched' (only its mtime changed);
    - bytes already in the ledger under another path, or earlier in this batch: 'duplicate';
    - a reason already set (unreadable, oversized, empty, ...): 'quarantined';
    - otherwise 'new'.
    Touched and duplicate files lose their REASON and DETAIL: the first version's ledger and
    quarantine rows already say why its bytes were set aside (one quarantine row per version).
    Files never read (no SHA256) match nothing and keep their reason.
    `known` is SHA256, first_path for hashes already in the ledger.
    """
    same_path = ledger.select(S.PATH, S.SHA256).with_columns(pl.lit(True).alias("_same"))
    read_bytes = pl.col(S.SHA256).is_not_null()
    ranked = (
        read.join(same_path, on=[S.PATH, S.SHA256], how="left")
        .join(known, on=S.SHA256, how="left")
        .with_columns(
            pl.col(S.PATH).first().over(S.SHA256, order_by=S.PATH).alias("_first_in_batch")
        )
    )
    status = (
        pl.when(pl.col("_same").fill_null(False))
        .then(pl.lit(FILE_TOUCHED))
        .when(pl.col("first_path").is_not_null())
        .then(pl.lit(S.FILE_DUPLICATE))
        .when(read_bytes & (pl.col("_first_in_batch") != pl.col(S.PATH)))
        .then(pl.lit(S.FILE_DUPLICATE))
        .when(pl.col(S.REASON).is_not_null())
        .then(pl.lit(S.FILE_QUARANTINED))
        .otherwise(pl.lit(S.FILE_NEW))
    )
    seen_before = pl.col(S.STATUS).is_in([FILE_TOUCHED, S.FILE_DUPLICATE])
    return (
        ranked.with_columns(status.alias(S.STATUS))
        .with_columns(
            pl.when(pl.col(S.STATUS) == S.FILE_DUPLICATE)
            .then(pl.coalesce("first_path", "_first_in_batch"))
            .otherwise(None)
            .alias(DUPLICATE_OF),
            pl.when(~seen_before).then(pl.col(S.REASON)).alias(S.REASON),
            pl.when(~seen_before).then(pl.col(S.DETAIL)).alias(S.DETAIL),
        )
        .drop("_same", "first_path", "_first_in_batch")
    )


@dataclass
class Discovery:
    """What the landing folder holds that the ledger has not handled, cut into batches."""

    n_seen: int
    n_settling: int
    batches: list[pl.DataFrame]
    ledger: pl.DataFrame
