"""The least any such pipeline must do, as fast as we can do it: list, read, decode, split,
normalise, hash, mark first occurrences, write to DuckDB in one transaction.
Prints one JSON line: wall seconds and counts."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import unicodedata
from pathlib import Path

import duckdb
import polars as pl


def main(landing: Path, warehouse: Path) -> None:
    t0 = time.perf_counter()
    paths = [Path(r) / n for r, _, ns in os.walk(landing) for n in ns if n.endswith(".txt")]
    texts = []
    for p in paths:
        data = p.read_bytes()
        try:
            texts.append(data.decode())
        except UnicodeDecodeError:
            texts.append(data.decode("cp1252", errors="replace"))
    frame = pl.DataFrame({"path": [str(p) for p in paths], "text": texts})
    paras = (
        frame.with_columns(pl.col("text").str.replace_all("\r\n", "\n").str.split("\n\n"))
        .explode("text")
        .with_columns(pl.int_range(pl.len()).over("path").alias("position"))
        .with_columns(
            pl.col("text")
            .map_batches(
                lambda s: pl.Series([unicodedata.normalize("NFKC", t) for t in s.to_list()]),
                return_dtype=pl.String,
            )
            .str.replace_all(r"\s\s+|[^\S ]", " ")
            .str.strip_chars()
        )
        .filter(pl.col("text") != "")
        .with_columns(
            pl.col("text")
            .map_batches(
                lambda s: pl.Series([hashlib.sha256(t.encode()).hexdigest() for t in s]),
                return_dtype=pl.String,
            )
            .alias("hash")
        )
        .with_columns(pl.col("path").cum_count().over("hash").eq(1).alias("first"))
    )
    firsts = paras.filter("first").select("hash", "text")
    con = duckdb.connect(str(warehouse))
    con.execute("BEGIN")
    con.execute("CREATE TABLE paragraphs AS SELECT * FROM firsts")
    con.execute("CREATE TABLE occurrences AS SELECT path, position, hash FROM paras")
    con.execute("COMMIT")
    con.close()
    wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "wall": round(wall, 2),
                "files": len(paths),
                "paragraphs": paras.height,
                "distinct": firsts.height,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
