"""bench/wire_topics.py: the mapping names nutgraf's vocabulary, subtopics are ranked like
article_topics ranks topics, and agreement is counted per Reuters topic and per story."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.wire_topics import (
    AGREEMENT,
    LABELS,
    OVERALL_ANY,
    OVERALL_STRICT,
    REUTERS_TOPIC,
    article_subtopics,
    read_mapping,
    topic_agreement,
)
from tests.transforms.test_topics import occurrences, topic_tags
from transforms import schema as S
from transforms.gazetteer import load_gazetteer
from transforms.tagging import ARTICLE_TOPICS, RANK, TOPIC, article_topics

EARNINGS = "economy-business-finance/earnings"
MERGERS = "economy-business-finance/mergers"
MARKETS = "economy-business-finance/markets"
ECONOMY = "economy-business-finance"


def test_mapping_covers_the_ten_topics_with_vocabulary_slugs():
    mapping = read_mapping()
    assert mapping[REUTERS_TOPIC].to_list() == [
        "earn", "acq", "money-fx", "grain", "crude", "trade", "interest", "ship", "wheat", "corn",
    ]  # fmt: skip
    assert set(mapping["iptc_topic"]) <= load_gazetteer().topics
    assert mapping["note"].null_count() == 0


def test_article_subtopics_ranks_subtopics_like_article_topics():
    tags = topic_tags(
        ("p1", "topic", ECONOMY, 3.0),
        ("p1", "topic", EARNINGS, 2.0),
        ("p1", "topic", MARKETS, 1.0),
        ("p2", "topic", MERGERS, 1.5),
        ("p2", "topic", "politics/diplomacy", 1.5),  # any parent: ranked together
    )
    subtopics = article_subtopics(tags, occurrences(("a", "p1"), ("a", "p2"), ("a", "p2")))
    expected = pl.DataFrame(
        [
            ("a", MERGERS, 3.0, 3.0 / 9.0, 1),
            ("a", "politics/diplomacy", 3.0, 3.0 / 9.0, 2),  # a tie goes to the first slug
            ("a", EARNINGS, 2.0, 2.0 / 9.0, 3),
            ("a", MARKETS, 1.0, 1.0 / 9.0, 4),
        ],
        schema=ARTICLE_TOPICS,
        orient="row",
    )
    assert_frame_equal(subtopics, expected)
    # the same rule as transforms.tagging.article_topics: subtopics renamed as top-level slugs
    # and rolled up by it give the same frame
    as_top_level = tags.filter(pl.col(S.TAG_VALUE).str.contains("/", literal=True)).with_columns(
        pl.col(S.TAG_VALUE).str.replace("/", "~", literal=True)
    )
    rolled = article_topics(as_top_level, occurrences(("a", "p1"), ("a", "p2"), ("a", "p2")))
    assert_frame_equal(
        rolled.with_columns(pl.col(TOPIC).str.replace("~", "/", literal=True)), subtopics
    )


MAPPING = pl.DataFrame(
    {
        REUTERS_TOPIC: ["earn", "acq", "ship"],
        "iptc_topic": [EARNINGS, MERGERS, "economy-business-finance/shipping"],
        "note": ["", "", ""],
    }
)
RANKED = pl.DataFrame(
    [
        ("s1", ECONOMY, 1),
        ("s1", EARNINGS, 1),
        ("s2", "politics", 1),
        ("s2", ECONOMY, 2),
        ("s2", MARKETS, 1),
        ("s2", EARNINGS, 2),
        ("s2", MERGERS, 3),  # third: too low
        ("s3", ECONOMY, 3),  # third at the top level
        ("s3", MERGERS, 2),
    ],
    schema={S.ARTICLE_ID: pl.String, TOPIC: pl.String, RANK: pl.Int32},
    orient="row",
)
LABELLED = pl.DataFrame(
    [
        ("s1", "earn"),
        ("s2", "earn"),
        ("s2", "acq"),
        ("s3", "acq"),
        ("s3", "gold"),  # not mapped: ignored
        ("s4", "ship"),  # no topic at all: disagrees
        ("s5", "gold"),  # no mapped topic: not counted
    ],
    schema=LABELS,
    orient="row",
)


def agreement(*rows: tuple[str, str | None, int, int]) -> pl.DataFrame:
    return pl.DataFrame([(*row, row[3] / row[2]) for row in rows], schema=AGREEMENT, orient="row")


def test_agreement_at_the_mapped_level_strict_and_any():
    expected = agreement(
        ("earn", EARNINGS, 2, 2),
        ("acq", MERGERS, 2, 1),
        ("ship", "economy-business-finance/shipping", 1, 0),
        (OVERALL_STRICT, None, 4, 2),  # s1, s3 (s2 fails on acq, s4 on ship)
        (OVERALL_ANY, None, 4, 3),  # s1, s2, s3
    )
    assert_frame_equal(topic_agreement(RANKED, LABELLED, MAPPING), expected)


def test_agreement_at_the_top_level():
    expected = agreement(
        ("earn", ECONOMY, 2, 2),
        ("acq", ECONOMY, 2, 1),
        ("ship", ECONOMY, 1, 0),
        (OVERALL_STRICT, None, 4, 2),
        (OVERALL_ANY, None, 4, 2),
    )
    assert_frame_equal(topic_agreement(RANKED, LABELLED, MAPPING, top_level=True), expected)


@pytest.mark.parametrize("within", [1, 3])
def test_agreement_within_other_ranks(within: int):
    shares = topic_agreement(RANKED, LABELLED, MAPPING, within=within)
    acq = shares.filter(pl.col(REUTERS_TOPIC) == "acq")["agreeing"].item()
    assert acq == (0 if within == 1 else 2)
