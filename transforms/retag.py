"""Re-tagging stored paragraphs: which taggers to run, and their new tags.

Pure Polars, like the rest of the package: what the warehouse holds (the versions of the
current tags, pages of stored paragraphs) comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.errors import UnknownTagger
from transforms.gazetteer import Gazetteer
from transforms.tagging import detect_language, tag_with


@dataclass(frozen=True)
class TaggerChange:
    """A tagger to re-tag with: the versions its current tags come from (none if it never
    tagged) and the version of the code now."""

    tagger: str
    old_versions: tuple[str, ...]
    new_version: str


def check_taggers(names: Collection[str], *, versions: Mapping[str, str]) -> tuple[str, ...]:
    """The names, each once, in the order of `versions`; an unknown one raises UnknownTagger
    naming the known ones."""
    unknown = sorted(set(names) - versions.keys())
    if unknown:
        raise UnknownTagger(
            f"unknown tagger {', '.join(map(repr, unknown))}; the taggers are "
            f"{', '.join(versions)} (--tagger NAME, repeatable, or --all)"
        )
    return tuple(name for name in versions if name in names)


def choose_taggers(
    current: pl.DataFrame,
    *,
    versions: Mapping[str, str],
    requested: Collection[str] | None,
    n_paragraphs: int,
) -> list[TaggerChange]:
    """Taggers to re-tag with, given `current` (tagger, tagger_version, paragraphs: the versions
    of the current tags of the `n_paragraphs` stored paragraphs).

    `requested` names them (checked against `versions`); None takes every tagger whose current
    tags are not all of its version in `versions`: an older or newer version, or paragraphs
    it never tagged. With no paragraphs there is nothing to re-tag.
    """
    names = check_taggers(requested, versions=versions) if requested is not None else None
    if n_paragraphs == 0:
        return []
    changes = []
    for tagger, version in versions.items():
        rows = current.filter(pl.col(S.TAGGER) == tagger)
        old = tuple(sorted(rows[S.TAGGER_VERSION].drop_nulls().unique()))
        covered = int(rows.filter(pl.col(S.TAGGER_VERSION) == version)["paragraphs"].sum())
        stale = covered < n_paragraphs
        if (tagger in names) if names is not None else stale:
            changes.append(TaggerChange(tagger, old, version))
    return changes


def relabel_languages(paragraphs: pl.DataFrame, *, cache_dir: Path | None = None) -> pl.DataFrame:
    """STORED_PARAGRAPHS -> the same, LANGUAGE replaced by the language tagger's verdict on the
    text, or where it gives none (too few letters, unsure) by ARTICLE_LANGUAGE.

    As in the ingest (transforms.pipeline.assign_languages), detect_language judges the text
    and a paragraph it cannot judge inherits an article's language. Two differences: the
    article is the one the paragraph was first seen in (paragraphs.first_article_id), where
    the ingest takes the first article of its batch by id; and its language is the one stored
    with it (articles.language, from the language tagger of its ingest), where the ingest
    computes it from the same run's verdicts. Re-computing every article's language would
    need every paragraph's new verdict first: a second pass over the warehouse.
    `cache_dir` holds the unpacked language model.
    """
    judged = detect_language(paragraphs.drop(S.LANGUAGE), cache_dir=cache_dir).with_columns(
        pl.col(S.LANGUAGE).fill_null(pl.col(S.ARTICLE_LANGUAGE))
    )
    return judged.pipe(S.conform, S.STORED_PARAGRAPHS)


def retag_paragraphs(
    paragraphs: pl.DataFrame,
    tagger: str,
    *,
    gazetteer: Gazetteer | None,
    cache_dir: Path | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """STORED_PARAGRAPHS -> (TAGS of `tagger`, and for the language tagger PARAGRAPH_HASH,
    LANGUAGE: the new language of every paragraph, else None). `cache_dir` holds the
    unpacked language model."""
    if tagger != "language":
        return tag_with(paragraphs, {tagger}, gazetteer=gazetteer), None
    relabelled = relabel_languages(paragraphs, cache_dir=cache_dir)
    tags = tag_with(relabelled, {tagger}, gazetteer=gazetteer)
    return tags, relabelled.select(S.PARAGRAPH_HASH, S.LANGUAGE)
