"""Tests for transforms.retag and transforms.tagging.tag_with: micro-frames, then the samples."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.helpers import SAMPLES, SEED
from transforms import schema as S
from transforms.errors import UnknownTagger
from transforms.gazetteer import load_gazetteer
from transforms.retag import (
    TaggerChange,
    check_taggers,
    choose_taggers,
    relabel_languages,
    retag_paragraphs,
)
from transforms.tagging import TAGGERS, tag_paragraphs, tag_with, tagger_versions

ENGLISH = (
    "President Xi Jinping met Vladimir Putin in Moscow on Tuesday as the Kremlin pressed "
    "for closer trade ties and new sanctions loomed over energy exports."
)
FRENCH = (
    "Le gouvernement a annoncé mardi une nouvelle réforme des retraites qui sera présentée "
    "au Parlement avant la fin de l'année."
)


def stored(*rows: tuple[str, str | None, str | None]) -> pl.DataFrame:
    """STORED_PARAGRAPHS from (text, stored language, article language) rows."""
    return pl.DataFrame(
        {
            S.PARAGRAPH_HASH: [hashlib.sha256(t.encode()).hexdigest() for t, _, _ in rows],
            S.TEXT: [t for t, _, _ in rows],
            S.LANGUAGE: [lang for _, lang, _ in rows],
            S.ARTICLE_LANGUAGE: [lang for _, _, lang in rows],
        },
        schema=S.STORED_PARAGRAPHS,
    )


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="module")
def sample_paragraphs() -> pl.DataFrame:
    """Every blank-line paragraph of the plain-text samples, with a language."""
    texts = set()
    for path in [SAMPLES / "seed" / SEED, *SAMPLES.glob("*/*.txt")]:
        raw = path.read_text(encoding="utf-8", errors="replace")
        texts |= {p.strip() for p in raw.replace("\r", "").split("\n") if p.strip()}
    ordered = sorted(texts) + ["LONDON 2026-11-09", "12 - 4 - 2026 / 33 : 17", "A bit"]
    return stored(*[(t, "en", "en") for t in ordered]).drop(S.ARTICLE_LANGUAGE)


# --- tag_with --------------------------------------------------------------------------------


@pytest.mark.parametrize("tagger", sorted(TAGGERS))
def test_tag_with_one_tagger_gives_the_rows_tag_paragraphs_gives(
    tagger: str, sample_paragraphs: pl.DataFrame, gazetteer
):
    every = tag_paragraphs(sample_paragraphs, gazetteer=gazetteer)
    mine = tag_with(sample_paragraphs, {tagger}, gazetteer=gazetteer)
    assert mine.height > 0
    assert_frame_equal(mine, every.filter(pl.col(S.TAGGER) == tagger))


def test_tag_with_every_tagger_is_tag_paragraphs(sample_paragraphs: pl.DataFrame, gazetteer):
    every = tag_paragraphs(sample_paragraphs, gazetteer=gazetteer)
    assert_frame_equal(tag_with(sample_paragraphs, set(TAGGERS), gazetteer=gazetteer), every)


def test_tag_with_no_tagger_or_an_unknown_one(sample_paragraphs: pl.DataFrame):
    assert_frame_equal(tag_with(sample_paragraphs, set(), gazetteer=None), S.empty(S.TAGS))
    with pytest.raises(UnknownTagger, match="'sentiment'; the taggers are entities, topics"):
        tag_with(sample_paragraphs, {"sentiment"}, gazetteer=None)
    with pytest.raises(ValueError, match="gazetteer"):
        tag_with(sample_paragraphs, {"topics"}, gazetteer=None)
    # language and quality need no gazetteer
    assert tag_with(sample_paragraphs, {"language", "quality"}, gazetteer=None).height > 0


# --- choosing taggers ------------------------------------------------------------------------

VERSIONS = {"entities": "entities_v2", "topics": "topics_v1", "language": "language_v1"}


def current(*rows: tuple[str, str | None, int]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={S.TAGGER: pl.String, S.TAGGER_VERSION: pl.String, "paragraphs": pl.Int64},
        orient="row",
    )


def test_by_default_taggers_whose_current_tags_are_not_all_of_the_code_version():
    state = current(
        ("entities", "entities_v1", 10),
        ("topics", "topics_v1", 6),
        ("topics", "topics_v0", 4),
        ("language", "language_v1", 10),
    )
    chosen = choose_taggers(state, versions=VERSIONS, requested=None, n_paragraphs=10)
    assert chosen == [
        TaggerChange("entities", ("entities_v1",), "entities_v2"),
        TaggerChange("topics", ("topics_v0", "topics_v1"), "topics_v1"),
    ]
    # A tagger that never ran, or paragraphs whose version is unknown, count as out of date.
    partial = current(("entities", "entities_v2", 10), ("topics", "topics_v1", 10))
    partial = pl.concat([partial, current(("language", None, 3), ("language", "language_v1", 7))])
    chosen = choose_taggers(partial, versions=VERSIONS, requested=None, n_paragraphs=10)
    assert [c.tagger for c in chosen] == ["language"]
    new = choose_taggers(
        partial, versions={**VERSIONS, "sentiment": "sentiment_v1"}, requested=None, n_paragraphs=10
    )
    assert new[-1] == TaggerChange("sentiment", (), "sentiment_v1")


def test_all_current_or_an_empty_warehouse_means_nothing_to_retag():
    state = current(*[(t, v, 5) for t, v in VERSIONS.items()])
    assert choose_taggers(state, versions=VERSIONS, requested=None, n_paragraphs=5) == []
    assert choose_taggers(current(), versions=VERSIONS, requested=None, n_paragraphs=0) == []
    assert choose_taggers(current(), versions=VERSIONS, requested=["topics"], n_paragraphs=0) == []


def test_named_taggers_are_retagged_even_when_current():
    state = current(*[(t, v, 5) for t, v in VERSIONS.items()])
    chosen = choose_taggers(
        state, versions=VERSIONS, requested=["language", "topics", "language"], n_paragraphs=5
    )
    assert chosen == [
        TaggerChange("topics", ("topics_v1",), "topics_v1"),
        TaggerChange("language", ("language_v1",), "language_v1"),
    ]
    with pytest.raises(UnknownTagger, match="'sentiment'.*entities, topics, language"):
        choose_taggers(state, versions=VERSIONS, requested=["sentiment"], n_paragraphs=5)
    assert check_taggers(["topics", "entities"], versions=VERSIONS) == ("entities", "topics")


# --- languages -------------------------------------------------------------------------------


def test_languages_are_judged_again_and_short_paragraphs_inherit_their_article_s():
    frame = stored(
        (ENGLISH, "fr", "de"),  # a stored verdict the new one replaces
        (FRENCH, None, "en"),
        ("Reuters", "en", "de"),  # too short to judge: the first article's language
        ("12:30", "en", None),  # too short, and the article has none
    )
    relabelled = relabel_languages(frame)
    assert relabelled.columns == list(S.STORED_PARAGRAPHS)
    assert relabelled[S.LANGUAGE].to_list() == ["en", "fr", "de", None]
    tags, languages = retag_paragraphs(frame, "language", gazetteer=None)
    assert languages is not None and languages.sort(S.PARAGRAPH_HASH).equals(
        relabelled.select(S.PARAGRAPH_HASH, S.LANGUAGE).sort(S.PARAGRAPH_HASH)
    )
    assert sorted(tags[S.TAG_VALUE]) == ["de", "en", "fr"]
    assert set(tags[S.TAGGER_VERSION]) == {tagger_versions()["language"]}
    # Other taggers leave the languages alone.
    assert retag_paragraphs(frame, "quality", gazetteer=None)[1] is None
