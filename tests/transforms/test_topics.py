"""Tests for the topic tagger's rules (data/topics.toml) and the per-article roll-up."""

from __future__ import annotations

import hashlib

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms import schema as S
from transforms.gazetteer import load_gazetteer
from transforms.tagging import ARTICLE_TOPICS, RANK, SHARE, TOPIC, article_topics, tag_topics


def topic_tags(*rows: tuple[str, str, str, float]) -> pl.DataFrame:
    """A TAGS frame from (PARAGRAPH_HASH, TAG_TYPE, TAG_VALUE, SCORE) rows, other columns null."""
    frame = pl.DataFrame(
        rows, schema=[S.PARAGRAPH_HASH, S.TAG_TYPE, S.TAG_VALUE, S.SCORE], orient="row"
    )
    absent = [pl.lit(None).alias(name) for name in S.TAGS.names() if name not in frame.columns]
    return frame.with_columns(absent).pipe(S.conform, S.TAGS)


def occurrences(*rows: tuple[str, str]) -> pl.DataFrame:
    """ARTICLE_ID, POSITION, PARAGRAPH_HASH from (article, paragraph) rows, in order."""
    frame = pl.DataFrame(
        rows, schema={S.ARTICLE_ID: pl.String, S.PARAGRAPH_HASH: pl.String}, orient="row"
    )
    return frame.with_columns(pl.int_range(pl.len()).over(S.ARTICLE_ID).alias(S.POSITION))


def rolled_up(*rows: tuple[str, str, float, float, int]) -> pl.DataFrame:
    """An ARTICLE_TOPICS frame from (ARTICLE_ID, TOPIC, SCORE, SHARE, RANK) rows."""
    return pl.DataFrame(rows, schema=ARTICLE_TOPICS, orient="row")


# --- article_topics --------------------------------------------------------------------------

TAGS = topic_tags(
    ("p1", "topic", "politics", 2.0),
    ("p1", "topic", "politics/election", 1.0),  # a subtopic: its weight is already in the parent
    ("p1", "topic", "economy-business-finance", 1.0),
    ("p2", "topic", "economy-business-finance", 1.0),
    ("p2", "topic", "sport", 1.5),
    ("p2", "place", "politics", None),  # not a topic tag, whatever its value
    ("p3", "topic", "sport", 1.0),
    ("p3", "topic", "health", 1.0),
    ("p4", "language", "en", None),
    ("p5", "topic", "weather", 1.0),  # a paragraph no article holds
)


def test_article_topics_ranks_shares_and_ties():
    occurrences_ = occurrences(
        ("a", "p1"),
        ("a", "p2"),
        ("a", "p1"),  # repeated in its article: counted again
        ("b", "p3"),
        ("c", "p4"),  # no topic at all: no row
    )
    expected = rolled_up(
        ("a", "politics", 4.0, 4.0 / 8.5, 1),
        ("a", "economy-business-finance", 3.0, 3.0 / 8.5, 2),
        ("a", "sport", 1.5, 1.5 / 8.5, 3),
        ("b", "health", 1.0, 0.5, 1),  # a tie goes to the first slug
        ("b", "sport", 1.0, 0.5, 2),
    )
    assert_frame_equal(article_topics(TAGS, occurrences_), expected)


def test_article_topics_shares_sum_to_one_and_rank_one_is_unique():
    occurrences_ = occurrences(("a", "p1"), ("a", "p2"), ("b", "p3"), ("b", "p2"), ("b", "p1"))
    rolled = article_topics(TAGS, occurrences_)
    per_article = rolled.group_by(S.ARTICLE_ID).agg(
        pl.col(SHARE).sum(), (pl.col(RANK) == 1).sum().alias("primaries")
    )
    assert per_article[SHARE].to_list() == pytest.approx([1.0, 1.0])
    assert per_article["primaries"].to_list() == [1, 1]
    assert not rolled[TOPIC].str.contains("/").any()


def test_article_topics_of_nothing():
    assert_frame_equal(article_topics(TAGS.head(0), occurrences()), rolled_up())
    assert_frame_equal(article_topics(TAGS, occurrences(("c", "p4"))), rolled_up())


