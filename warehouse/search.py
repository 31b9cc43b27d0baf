"""Full-text search over paragraph text: a BM25 index built by DuckDB's fts extension.

The index (schema `fts_main_paragraphs`) is a snapshot: `create_fts_index` copies the terms of
every paragraph and never follows later inserts, and a rebuild costs in proportion to the whole
warehouse. So a publish keeps a fresh index in step instead: inside the publish transaction it
adds the batch's new paragraphs to the index's tables, a slice at a time
(sql/insert_search_terms.sql, sql/extend_search_index.sql; the cost follows the batch, so a 1%
run pays for its 1%), or creates the index when the warehouse was empty. A full rebuild
happens only when the index is stale for another reason (none yet on a filled warehouse, built
by older code, or runs made with the setting off), after the publishes, never inside one. Every
build and extension is recorded in `search_index` in its own transaction. Paragraphs are only
ever added, never rewritten or deleted, so the index covers the warehouse exactly while the
paragraph count and the latest run that stored paragraphs are those of its latest record.

The extension is loaded from the file the `duckdb-extension-fts` wheel ships (signed, so
DuckDB loads it offline); it is never installed from the network.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from warehouse.connection import load_extension, open_reader, open_writer, transaction
from warehouse.errors import AuditFailed, WarehouseBusy, WarehouseError
from warehouse.lock import writer_lock
from warehouse.migrations import apply_migrations
from warehouse.sql import execute, fetch, staged

log = logging.getLogger(__name__)

INDEX_VERSION = "paragraphs_bm25_v1"
"""The tokenizer, stemmer and stopwords of sql/create_search_index.sql and the macro of
sql/search_paragraphs.sql (created with the index) together: changing any of them means a new
version, so that an index built by older code counts as stale and is rebuilt."""
STEMMER = "english"
"""Snowball English (Porter 2), applied to text and queries alike."""
STOPWORDS = "english"
"""DuckDB's list of 571 common English words, left out of the index."""
TRIGGER_RUN = "run"
TRIGGER_SEARCH = "search"
TRIGGER_PUBLISH = "publish"
PLAN_EXTEND = "extend"
PLAN_CREATE = "create"
EXCERPT_CHARS = 240
"""`nutgraf search` shows this many characters of each paragraph ..."""
EXCERPT_LEAD = 60
"""... starting this many before the first word of the query found in it."""


def fts_extension_path() -> Path:
    """The fts extension file of the installed `duckdb-extension-fts` wheel, for this DuckDB."""
    package = resources.files("duckdb_extension_fts")
    return Path(str(package / "extensions" / f"v{duckdb.__version__}" / "fts.duckdb_extension"))


@dataclass(frozen=True)
class IndexStatus:
    """What the latest build of the index covers, and what the warehouse holds now."""

    paragraphs: int  # paragraphs stored now
    last_run_id: str | None  # the latest run that stored paragraphs, now
    built_at: datetime | None = None  # None: never built (or the migration not applied yet)
    indexed: int | None = None  # paragraphs the index covers
    indexed_run_id: str | None = None
    index_version: str | None = None
    seconds: float | None = None  # how long the latest build took
    exists: bool = False  # the index and the search_paragraphs macro are in the file

    @property
    def fresh(self) -> bool:
        """The index covers every stored paragraph, built the way this code builds it."""
        return (
            self.exists
            and self.built_at is not None
            and self.indexed == self.paragraphs
            and self.indexed_run_id == self.last_run_id
            and self.index_version == INDEX_VERSION
        )

    def describe(self) -> str:
        """One line for people: when it was built, over how much, and whether it is fresh."""
        if self.built_at is None or not self.exists:
            return "no search index has been built yet"
        built = f"built {self.built_at:%Y-%m-%d %H:%M:%S %Z} over {self.indexed:,} paragraphs"
        if self.fresh:
            return f"{built}; fresh"
        if self.index_version != INDEX_VERSION:
            return f"{built} as {self.index_version}; stale (this code builds {INDEX_VERSION})"
        return f"{built}; stale (the warehouse holds {self.paragraphs:,} paragraphs now)"


@dataclass(frozen=True)
class IndexBuild:
    """What :func:`ensure_index` did."""

    rebuilt: bool
    paragraphs: int  # paragraphs the index covers now
    seconds: float  # time of the build (0 when it was fresh)


