"""The taggers by name, and running any set of them over paragraphs.

Each :class:`Tagger` entry holds the tagger's version (stored with every tag it makes), the tag
types it emits and its function; :data:`TAGGERS` is the one place versions are written. Every
tag is made by :func:`tag_with` (or :func:`tag_paragraphs`, all of them), which looks the
taggers up here, or by one of the single-tagger functions for tests and evaluations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from transforms.errors import UnknownTagger
from transforms.gazetteer import KEYWORD, Gazetteer
from transforms.schema import LANGUAGE, PARAGRAPH_HASH, SURFACE, TAGS, TEXT
from transforms.tagging.entities import PERSON_TITLES, entity_patterns, entity_tags
from transforms.tagging.frames import finish, ranked, sorted_without_duplicates, with_hashes
from transforms.tagging.language import language_tags
from transforms.tagging.matching import FOLD_ASCII, find_matches
from transforms.tagging.quality import quality_tags
from transforms.tagging.topics import topic_patterns, topic_tags

TAG_SLICE = 40_000
"""Paragraphs tagged together. Tags depend on a paragraph's text alone, so slices of the
paragraphs sorted by hash, tagged apart and concatenated, give the same rows in the same order;
two slices at a time keep both cores busy (Polars runs much of the tagging on one) and bound
each slice's working memory (see BENCHMARKS.md)."""
TAG_THREADS = min(2, os.cpu_count() or 1)


class Paragraphs:
    """Distinct paragraphs as the taggers read them: `frame` (ROW, PARAGRAPH_HASH, TEXT and
    LANGUAGE where given, from :func:`~transforms.tagging.frames.ranked`), the gazetteer, and
    the occurrences of `patterns` (by default every tagger's: :func:`search_patterns`), found
    once for the taggers that read them."""

    def __init__(
        self,
        frame: pl.DataFrame,
        gazetteer: Gazetteer | None,
        patterns: pl.Series | None = None,
    ) -> None:
        self.frame = frame
        self._gazetteer = gazetteer
        self._patterns = patterns

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer; ValueError if none was given (tag_with checks first)."""
        if self._gazetteer is None:
            raise ValueError("these taggers need a gazetteer")
        return self._gazetteer

    @cached_property
    def found(self) -> pl.DataFrame:
        """find_matches rows of the patterns, ASCII case-insensitive."""
        # One case-insensitive pass finds names, titles and keywords alike; each tagger keeps
        # its own (overlapping matching reports every pattern's occurrences whatever else is
        # sought).
        patterns = search_patterns(self.gazetteer) if self._patterns is None else self._patterns
        return find_matches(self.frame, patterns, ignore_case=True)


@dataclass(frozen=True)
class Tagger:
    """A tagger as the registry knows it."""

    name: str
    version: str
    """Stored with every tag it makes; a change of behaviour means a new version."""
    emits: frozenset[str]
    """The TAG_TYPEs of its tags (no two taggers share one)."""
    tag: Callable[[Paragraphs], pl.DataFrame]
    """Paragraphs -> ROW + TAGS columns (TAGGER and TAGGER_VERSION are set by :func:`stamp`)."""
    needs_gazetteer: bool = False


TAGGERS: dict[str, Tagger] = {
    tagger.name: tagger
    for tagger in (
        Tagger(
            name="entities",
            version="entities_v4",
            emits=frozenset({"person", "place", "organisation"}),
            tag=lambda paragraphs: entity_tags(
                paragraphs.found, paragraphs.frame, gazetteer=paragraphs.gazetteer
            ),
            needs_gazetteer=True,
        ),
        Tagger(
            name="topics",
            version="topics_v3",
            emits=frozenset({"topic"}),
            tag=lambda paragraphs: topic_tags(paragraphs.found, gazetteer=paragraphs.gazetteer),
            needs_gazetteer=True,
        ),
        Tagger(
            name="language",
            version="language_v1",
            emits=frozenset({"language"}),
            tag=lambda paragraphs: language_tags(paragraphs.frame),
        ),
        Tagger(
            name="quality",
            version="quality_v3",
            emits=frozenset({"quality"}),
            tag=lambda paragraphs: quality_tags(paragraphs.frame),
        ),
    )
}
"""Tagger name -> its entry, in the order taggers run and versions are listed."""


def tagger_versions() -> dict[str, str]:
    """Tagger name -> version, in registry order (what a run records it tagged with)."""
    return {name: tagger.version for name, tagger in TAGGERS.items()}


def get_tagger(name: str) -> Tagger:
    """The entry of `name`; an unknown name raises UnknownTagger naming the known ones."""
    return select_taggers([name])[0]


def select_taggers(names: Collection[str]) -> tuple[Tagger, ...]:
    """The entries of `names`, each once, in registry order; an unknown name raises
    UnknownTagger naming the known ones."""
    unknown = sorted(set(names) - TAGGERS.keys())
    if unknown:
        raise UnknownTagger(
            f"unknown tagger {', '.join(map(repr, unknown))}; the taggers are {', '.join(TAGGERS)}"
        )
    return tuple(tagger for name, tagger in TAGGERS.items() if name in names)


def stamp(tags: pl.DataFrame, tagger: Tagger) -> pl.DataFrame:
    """A tagger's ROW + TAGS columns -> all TAGS columns but PARAGRAPH_HASH, with its name and
    version."""
    return finish(tags, tagger.name, tagger.version)


def search_patterns(gazetteer: Gazetteer) -> pl.Series:
    """Entity surfaces, person titles and topic keywords, each ASCII case-folded form once:
    matching them case-insensitively would otherwise report "US" and "us" twice."""
    patterns = [*gazetteer.entities[SURFACE], *PERSON_TITLES, *gazetteer.topic_rules[KEYWORD]]
    # Any spelling of a folded form finds all of them; which one is kept does not matter.
    folded = {pattern.translate(FOLD_ASCII): pattern for pattern in patterns}
    return pl.Series(SURFACE, list(folded.values()), dtype=pl.String)


# --- running taggers -----------------------------------------------------------------------


def tag_paragraphs(paragraphs: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE -> TAGS of every tagger: one row per tag, sorted,
    without duplicates."""
    return tag_with(paragraphs, TAGGERS.keys(), gazetteer=gazetteer)


