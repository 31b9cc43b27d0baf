"""Where names no gazetteer holds may be: capitalised runs, and the word lists that type them.

A *capitalised run* is a row of capitalised words, possibly joined by lower-case connectors
("Bank of England", "Jose de Souza"). Runs are found with one regular expression over the
whole column: ``str.extract_all`` of "a run, or text without capitals" tiles each paragraph,
so the running sum of the pieces' lengths gives each run's character offsets without any
per-paragraph Python. Openers are cut from a run's front and it is split at calendar words
(``data/names.toml``, whose header says what its lists are). Which spans of a run name a
person, a place or an organisation is :mod:`transforms.tagging.spans`' model's call; the
lists here are among its features.

The given names come from the data file of the ``gender-guesser`` package (about 45,000
names from many countries), read once.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

import polars as pl

from transforms.schema import SPAN_END, SPAN_START, SURFACE, TEXT

_RUN = "_run"
_WORD_COL = "_word"
_WORD_START = "_word_start"
_PART = "_part"
_PIECE = "_piece"
_ROW = "_row"

# A name word: an initial or initialism ("J.", "U.S."), or a capital then letters, with inner
# apostrophes or hyphens ("O'Gorman", "Jean-Pierre", "McDonald").
_WORD = r"(?:\p{Lu}\.(?:\p{Lu}\.)*|\p{Lu}[\p{L}\p{M}]*(?:['’-]\p{L}[\p{L}\p{M}]*)*)"


@dataclass(frozen=True)
class NameRules:
    """The word lists of data/names.toml plus the given names."""

    connectors: tuple[str, ...]
    openers: frozenset[str]
    not_given_names: frozenset[str]
    calendar: frozenset[str]
    organisation_suffixes: frozenset[str]
    organisation_heads: tuple[str, ...]
    place_suffixes: frozenset[str]
    event_words: frozenset[str]
    common_acronyms: frozenset[str]
    given_names: frozenset[str]

    @functools.cached_property
    def given_name_series(self) -> pl.Series:
        return pl.Series(sorted(self.given_names - self.not_given_names), dtype=pl.String)

    @functools.cached_property
    def cutting_pattern(self) -> str:
        """The run may need cutting: it starts with an opener, holds a calendar word, "of" or
        a possessive before another word."""
        return (
            rf"^(?:{_alternatives(self.openers)})(?: |$)"
            rf"|(?:^| )(?:{_alternatives(self.calendar)})(?: |$)| of |['’]s "
        )

    @functools.cached_property
    def tiling_pattern(self) -> str:
        """A run, or a stretch of text without capitals: the matches tile the text, so the
        running sum of their lengths gives each run's offset."""
        connectors = "|".join(re.escape(word) for word in self.connectors)
        return rf"{_WORD}(?: (?:(?:{connectors}) )?{_WORD})*|[^\p{{Lu}}]+"


def _alternatives(words) -> str:
    """A regex alternation of the words, longest first (leftmost-first matching)."""
    return "|".join(re.escape(word) for word in sorted(words, key=lambda w: (-len(w), w)))


def load_name_rules(extra_not_given: tuple[str, ...] = ()) -> NameRules:
    """The rules of data/names.toml (cached); `extra_not_given` adds words cut from run fronts
    (the tagger passes its person titles)."""
    return _load(tuple(sorted(extra_not_given)))


@functools.cache
def _load(titles: tuple[str, ...]) -> NameRules:
    from transforms.gazetteer import DATA_DIR  # the data folder is shared

    data = tomllib.loads((DATA_DIR / "names.toml").read_text(encoding="utf-8"))
    single_titles = frozenset(title for title in titles if " " not in title)
    return NameRules(
        connectors=tuple(data["connectors"]),
        openers=frozenset(data["openers"]) | single_titles,
        not_given_names=frozenset(data["not_given_names"]) | single_titles,
        calendar=frozenset(data["calendar"]),
        organisation_suffixes=frozenset(data["organisation_suffixes"]),
        organisation_heads=tuple(data["organisation_heads"]),
        place_suffixes=frozenset(data["place_suffixes"]),
        event_words=frozenset(data["event_words"]),
        common_acronyms=frozenset(data["common_acronyms"]),
        given_names=_given_names(),
    )


def _given_names() -> frozenset[str]:
    """Given names in gender-guesser's nam_dict.txt: column 4-29 of its data lines ("+" joins
    the parts of a compound name, written with a hyphen or a space in text)."""
    text = (
        resources.files("gender_guesser")
        .joinpath("data/nam_dict.txt")
        .read_text(encoding="utf-8", errors="replace")
    )
    lines = pl.Series(text.splitlines())
    names = (
        lines.filter(~lines.str.starts_with("#") & ~lines.str.starts_with("="))
        .str.slice(3, 26)
        .str.strip_chars()
        .str.replace_all("+", "-", literal=True)
    )
    return frozenset(names.filter(names.str.contains(r"^\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?$")))


