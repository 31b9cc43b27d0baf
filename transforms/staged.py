"""A batch between its transforms and its publish: the staged frames, and the rows of the
ledger, quarantine and run summary derived from them. Pure data and Polars; the tasks that
fill and publish a batch are in flows/."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import polars as pl

from transforms import schema as S
from transforms.discover import DUPLICATE_OF, FILE_TOUCHED
from transforms.normalise import sha256_hex
from transforms.pipeline import Precomputed, TransformedBatch

N_DUPLICATE_GROUPS = 10
"""The largest groups of identical paragraphs the summary and report show."""
UNCHANGED = pl.Schema({S.PATH: pl.String, S.RECORD: pl.Int32, S.ARTICLE_KEY: pl.String})
"""Records whose article's latest version already has their content: not loaded again."""
SET_ASIDE = pl.Schema(
    {
        S.ARTICLE_ID: pl.String,
        S.PATH: pl.String,
        S.RECORD: pl.Int32,
        S.REASON: pl.String,
        S.DETAIL: pl.String,
        S.RULE: pl.String,
    }
)
"""Records set aside inside a batch: unparseable ones (no ARTICLE_ID), screened and gated."""


@dataclass(frozen=True)
class NearDuplicates:
    """What the near-duplicate search of a batch found and will write."""

    bands: pl.DataFrame  # PARAGRAPH_HASH, band_0..11, signature of the batch's new paragraphs
    links: pl.DataFrame  # PARAGRAPH_HASH, NEAR_DUP_OF, SIMILARITY of new paragraphs
    repointed: pl.DataFrame  # the same, for stored paragraphs whose group got a new canonical
    counts: dict[str, int]


@dataclass(frozen=True)
class BatchInputs:
    """What a batch was built from, kept until it is gated: setting articles aside rebuilds
    the batch from these without them."""

    articles: pl.DataFrame  # ARTICLES (with TEXT) kept by screening
    normalised: pl.DataFrame  # NORMALISED paragraphs of those articles
    known: pl.DataFrame  # PARAGRAPH_HASH, LANGUAGE of paragraphs the warehouse already holds
    # Language verdicts and language-free tags of every paragraph, from `prepare`
    precomputed: Precomputed | None = None


@dataclass
class Staged:
    """A transformed batch with the file rows it will write."""

    files: pl.DataFrame  # PATH, SIZE, MTIME, SHA256, REASON, DETAIL, TEXT, ENCODING, STATUS
    batch: TransformedBatch
    set_aside: pl.DataFrame  # ARTICLE_ID, PATH, RECORD, REASON, DETAIL, RULE: records set aside
    timings: dict[str, float] = field(default_factory=dict)
    inputs: BatchInputs | None = None
    unchanged: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=UNCHANGED))
    near: NearDuplicates | None = None  # set once the batch passed its gate
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds of the stages in timings


def settled(staged: Staged) -> Staged:
    """A batch that passed its gate, without what only rebuilding it needed: the texts of its
    files and articles and the paragraphs of every occurrence, freed before near-duplicate
    linking and the publish, the run's two peaks of memory. (The new paragraphs' texts, which
    the publish needs, share Polars' string buffers with the occurrences' paragraphs and stay.)"""
    inputs = staged.inputs
    return replace(
        staged,
        files=staged.files.drop(S.TEXT),
        inputs=None
        if inputs is None
        else BatchInputs(inputs.articles.clear(), inputs.normalised.clear(), inputs.known),
    )


def quarantined_rows(staged: Staged) -> pl.DataFrame:
    """PATH, RECORD, SHA256, REASON, DETAIL, RULE of every file, or record of a file, set aside
    in this batch."""
    files = staged.files
    whole = files.filter(pl.col(S.REASON).is_not_null()).select(
        S.PATH,
        pl.lit(None, pl.Int32).alias(S.RECORD),
        S.SHA256,
        S.REASON,
        S.DETAIL,
        pl.concat_str(pl.lit("read:"), S.REASON).alias(S.RULE),
    )
    records = staged.set_aside.join(files.select(S.PATH, S.SHA256), on=S.PATH, how="left").select(
        whole.columns
    )
    return pl.concat([whole, records]).sort(S.PATH, S.RECORD, nulls_last=False)


