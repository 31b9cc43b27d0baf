"""transforms.prepare and build_batch's precomputed path: the halves a Dask worker and the
writer do give what the serial transforms give, on the bundled samples."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.helpers import CACHE_DIR, SAMPLES
from transforms import schema as S
from transforms.discover import list_files
from transforms.formats import JsonFields
from transforms.gazetteer import _load_cached, load_gazetteer
from transforms.langid import _cached_model, load_model
from transforms.pipeline import Precomputed, build_batch, identify_articles, split_articles
from transforms.prepare import (
    NO_KNOWN_FILES,
    PreparedBatch,
    PrepareOptions,
    attach_articles,
    prepare_batch,
    records_of,
    settle_files,
    warm_up,
)

PATTERNS = ("*.txt", "*.jsonl", "*.html")
LEDGER = pl.Schema(
    {
        S.PATH: pl.String,
        S.SIZE: pl.Int64,
        S.MTIME: pl.Float64,
        S.SHA256: pl.String,
        S.STATUS: pl.String,
    }
)
EARLIER = pl.Schema(
    {
        S.ARTICLE_KEY: pl.String,
        S.VERSION: pl.Int32,
        S.CONTENT_SHA256: pl.String,
        S.EXTERNAL_ID: pl.String,
        S.URL: pl.String,
    }
)


@pytest.fixture(scope="module")
def prepared() -> PreparedBatch:
    files = list_files(SAMPLES, patterns=PATTERNS)
    options = PrepareOptions(
        SAMPLES, 20_000_000, JsonFields(), True, ("articles", "landing"), None, CACHE_DIR
    )
    return prepare_batch(files, S.empty(LEDGER), options=options)


@pytest.fixture(scope="module")
def articles(prepared: PreparedBatch) -> pl.DataFrame:
    """The samples' articles as the writer identifies them (no earlier versions)."""
    read = settle_files(prepared, S.empty(NO_KNOWN_FILES), S.empty(LEDGER))
    records, _ = records_of(prepared, read)
    return identify_articles(records, earlier=S.empty(EARLIER))[0]


def test_attached_articles_equal_the_serial_split(prepared, articles):
    titled, normalised = attach_articles(prepared, articles)
    serial_titled, serial_normalised = split_articles(articles)
    assert normalised.height > 20
    assert_frame_equal(titled, S.conform(serial_titled, S.ARTICLES))
    assert_frame_equal(normalised, serial_normalised)


def test_an_article_left_out_by_the_writer_drops_its_paragraphs(prepared, articles):
    kept = articles.filter(pl.col(S.PATH) != articles[S.PATH][0])
    _, normalised = attach_articles(prepared, kept)
    assert_frame_equal(normalised, split_articles(kept)[1])
    assert articles[S.ARTICLE_ID][0] not in normalised[S.ARTICLE_ID].to_list()


@pytest.mark.parametrize("share_known", [0.0, 0.5])
def test_a_batch_built_from_precomputed_tags_equals_a_tagged_one(
    prepared, articles, share_known: float
):
    """Paragraphs the warehouse knows (here with a stored language unlike the model's) are
    not tagged again, and short new paragraphs inherit their article's language either way."""
    _, normalised = attach_articles(prepared, articles)
    hashes = normalised[S.PARAGRAPH_HASH].unique().sort()
    known = pl.DataFrame(
        {S.PARAGRAPH_HASH: hashes.head(int(hashes.len() * share_known))}
    ).with_columns(pl.lit("fr").alias(S.LANGUAGE))
    gazetteer = load_gazetteer()
    serial = build_batch(articles, normalised, known=known, gazetteer=gazetteer)
    # The writer still reads titles and datelines with its own gazetteer.
    ahead = build_batch(
        articles, normalised, known=known, gazetteer=gazetteer, precomputed=prepared.precomputed
    )
    assert serial.tags.height > 50
    for name in ("articles", "occurrences", "paragraphs", "tags", "title_tags"):
        assert_frame_equal(getattr(ahead, name), getattr(serial, name))


def test_files_stored_meanwhile_become_duplicates(prepared):
    row = prepared.decoded.filter(pl.col(S.PATH).str.ends_with("markets.txt"))
    stored = pl.DataFrame({S.SHA256: row[S.SHA256], "first_path": ["elsewhere/markets.txt"]})
    alone = settle_files(prepared, S.empty(NO_KNOWN_FILES), S.empty(LEDGER))
    read = settle_files(prepared, stored, S.empty(LEDGER))

    duplicate = read.filter(pl.col(S.PATH) == row[S.PATH][0]).row(0, named=True)
    assert duplicate[S.STATUS] == S.FILE_DUPLICATE
    assert duplicate["duplicate_of"] == "elsewhere/markets.txt"
    assert duplicate[S.TEXT] is None
    others = pl.col(S.PATH) != row[S.PATH][0]
    assert_frame_equal(read.filter(others), alone.filter(others))
    records, _ = records_of(prepared, read)
    assert row[S.PATH][0] not in records[S.PATH].to_list()
    assert records.height == records_of(prepared, alone)[0].height - 1


