"""bench/story_entities.py: the mapping names Reuters codes the feed uses and tags the entity
tagger emits, and a story's labels are found, missed or seen by surname as its tags say."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.evaluate_stories import read_story_labels
from bench.story_entities import (
    ALL,
    JUDGED,
    KIND,
    LABELS,
    ORGS,
    PEOPLE,
    RECALLS,
    REUTERS_CODE,
    STORY_TAGS,
    TAG_VALUES,
    code_recall,
    micro_recall,
    most_missed,
    read_mapping,
    story_hits,
)
from tests.helpers import corpus
from transforms import schema as S
from transforms.tagging import get_tagger


def test_mapping_rows_are_complete_and_use_entity_tag_types():
    mapping = read_mapping()
    assert mapping.null_count().row(0) == (0,) * mapping.width
    assert mapping.select(KIND, REUTERS_CODE).is_unique().all()
    assert set(mapping[KIND]) == {PEOPLE, ORGS}
    assert set(mapping[S.TAG_TYPE]) <= get_tagger("entities").emits
    assert mapping.filter(pl.col(KIND) == PEOPLE)[S.TAG_TYPE].unique().to_list() == ["person"]
    assert mapping.filter(pl.col(KIND) == ORGS)[S.TAG_TYPE].unique().to_list() == ["organisation"]


@pytest.mark.slow  # reads the shared corpora
def test_mapping_covers_the_most_frequent_codes_of_the_feed():
    labels = read_story_labels(corpus("reuters-train"))
    counts = labels.unique().group_by(KIND, REUTERS_CODE).len("stories")
    mapping = read_mapping()
    # every mapped code is one the feed uses, under the same field
    assert mapping.join(counts, on=[KIND, REUTERS_CODE], how="anti").is_empty()
    # PEOPLE: the 30 most frequent and those tied with the 30th; ORGS: every code there is
    people = counts.filter(pl.col(KIND) == PEOPLE).sort("stories", descending=True)
    thirtieth = people["stories"][29]
    assert set(mapping.filter(pl.col(KIND) == PEOPLE)[REUTERS_CODE]) == set(
        people.filter(pl.col("stories") >= thirtieth)[REUTERS_CODE]
    )
    assert set(mapping.filter(pl.col(KIND) == ORGS)[REUTERS_CODE]) == set(
        counts.filter(pl.col(KIND) == ORGS)[REUTERS_CODE]
    )


MAPPING = pl.DataFrame(
    {
        REUTERS_CODE: ["reagan", "james-baker", "opec"],
        KIND: [PEOPLE, PEOPLE, ORGS],
        S.TAG_TYPE: ["person", "person", "organisation"],
        TAG_VALUES: ["Ronald Reagan", "James Baker|James A. Baker", "OPEC"],
        "note": ["", "", ""],
    }
)
TAGS = pl.DataFrame(
    [
        ("s1", "person", "RONALD REAGAN"),  # case does not matter
        ("s1", "organisation", "Opec"),
        ("s2", "person", "Reagan"),  # a surname alone: missed, seen by surname
        ("s2", "organisation", "Organization of Petroleum Exporting Countries"),  # not a value
        ("s3", "organisation", "James A. Baker"),  # a value, but of the wrong tag type
        ("s3", "person", "James A. Baker"),
        ("s4", "person", "Ronald Reagan Jr"),  # no substring matches
    ],
    schema=STORY_TAGS,
    orient="row",
)
LABELLED = pl.DataFrame(
    [
        ("s1", PEOPLE, "reagan"),
        ("s1", ORGS, "opec"),
        ("s1", ORGS, "opec"),  # counted once
        ("s2", PEOPLE, "reagan"),
        ("s2", ORGS, "opec"),
        ("s2", ORGS, "gatt"),  # not mapped: ignored
        ("s3", PEOPLE, "james-baker"),
        ("s4", PEOPLE, "reagan"),
        ("s5", PEOPLE, "james-baker"),  # no tags at all: missed
        ("s5", ORGS, "reagan"),  # a PEOPLE code under ORGS: ignored
    ],
    schema=LABELS,
    orient="row",
)


def test_story_hits_counts_a_hit_and_a_miss():
    expected = pl.DataFrame(
        [
            ("s1", PEOPLE, "reagan", True, False),
            ("s1", ORGS, "opec", True, False),
            ("s2", PEOPLE, "reagan", False, True),
            ("s2", ORGS, "opec", False, False),
            ("s3", PEOPLE, "james-baker", True, False),
            ("s4", PEOPLE, "reagan", False, False),
            ("s5", PEOPLE, "james-baker", False, False),
        ],
        schema=JUDGED,
        orient="row",
    )
    assert_frame_equal(story_hits(TAGS, LABELLED, MAPPING), expected)


def test_recall_per_code_micro_and_most_missed():
    judged = story_hits(TAGS, LABELLED, MAPPING)
    per_code = code_recall(judged)
    expected = pl.DataFrame(
        [
            (PEOPLE, "reagan", 3, 1, 2, 1, 1 / 3),
            (ORGS, "opec", 2, 1, 1, 0, 0.5),
            (PEOPLE, "james-baker", 2, 1, 1, 0, 0.5),
        ],
        schema=RECALLS,
        orient="row",
    )
    assert_frame_equal(per_code, expected)
    expected_micro = pl.DataFrame(
        [(ORGS, ALL, 2, 1, 1, 0, 0.5), (PEOPLE, ALL, 5, 2, 3, 1, 0.4)],
        schema=RECALLS,
        orient="row",
    )
    assert_frame_equal(micro_recall(judged), expected_micro)
    assert most_missed(per_code, PEOPLE, 1)[REUTERS_CODE].to_list() == ["reagan"]
    assert most_missed(per_code, ORGS)[REUTERS_CODE].to_list() == ["opec"]