def read_index_status(con: duckdb.DuckDBPyConnection) -> IndexStatus:
    """The index's freshness, from `search_index_status` (any connection; no extension needed).

    A warehouse from before migration 0010 has no record of an index: never built.
    """
    objects = fetch(con, "search_index_objects").row(0, named=True)
    if not objects["has_status"]:
        paragraphs = con.execute("SELECT count(*), max(run_id) FROM paragraphs").fetchone()
        return IndexStatus(paragraphs=paragraphs[0], last_run_id=paragraphs[1])
    row = fetch(con, "search_index_state").row(0, named=True)
    return IndexStatus(
        paragraphs=row["paragraphs_now"],
        last_run_id=row["last_run_id_now"],
        built_at=row["built_at"],
        indexed=row["paragraphs_indexed"],
        indexed_run_id=row["last_run_id_indexed"],
        index_version=row["index_version"],
        seconds=row["seconds"],
        exists=bool(objects["has_index"] and objects["has_macro"]),
    )


def ensure_index(
    con: duckdb.DuckDBPyConnection, *, extension: Path | None = None, trigger: str = TRIGGER_RUN
) -> IndexBuild:
    """Rebuild the index and the `search_paragraphs` macro if stale, in one transaction with
    its `search_index` row. The caller holds the writer lock and has applied the migrations.

    A failed build rolls back: the previous index, if any, stays as it was.
    """
    status = read_index_status(con)
    if status.fresh:
        return IndexBuild(rebuilt=False, paragraphs=status.paragraphs, seconds=0.0)
    load_extension(con, extension or fts_extension_path())
    started = time.perf_counter()
    with transaction(con):
        _create(con)
        seconds = round(time.perf_counter() - started, 3)
        record_build(con, seconds, trigger)
    return IndexBuild(rebuilt=True, paragraphs=read_index_status(con).indexed or 0, seconds=seconds)


def load_for_publish(con: duckdb.DuckDBPyConnection, extension: Path | None) -> bool:
    """Load the extension for a publish, before its transaction (a failed statement would end
    the transaction). False when it does not load: the publish goes on without the index, and
    the end of the run, trying again, says why."""
    try:
        load_extension(con, extension or fts_extension_path())
    except WarehouseError as exc:
        log.debug("search index left for the end of the run: %s", exc)
        return False
    return True


def publish_plan(con: duckdb.DuckDBPyConnection) -> str | None:
    """How a publish keeps the index in step; called in its transaction before the batch's rows.

    PLAN_EXTEND: the index is fresh, so it is extended by the batch's new paragraphs.
    PLAN_CREATE: the warehouse holds no paragraph yet: the index is created empty, then
    extended by the batch.
    None: the index is stale for another reason; the end of the run rebuilds it.
    """
    status = read_index_status(con)
    if status.fresh:
        return PLAN_EXTEND
    if status.paragraphs == 0:
        return PLAN_CREATE
    return None


def prepare_in_step(con: duckdb.DuckDBPyConnection, plan: str) -> float:
    """PLAN_CREATE, before the batch's rows: build the index over the still empty table (at
    once), so that the batch is then added like any other (a full build over it is slower).
    Returns the seconds it took."""
    started = time.perf_counter()
    if plan == PLAN_CREATE:
        _create(con)
    return time.perf_counter() - started


def _create(con: duckdb.DuckDBPyConnection) -> None:
    """Build the index over every stored paragraph, and the macro that needs it."""
    execute(con, "create_search_index")
    execute(con, "search_paragraphs")


INDEX_SLICE = 20_000
"""Paragraphs a publish cuts into words at a time when it extends the index. One row per word
is the index's bulkiest frame, so a whole batch cut at once would set the publish's peak memory;
the size trades that memory against time (see BENCHMARKS.md)."""