def source_records(staged: Staged) -> pl.DataFrame:
    """What became of every record of the batch's new files: loaded, unchanged, quarantined."""
    sha = staged.files.select(S.PATH, S.SHA256)
    loaded = staged.batch.articles.select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit(S.FILE_LOADED).alias(S.STATUS),
        S.ARTICLE_ID,
        S.ARTICLE_KEY,
        pl.lit(None, pl.String).alias(S.REASON),
    )
    unchanged = staged.unchanged.join(sha, on=S.PATH, how="left").select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit("unchanged").alias(S.STATUS),
        pl.lit(None, pl.String).alias(S.ARTICLE_ID),
        S.ARTICLE_KEY,
        pl.lit(None, pl.String).alias(S.REASON),
    )
    aside = staged.set_aside.join(sha, on=S.PATH, how="left").select(
        S.PATH,
        S.SHA256,
        S.RECORD,
        pl.lit(S.FILE_QUARANTINED).alias(S.STATUS),
        S.ARTICLE_ID,
        pl.lit(None, pl.String).alias(S.ARTICLE_KEY),
        S.REASON,
    )
    return pl.concat([loaded, unchanged, aside]).sort(S.PATH, S.RECORD, nulls_last=False)


def set_aside_files(staged: Staged) -> pl.DataFrame:
    """PATH, REASON of every new file that loads nothing because what it held was set aside
    (a file of one article, or a .jsonl file all of whose lines were)."""
    kept = pl.concat(
        [staged.batch.articles.select(S.PATH), staged.unchanged.select(S.PATH)]
    ).unique()
    return (
        staged.set_aside.join(kept, on=S.PATH, how="anti")
        .sort(S.PATH, S.RECORD, nulls_last=False)
        .unique(S.PATH, keep="first")
        .select(S.PATH, S.REASON)
    )


def file_counts(staged: Staged) -> dict[str, int]:
    """The batch's file counts as the run summary and the `runs` row name them."""
    status = staged.files[S.STATUS]
    return {
        "files_new": int((status == S.FILE_NEW).sum()) - set_aside_files(staged).height,
        "files_duplicate": int((status == S.FILE_DUPLICATE).sum()),
        "files_quarantined": quarantined_rows(staged).height,
        "files_touched": int((status == FILE_TOUCHED).sum()),
        "records_unchanged": staged.unchanged.height,
    }


def largest_duplicate_groups(normalised: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT (cut to 300 characters), occurrences, articles of the paragraphs
    that appear more than once in the batch, the N_DUPLICATE_GROUPS largest."""
    return (
        normalised.group_by(S.PARAGRAPH_HASH)
        .agg(
            pl.col(S.TEXT).first().str.head(300),
            pl.len().cast(pl.Int64).alias("occurrences"),
            pl.col(S.ARTICLE_ID).n_unique().cast(pl.Int64).alias("articles"),
        )
        .filter(pl.col("occurrences") > 1)
        .sort("occurrences", S.PARAGRAPH_HASH, descending=[True, False])
        .head(N_DUPLICATE_GROUPS)
    )


def ledger_rows(staged: Staged) -> pl.DataFrame:
    """The `source_files` rows of the batch's files (touched ones aside): loaded, duplicate,
    or quarantined with a reason (also a new file all of whose records were set aside)."""
    aside = set_aside_files(staged).select(S.PATH, pl.col(S.REASON).alias("_aside"))
    return (
        staged.files.filter(pl.col(S.STATUS) != FILE_TOUCHED)
        .join(aside, on=S.PATH, how="left")
        .with_columns(pl.coalesce(S.REASON, "_aside").alias("_q"))
        .with_columns(
            pl.when(pl.col("_q").is_not_null())
            .then(pl.lit(S.FILE_QUARANTINED))
            .when(pl.col(S.STATUS) == S.FILE_NEW)
            .then(pl.lit(S.FILE_LOADED))
            .otherwise(pl.col(S.STATUS))
            .alias(S.STATUS),
            pl.col("_q").alias(S.REASON),
        )
        .select(S.PATH, S.SHA256, S.SIZE, S.MTIME, S.STATUS, S.REASON, DUPLICATE_OF, S.ENCODING)
    )


def touched_files(staged: Staged) -> pl.DataFrame:
    """PATH, SHA256, SIZE, MTIME of files rewritten with the bytes they had: new mtimes only."""
    return staged.files.filter(pl.col(S.STATUS) == FILE_TOUCHED).select(
        S.PATH, S.SHA256, S.SIZE, S.MTIME
    )


def quarantine_rows(staged: Staged, run_id: str) -> pl.DataFrame:
    """quarantined_rows with each row's quarantine_id: stable for a run, path and record."""
    return quarantined_rows(staged).with_columns(
        pl.concat_str(
            pl.lit(run_id),
            S.PATH,
            pl.col(S.RECORD).cast(pl.String),
            separator="\x00",
            ignore_nulls=True,
        )
        .map_batches(sha256_hex, return_dtype=pl.String)
        .str.slice(0, 16)
        .alias("quarantine_id")
    )


def linked_paragraphs(staged: Staged) -> pl.DataFrame:
    """The batch's new paragraphs with their near-duplicate links, once they are known."""
    paragraphs = staged.batch.paragraphs
    if staged.near is None:
        return paragraphs
    return paragraphs.join(staged.near.links, on=S.PARAGRAPH_HASH, how="left")