# --- keyword rules ---------------------------------------------------------------------------


def top_level_scores(text: str) -> dict[str, float]:
    """Top-level topic -> score that tag_topics gives one paragraph."""
    frame = pl.DataFrame({S.PARAGRAPH_HASH: [hashlib.sha256(text.encode()).hexdigest()]})
    tags = tag_topics(frame.with_columns(pl.lit(text).alias(S.TEXT)), gazetteer=load_gazetteer())
    top = tags.filter(~pl.col(S.TAG_VALUE).str.contains("/", literal=True))
    return dict(top.select(S.TAG_VALUE, S.SCORE).rows())


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The central bank raised interest rates to curb inflation.", "economy-business-finance"),
        (
            "Shares in the carmaker fell after it reported a drop in quarterly profits.",
            "economy-business-finance",
        ),
        (
            "The retailer said sales over Christmas were weaker than analysts had expected.",
            "economy-business-finance",
        ),
        (
            "The takeover values the insurer at $4bn, and shareholders must approve it.",
            "economy-business-finance",
        ),
        ("The actress won an Oscar for her role in the film.", "arts-culture-entertainment"),
        (
            "The band's new album went straight to the top of the charts.",
            "arts-culture-entertainment",
        ),
        ("The comedy opens at a West End theatre next month.", "arts-culture-entertainment"),
        ("MPs voted on the bill after a heated debate in parliament.", "politics"),
        ("The prime minister reshuffled his cabinet after the election.", "politics"),
        (
            "Opposition parties accused the government of breaking its manifesto pledge.",
            "politics",
        ),
        ("The striker scored twice as the home team won the cup final.", "sport"),
        ("She won the gold medal in the 100m at the Olympic Games.", "sport"),
        ("The coach named his squad for the Six Nations championship.", "sport"),
        (
            "The software update fixes a flaw that let hackers take over computers.",
            "science-technology",
        ),
        ("Broadband users can now download films in minutes.", "science-technology"),
        (
            "Scientists at the laboratory used satellite data to study the planet.",
            "science-technology",
        ),
        (
            "The mobile phone maker unveiled a handset with a faster processor.",
            "science-technology",
        ),
    ],
)
def test_plain_sentences_get_their_topic_first(text: str, topic: str):
    scores = top_level_scores(text)
    assert topic in scores, scores
    assert max(scores, key=lambda name: (scores[name], name == topic)) == topic, scores


@pytest.mark.parametrize(
    ("text", "not_topic"),
    [
        ("For example, she showed no sign of it.", "education"),  # "exam*" was in "example"
        ("The physical side of the game suited him.", "science-technology"),  # "physic*"
        ("The striker signed a new contract with the club.", "labour"),  # "strike*"
        ("Leaders of the European Union met in Brussels.", "labour"),  # "union*"
        ("The bank cut its economic forecast for next year.", "weather"),  # "forecast*"
        ("The new Bond film opens on Friday.", "economy-business-finance"),  # "bond*"
        ("The figures show a rise in the number of visitors.", "arts-culture-entertainment"),
    ],
)
def test_words_inside_other_words_do_not_count(text: str, not_topic: str):
    assert not_topic not in top_level_scores(text)


# --- business-desk subtopics (topics_v3) ------------------------------------------------------


def topic_scores(text: str) -> dict[str, float]:
    """Topic or subtopic -> score that tag_topics gives one paragraph."""
    frame = pl.DataFrame({S.PARAGRAPH_HASH: [hashlib.sha256(text.encode()).hexdigest()]})
    tags = tag_topics(frame.with_columns(pl.lit(text).alias(S.TEXT)), gazetteer=load_gazetteer())
    return dict(tags.select(S.TAG_VALUE, S.SCORE).rows())


def subtopic_ranking(*paragraphs: str) -> list[str]:
    """The subtopics of an article made of `paragraphs`, ranked as bench/wire_topics ranks
    them: summed scores, highest first, ties by name."""
    totals: dict[str, float] = {}
    for text in paragraphs:
        for topic, score in topic_scores(text).items():
            if "/" in topic:
                totals[topic] = totals.get(topic, 0.0) + score
    return sorted(totals, key=lambda topic: (-totals[topic], topic))