def keep_in_step(
    con: duckdb.DuckDBPyConnection,
    paragraphs: pl.DataFrame,
    seconds: float = 0.0,
    *,
    slice_size: int = INDEX_SLICE,
) -> float:
    """Extend the index by the batch's new `paragraphs` (paragraph_hash, text) and record it; in
    the publish transaction, after the batch's paragraph rows. `seconds`: time already spent
    on the index in this transaction (prepare_in_step), recorded with the rest; returns the
    total recorded.

    The same steps create_fts_index takes over a whole table, over these rows only, and
    `slice_size` paragraphs at a time: the words are cut here, in Polars (:func:`index_words`,
    faster than the macro), each distinct word is stemmed once per slice by the
    extension, terms new to the index get the next term ids (a term new in an earlier slice
    keeps its id), each slice's term rows are written (sql/insert_search_terms.sql), and
    sql/extend_search_index.sql then writes the documents and new terms and grows the
    document frequencies."""
    started = time.perf_counter()
    next_ids = fetch(con, "search_next_ids").row(0, named=True)
    docs = (
        paragraphs.select(name=pl.col("paragraph_hash"), text=pl.col("text"))
        .sort("name")
        .with_row_index("docid", offset=next_ids["docid"])
        .with_columns(pl.col("docid").cast(pl.Int64))
    )
    new_terms = pl.DataFrame(schema={"termid": pl.Int64, "term": pl.String})
    counts, lengths = [], []
    for part in docs.iter_slices(slice_size):
        words = index_words(part.lazy()).collect()
        with staged(con, search_words=words.select(pl.col("w").unique())):
            stems = fetch(con, "search_stems")
        fresh = (
            stems.filter(pl.col("termid").is_null())
            .select("term")
            .unique()
            .join(new_terms, on="term", how="anti")
            .sort("term")
            .with_row_index("termid", offset=next_ids["termid"] + new_terms.height)
            .with_columns(pl.col("termid").cast(pl.Int64))
        )
        new_terms = pl.concat([new_terms, fresh])
        ids = stems.join(new_terms, on="term", how="left", suffix="_new").select(
            "w", termid=pl.coalesce("termid", "termid_new")
        )
        terms = words.join(ids, on="w").select("docid", "termid")
        del words
        counts.append(terms.group_by("termid").agg(df=pl.col("docid").n_unique().cast(pl.Int64)))
        lengths.append(terms.group_by("docid").agg(len=pl.len().cast(pl.Int64)))
        with staged(con, search_terms=terms):
            execute(con, "insert_search_terms")
        del terms
    # Slices hold different paragraphs, so a term's document frequency is the sum of theirs.
    df = pl.concat(counts).group_by("termid").agg(pl.col("df").sum())
    with staged(
        con,
        search_docs=docs.join(pl.concat(lengths), on="docid", how="left").select(
            "docid", "name", pl.col("len").fill_null(0)
        ),
        search_dict=new_terms.join(df, on="termid").select("termid", "term", "df"),
        search_df=df.join(new_terms, on="termid", how="anti"),
    ):
        execute(con, "extend_search_index")
    _check_stats(con)
    seconds += time.perf_counter() - started
    record_build(con, seconds, TRIGGER_PUBLISH)
    return seconds


def _check_stats(con: duckdb.DuckDBPyConnection) -> None:
    """Raise AuditFailed (the publish rolls back) unless the index's statistics match its
    documents: with a stale document count or average length every BM25 score is wrong (a null
    average length makes every search come back empty)."""
    stats = fetch(con, "search_stats").row(0, named=True)
    if stats["stored_docs"] != stats["num_docs"] or stats["stored_avgdl"] != stats["avgdl"]:
        raise AuditFailed(
            f"the search index's statistics were not updated ({stats}), so the batch was "
            "rolled back and nothing was written. This is a bug in nutgraf: report it"
        )


_SEPARATORS = r"[\p{P}\p{S}\t\n\f\r]+"
"""Where the tokenize macro cuts words: runs of Unicode punctuation or symbols, and RE2's `\\s`
(ASCII white space only: a no-break or zero-width space stays inside a word). Plain spaces are
left to the split, which is cheaper than replacing them."""