def capitalised_runs(frame: pl.DataFrame, rules: NameRules) -> pl.DataFrame:
    """_row, TEXT -> one row per capitalised run: _row, SURFACE, SPAN_START, SPAN_END
    (characters), after cutting openers from its front and splitting it at calendar words.

    Rows of one run, and of one paragraph, are contiguous after each explode, so "within a
    group" quantities are running sums minus the sum where the group starts (no window
    functions over hundreds of thousands of small groups).
    """
    pieces = (
        frame.select(_ROW, pl.col(TEXT).str.extract_all(rules.tiling_pattern).alias(_PIECE))
        .explode(_PIECE)
        .drop_nulls(_PIECE)
    )
    piece = pl.col(_PIECE)
    length = piece.str.len_chars()
    new_row = pl.col(_ROW).ne_missing(pl.col(_ROW).shift(1))
    # A run counts only at the start of a word: first in its paragraph or after a piece
    # ending in a character that is not part of a word ("iPhone" holds no run).
    after_word = piece.shift(1).str.contains(r"[\p{L}\p{M}\p{N}'’-]$") & ~new_row
    runs = (
        pieces.with_columns(within(length, new_row).alias(SPAN_START))
        .filter(piece.str.contains(r"^\p{Lu}") & ~after_word)
        .select(_ROW, SPAN_START, piece.alias(SURFACE))
    )
    # Most runs need no cutting and are kept as they are; the others go word by word.
    needs_cutting = pl.col(SURFACE).str.contains(rules.cutting_pattern)
    plain = runs.filter(~needs_cutting).with_columns(
        (pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END)
    )
    cut = _cut_runs(runs.filter(needs_cutting), rules)
    return pl.concat([plain.select(_ROW, SURFACE, SPAN_START, SPAN_END), cut]).sort(
        _ROW, SPAN_START
    )


def _cut_runs(runs: pl.DataFrame, rules: NameRules) -> pl.DataFrame:
    """Runs (_row, SPAN_START, SURFACE) -> their parts once openers are cut from the front
    and the run is split at calendar words, a bare "of" and possessives."""
    # Words of each run with their offsets, to cut and split runs on whole words.
    words = (
        runs.with_row_index(_RUN)
        .with_columns(pl.col(SURFACE).str.split(" ").alias(_WORD_COL))
        .explode(_WORD_COL)
    )
    word = pl.col(_WORD_COL)
    new_run = pl.col(_RUN).ne_missing(pl.col(_RUN).shift(1))
    words = words.with_columns(
        (pl.col(SPAN_START) + within(word.str.len_chars() + 1, new_run)).alias(_WORD_START)
    )
    # A calendar word ends a run, and so does "of" unless an organisation head comes before
    # it ("Bank of England", but "Tim O'Gorman of Leeds United" is two names).
    heads = [head for head in rules.organisation_heads if " " not in head]
    split_of = (word == "of") & ~(word.shift(1).is_in(heads) & ~new_run)
    boundary = word.is_in(list(rules.calendar)) | split_of
    # A possessive ends its part: "London's Leicester Square" is two names.
    after_possessive = word.shift(1).str.contains(r"['’]s$") & ~new_run
    words = words.with_columns(
        (new_run | boundary | after_possessive).cum_sum().alias(_PART)
    ).filter(~boundary)
    # Openers are cut from the front of each part (any number of them).
    new_part = pl.col(_PART).ne_missing(pl.col(_PART).shift(1))
    named = (~word.is_in(list(rules.openers))).cast(pl.Int64)
    words = words.filter((within(named, new_part) + named) > 0)
    # A connector cannot end a part ("Bank of" once "England" was cut).
    last_in_part = pl.col(_PART).ne_missing(pl.col(_PART).shift(-1))
    words = words.filter(~(last_in_part & word.is_in(list(rules.connectors))))
    return (
        words.group_by(_PART, maintain_order=True)
        .agg(pl.col(_ROW).first(), word.str.join(" ").alias(SURFACE), pl.col(_WORD_START).first())
        .select(_ROW, SURFACE, pl.col(_WORD_START).alias(SPAN_START))
        .with_columns((pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END))
    )


def within(values: pl.Expr, starts_group: pl.Expr) -> pl.Expr:
    """Sum of `values` over the earlier rows of the same group, for groups of contiguous rows
    (a row starts a group where `starts_group`)."""
    before = values.cum_sum() - values
    return before - pl.when(starts_group).then(before).forward_fill()