def tag_with(
    paragraphs: pl.DataFrame, taggers: Collection[str], *, gazetteer: Gazetteer | None
) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE -> TAGS of the named taggers only: the rows
    :func:`tag_paragraphs` gives for them. `gazetteer` may be None when none of them needs
    one."""
    chosen = select_taggers(taggers)
    if gazetteer is None and any(tagger.needs_gazetteer for tagger in chosen):
        needing = [tagger.name for tagger in chosen if tagger.needs_gazetteer]
        raise ValueError(f"tag_with needs a gazetteer for {', '.join(needing)}")
    return _in_slices(
        paragraphs.select(PARAGRAPH_HASH, TEXT, LANGUAGE),
        lambda part: _tag_slice(part, chosen, gazetteer=gazetteer),
    )


def _tag_slice(
    paragraphs: pl.DataFrame, taggers: tuple[Tagger, ...], *, gazetteer: Gazetteer | None
) -> pl.DataFrame:
    frame = ranked(paragraphs)
    view = Paragraphs(frame, gazetteer)
    parts = [stamp(tagger.tag(view), tagger) for tagger in taggers]
    if not parts:
        return pl.DataFrame(schema=TAGS)
    return with_hashes(sorted_without_duplicates(pl.concat(parts)), frame)


def _in_slices(
    paragraphs: pl.DataFrame, tag: Callable[[pl.DataFrame], pl.DataFrame]
) -> pl.DataFrame:
    """`tag(part)` of each TAG_SLICE of the distinct paragraphs in hash order, TAG_THREADS at a
    time, concatenated: what `tag(paragraphs)` gives."""
    distinct = paragraphs.unique(PARAGRAPH_HASH, keep="first", maintain_order=True)
    if distinct.height <= TAG_SLICE:
        return tag(distinct)
    ordered = distinct.sort(PARAGRAPH_HASH, nulls_last=False)
    parts = [ordered.slice(start, TAG_SLICE) for start in range(0, ordered.height, TAG_SLICE)]
    with ThreadPoolExecutor(max_workers=TAG_THREADS) as pool:
        return pl.concat(list(pool.map(tag, parts)))


# --- one tagger alone ----------------------------------------------------------------------


def _tag_alone(
    frame: pl.DataFrame,
    name: str,
    gazetteer: Gazetteer | None = None,
    patterns: pl.Series | None = None,
) -> pl.DataFrame:
    """TAGS of one tagger over `frame`, searching only for `patterns`; rows in no set order."""
    tagger = TAGGERS[name]
    rows = ranked(frame)
    return with_hashes(stamp(tagger.tag(Paragraphs(rows, gazetteer, patterns)), tagger), rows)


def tag_entities(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS rows for people, places and organisations."""
    return _tag_alone(frame, "entities", gazetteer, entity_patterns(gazetteer))


def tag_topics(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS topic rows: SCORE = summed keyword weights >= threshold."""
    return _tag_alone(frame, "topics", gazetteer, topic_patterns(gazetteer))


def tag_languages(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, LANGUAGE -> one TAGS language row per paragraph whose LANGUAGE is set."""
    return _tag_alone(frame, "language")


def tag_quality(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS quality rows; SCORE is the measure behind each flag."""
    return _tag_alone(frame, "quality")