def index_words(docs: pl.LazyFrame) -> pl.LazyFrame:
    """docid, w: each word of each paragraph (docid, text), exactly as the index's tokenize
    macro cuts it: `string_split_regex(regexp_replace(lower(strip_accents(text)),
    '[\\p{P}\\p{S}]+', ' ', 'g'), '\\s+')`, empty words left out.

    - strip_accents (utf8proc: decompose, drop every mark, compose again) runs on the rows with
      a non-ASCII character only;
    - lower is per character: Polars lowers a word-final capital sigma to a final sigma, so it
      is lowered to sigma first (the only context-dependent mapping that can reach it; a
      capital I with dot above has lost its dot by then).

    Checked against the macro on the multilingual corpus and odd characters
    (tests/warehouse/test_search.py)."""
    text = pl.col("text")
    plain = text.str.len_bytes() == text.str.len_chars()  # ASCII only
    stripped = pl.concat(
        [
            docs.filter(plain).select("docid", "text"),
            docs.filter(~plain).select(
                "docid",
                text.str.normalize("NFD").str.replace_all(r"\p{M}+", "").str.normalize("NFC"),
            ),
        ]
    )
    return (
        stripped.select(
            "docid",
            w=text.str.replace_all("\u03a3", "\u03c3", literal=True)
            .str.to_lowercase()
            .str.replace_all(_SEPARATORS, " ")
            .str.split(" "),
        )
        .explode("w")
        .filter(pl.col("w") != "")
    )


def record_build(con: duckdb.DuckDBPyConnection, seconds: float, trigger: str) -> None:
    """The `search_index` row of a build or extension, in its transaction."""
    execute(
        con,
        "insert_search_index",
        {
            "index_version": INDEX_VERSION,
            "stemmer": STEMMER,
            "stopwords": STOPWORDS,
            "seconds": round(seconds, 3),
            "trigger": trigger,
        },
    )


def search_paragraphs(
    warehouse: Path,
    query: str,
    *,
    limit: int,
    all_words: bool = False,
    extension: Path | None = None,
) -> pl.DataFrame:
    """The best `limit` paragraphs for `query` (search_hits.sql, search_hit_details.sql),
    read-only.

    rank, score, paragraph_hash, excerpt, text, language, article_id, path, title,
    published_at, source, other_occurrences, other_articles, people, places, organisations,
    topics. Needs the index (see :func:`ensure_index`).
    """
    with open_reader(warehouse, extensions=(extension or fts_extension_path(),)) as con:
        hits = fetch(
            con,
            "search_hits",
            {
                "query": query,
                "limit": limit,
                "all_words": all_words,
                "lead": EXCERPT_LEAD,
                "width": EXCERPT_CHARS,
            },
        )
        if hits.is_empty():  # the details' filter would then scan every tag for nothing
            return hits
        details = fetch(con, "search_hit_details", {"hashes": hits["paragraph_hash"].to_list()})
    return hits.join(details, on="paragraph_hash", how="left").sort("rank")


def read_status(warehouse: Path) -> IndexStatus:
    """The index's freshness, read-only (no lock, no extension)."""
    with open_reader(warehouse) as con:
        return read_index_status(con)


def refresh_index(
    warehouse: Path,
    *,
    extension: Path | None = None,
    trigger: str = TRIGGER_SEARCH,
    wait: float = 5.0,
) -> IndexBuild:
    """Rebuild a stale index now, for a search. Takes the writer lock without waiting: a run
    that holds it rebuilds the index itself when it ends, so the caller had better search the
    index as it is (WarehouseBusy) than wait for the run."""
    with writer_lock(warehouse, timeout=0), open_writer(warehouse, wait=wait) as con:
        apply_migrations(con)
        return ensure_index(con, extension=extension, trigger=trigger)


@dataclass(frozen=True)
class ReadyIndex:
    """The index a search is about to use."""

    status: IndexStatus
    build: IndexBuild | None = None  # the rebuild made for this search, if any
    busy: str | None = None  # stale, but a run held the warehouse: why it was not rebuilt


def ready_index(
    warehouse: Path,
    *,
    extension: Path | None = None,
    before_build: Callable[[str], None] | None = None,
) -> ReadyIndex:
    """The index, rebuilt first if stale (telling `before_build` why, since that may take a
    while). If a run holds the warehouse, the index as it is: the run rebuilds it when it ends.
    With no index at all and a busy warehouse there is nothing to search: WarehouseBusy.
    """
    status = read_status(warehouse)
    if status.fresh:
        return ReadyIndex(status)
    if before_build is not None:
        before_build(
            f"{status.describe()}; indexing {status.paragraphs:,} paragraphs "
            "(a few seconds per 100,000) ..."
        )
    try:
        build = refresh_index(warehouse, extension=extension)
    except WarehouseBusy as exc:
        if not status.exists:
            raise WarehouseBusy(f"no search index yet, and it cannot be built now: {exc}") from exc
        return ReadyIndex(status, busy=str(exc))
    return ReadyIndex(read_status(warehouse), build)
