"""Tagging: language, entities (people, places, organisations), topics and quality flags.

Taggers add rows to a TAGS frame; they never change or drop paragraphs. Each is registered by
name with its version and the tag types it emits (:mod:`~transforms.tagging.registry`), and
every tag names the tagger version that made it. One module per job:

- ``registry``: the taggers by name; running any set of them over paragraphs;
- ``frames``: the working frame the taggers share (paragraphs keyed by rank) and its output;
- ``matching``: finding patterns in paragraphs, resolving overlaps;
- ``language``, ``entities``, ``topics``, ``quality``: one tagger each;
- ``titles``: the entity and topic taggers run over article titles.

The vocabulary the taggers look up is :mod:`transforms.gazetteer`'s.
"""

from transforms.tagging.entities import PERSON_TITLES
from transforms.tagging.language import (
    MIN_LETTERS_FOR_LANGUAGE,
    detect_language,
    identify_languages,
)
from transforms.tagging.matching import find_matches, keep_longest
from transforms.tagging.registry import (
    TAGGERS,
    Tagger,
    get_tagger,
    select_taggers,
    tag_entities,
    tag_languages,
    tag_paragraphs,
    tag_quality,
    tag_topics,
    tag_with,
    tagger_versions,
)
from transforms.tagging.titles import tag_titles
from transforms.tagging.topics import ARTICLE_TOPICS, RANK, SHARE, TOPIC, article_topics

__all__ = [
    "ARTICLE_TOPICS",
    "MIN_LETTERS_FOR_LANGUAGE",
    "PERSON_TITLES",
    "RANK",
    "SHARE",
    "TAGGERS",
    "TOPIC",
    "Tagger",
    "article_topics",
    "detect_language",
    "find_matches",
    "get_tagger",
    "identify_languages",
    "keep_longest",
    "select_taggers",
    "tag_entities",
    "tag_languages",
    "tag_paragraphs",
    "tag_quality",
    "tag_titles",
    "tag_topics",
    "tag_with",
    "tagger_versions",
]