EARNINGS = "economy-business-finance/earnings"
MERGERS = "economy-business-finance/mergers"
MARKETS = "economy-business-finance/markets"
INTEREST_RATES = "economy-business-finance/interest-rates"
AGRICULTURE = "economy-business-finance/agriculture"
SHIPPING = "economy-business-finance/shipping"
TRADE = "economy-business-finance/trade"


@pytest.mark.parametrize(
    ("paragraphs", "subtopic"),
    [
        # a results table: title, then one indented line per figure
        (
            [
                "WIDGETCO INC <WDG> 2ND QTR NET",
                "Shr 71 cts vs 43 cts",
                "Net 1,204,000 vs 730,000",
                "Revs 14.2 mln vs 11.9 mln",
            ],
            EARNINGS,
        ),
        (["ACME STORES <ACM> PAYS QTLY DIV", "Qtly div 12 cts vs 12 cts prior"], EARNINGS),
        (
            ["The retailer said net income for the year rose to 40 mln dlrs on higher sales."],
            EARNINGS,
        ),
        (
            ["Acme Corp said it agreed to acquire Widget Co for 20 dlrs a share in cash."],
            MERGERS,
        ),
        (["ACME TO BUY WIDGET UNIT", "Terms of the purchase were not disclosed."], MERGERS),
        (["An investor group said it raised its stake in Widget Co to 9.8 pct."], MERGERS),
        (["The central bank cut its discount rate by half a point to 5.5 pct."], INTEREST_RATES),
        (["Major banks raised their prime rate to 7.75 pct from 7.5 pct."], INTEREST_RATES),
        (
            ["Dealers said the central bank sold dollars for yen on the foreign exchange market."],
            MARKETS,
        ),
        (["The Bank of England gave the money market 300 mln stg of assistance."], MARKETS),
        (
            ["Farmers expect a bigger wheat and corn harvest after planting rose five pct."],
            AGRICULTURE,
        ),
        (["Freight rates rose as more tankers and bulk carriers waited at the port."], SHIPPING),
        (
            ["The Senate trade bill would answer protectionist policies with retaliation."],
            TRADE,
        ),
    ],
)
def test_business_desk_copy_gets_its_subtopic_first(paragraphs: list[str], subtopic: str):
    ranking = subtopic_ranking(*paragraphs)
    assert ranking[:1] == [subtopic], ranking
    assert "economy-business-finance" in topic_scores(" ".join(paragraphs))


def test_all_caps_headlines_match_like_body_text():
    assert topic_scores("WIDGETCO AGREES TO MERGE WITH ACME") == topic_scores(
        "Widgetco agrees to merge with Acme"
    )
    assert MERGERS in topic_scores("WIDGETCO AGREES TO MERGE WITH ACME")


@pytest.mark.parametrize(
    "text",
    [
        "The takeover was approved.",  # moved from the parent into a subtopic
        "Profits rose sharply.",
        "The currency weakened.",
        "Securities were traded.",
    ],
)
def test_words_moved_into_a_subtopic_still_count_once_for_the_parent(text: str):
    scores = topic_scores(text)
    subtopics = {name: score for name, score in scores.items() if "/" in name}
    assert list(subtopics.values()) == [1.0], scores
    assert scores["economy-business-finance"] == 1.0


@pytest.mark.parametrize(
    ("text", "not_topic"),
    [
        ("The phone maker will ship the new handset in March.", SHIPPING),  # the verb
        ("He made a bid to win back the voters he lost.", MERGERS),  # "in a bid to"
        ("Police said crime rates fell in the city last year.", INTEREST_RATES),
        ("He struck the ball into the back of the net.", "economy-business-finance"),
        ("It is in the public interest that the files are opened.", "economy-business-finance"),
    ],
)
def test_everyday_senses_of_desk_words_do_not_count(text: str, not_topic: str):
    assert not_topic not in topic_scores(text)