@pytest.mark.parametrize("still_stored", [True, False])
def test_paragraphs_the_warehouse_holds_are_not_prepared(articles, still_stored: bool):
    """A serial run skips the stored paragraphs when it prepares; if they are gone by the time
    the batch is finished, they are judged and tagged then: the batch is the same either way."""
    files = list_files(SAMPLES, patterns=PATTERNS)
    options = PrepareOptions(SAMPLES, 20_000_000, JsonFields(), True, ("articles", "landing"), None)
    everything = prepare_batch(files, S.empty(LEDGER), options=options)
    hashes = everything.normalised[S.PARAGRAPH_HASH].unique().sort()
    stored = hashes.gather_every(2)
    asked = []

    def stored_paragraphs(batch_hashes: pl.Series) -> pl.Series:
        asked.append(batch_hashes)
        return stored.filter(stored.is_in(batch_hashes.implode()))

    skipping = prepare_batch(
        files, S.empty(LEDGER), options=options, stored_paragraphs=stored_paragraphs
    )
    assert asked and set(asked[0]) == set(hashes)
    prepared_hashes = set(skipping.precomputed.languages[S.PARAGRAPH_HASH])
    assert prepared_hashes == set(hashes) - set(stored)
    assert set(skipping.precomputed.tags[S.PARAGRAPH_HASH]) <= prepared_hashes

    _, normalised = attach_articles(skipping, articles)
    known = pl.DataFrame(
        {S.PARAGRAPH_HASH: stored if still_stored else []}, schema={S.PARAGRAPH_HASH: pl.String}
    ).with_columns(pl.lit("fr").alias(S.LANGUAGE))
    gazetteer = load_gazetteer()
    serial = build_batch(articles, normalised, known=known, gazetteer=gazetteer)
    finished = build_batch(
        articles, normalised, known=known, gazetteer=gazetteer, precomputed=skipping.precomputed
    )
    assert serial.paragraphs.height == hashes.len() - (stored.len() if still_stored else 0)
    for name in ("articles", "occurrences", "paragraphs", "tags", "title_tags"):
        assert_frame_equal(getattr(finished, name), getattr(serial, name))


def test_new_paragraphs_missing_from_the_precomputed_need_a_gazetteer(prepared, articles):
    _, normalised = attach_articles(prepared, articles)
    partial = Precomputed(prepared.precomputed.languages.head(3), prepared.precomputed.tags)
    with pytest.raises(ValueError, match="needs a gazetteer"):
        build_batch(
            articles,
            normalised,
            known=pl.DataFrame(schema={S.PARAGRAPH_HASH: pl.String, S.LANGUAGE: pl.String}),
            gazetteer=None,
            precomputed=partial,
        )


def test_the_warm_up_loads_what_preparing_reads(tmp_path):
    """The CLI warms these while Prefect starts: preparing a batch must find them loaded,
    under the same keys, not load them again."""
    rules = tmp_path / "tags.toml"
    rules.write_text('[[topic]]\nkeyword = "harbour strike"\ntopic = "labour"\n')
    options = PrepareOptions(
        SAMPLES, 20_000_000, JsonFields(), True, ("articles", "landing"), rules, CACHE_DIR
    )
    warm_up(options)
    gazetteer_hits = _load_cached.cache_info().hits
    model_hits = _cached_model.cache_info().hits
    assert load_gazetteer(options.tags_file) is load_gazetteer(rules)
    assert load_model(options.cache_dir) is load_model(CACHE_DIR)
    assert _load_cached.cache_info().hits >= gazetteer_hits + 2
    assert _cached_model.cache_info().hits >= model_hits + 2


def test_a_tags_file_that_fails_to_load_is_left_to_the_run(tmp_path):
    rules = tmp_path / "tags.toml"
    rules.write_text("[[topic]\nnot toml")
    options = PrepareOptions(
        SAMPLES, 20_000_000, JsonFields(), True, ("articles", "landing"), rules, CACHE_DIR
    )
    warm_up(options)  # says nothing: the run reports the file where it loads it
    with pytest.raises(Exception, match="tags"):
        load_gazetteer(rules)
