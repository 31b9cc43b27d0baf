"""Names no gazetteer holds: people, organisations and places read from capitalised runs.

A *capitalised run* is a row of capitalised words, possibly joined by lower-case connectors
("Bank of England", "Jose de Souza"). Runs are found with one regular expression over the
whole column: ``str.extract_all`` of "a run, or text without capitals" tiles each paragraph,
so the running sum of the pieces' lengths gives each run's character offsets without any
per-paragraph Python. Each run is then cut and classified with Polars expressions by the
rules in ``data/names.toml`` (its header says what they are):

- words that open sentences ("The", "In", "However") and titles are cut from its front, and a
  day or month ends it, as does "of" unless an organisation head precedes it;
- an organisation suffix as its last word, or an organisation head followed by "of", makes an
  organisation; a place suffix a place;
- a given name or an initial as its first word makes a person, when the run has two to four
  words, none of them an organisation or place word, and neither its first nor its last word
  a known place;
- a lone acronym of 2-6 capitals (not a Roman numeral) in text that is not itself all
  capitals is an organisation;
- one to three name-like words right before "said" (or after it, closing the clause) are a
  person: "Lebed said", "..., said Dole.";
- in a results or standings line (a run followed by a number, no lower-case words) a run
  is a team, an organisation, even where a gazetteer knows it as a place.

Runs matching none of these are not tagged: a lone capitalised word may be anything. The
caller (:func:`transforms.tagging.entities.entity_tags`) lets a gazetteer match win where it
is at least as long as an overlapping run, so a run only adds what the lists do not know.

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

from transforms.schema import SPAN_END, SPAN_START, SURFACE, TAG_TYPE, TEXT

DETAIL_RUN = "capitalised"
DETAIL_TEAM = "results_line"
_RUN = "_run"
_WORD_COL = "_word"
_WORD_START = "_word_start"
_PART = "_part"
_MIXED_CASE = "_mixed_case"
_PIECE = "_piece"
_FIRST = "_first"
_SECOND = "_second"
_LAST = "_last"
_COUNT = "_count"
_ROW = "_row"

# A name word: an initial or initialism ("J.", "U.S."), or a capital then letters, with inner
# apostrophes or hyphens ("O'Gorman", "Jean-Pierre", "McDonald").
_WORD = r"(?:\p{Lu}\.(?:\p{Lu}\.)*|\p{Lu}[\p{L}\p{M}]*(?:['’-]\p{L}[\p{L}\p{M}]*)*)"
_SPEECH = "said|says|told|added|asked|wrote"  # verbs of speech that follow or precede a speaker


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
    def name_words_pattern(self) -> str:
        """Every word of the run looks like a name: a capital then a lower-case letter, an
        initial ("J."), "Mc"/"O'" and a capital, or a connector."""
        connectors = _alternatives(self.connectors)
        word = rf"\p{{Lu}}\p{{Ll}}\S*|\p{{Lu}}\.|Mc\p{{Lu}}\S*|O'\p{{Lu}}\S*|{connectors}"
        return rf"^(?:{word})(?: (?:{word}))*$"

    @functools.cached_property
    def type_words_pattern(self) -> str:
        """A word of the run is an organisation, place or event word."""
        words = self.organisation_suffixes | self.place_suffixes | self.event_words
        return rf"(?:^| )(?:{_alternatives(words)})(?: |$)"

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
        pieces.with_columns(_within(length, new_row).alias(SPAN_START))
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
        (pl.col(SPAN_START) + _within(word.str.len_chars() + 1, new_run)).alias(_WORD_START)
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
    words = words.filter((_within(named, new_part) + named) > 0)
    # A connector cannot end a part ("Bank of" once "England" was cut).
    last_in_part = pl.col(_PART).ne_missing(pl.col(_PART).shift(-1))
    words = words.filter(~(last_in_part & word.is_in(list(rules.connectors))))
    return (
        words.group_by(_PART, maintain_order=True)
        .agg(pl.col(_ROW).first(), word.str.join(" ").alias(SURFACE), pl.col(_WORD_START).first())
        .select(_ROW, SURFACE, pl.col(_WORD_START).alias(SPAN_START))
        .with_columns((pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END))
    )


def _within(values: pl.Expr, starts_group: pl.Expr) -> pl.Expr:
    """Sum of `values` over the earlier rows of the same group, for groups of contiguous rows
    (a row starts a group where `starts_group`)."""
    before = values.cum_sum() - values
    return before - pl.when(starts_group).then(before).forward_fill()


def results_teams(runs: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """capitalised_runs rows -> those naming teams in a results or standings line: the run
    is followed by a number, in a paragraph with two numbers or more and no lower-case word
    of three letters or more ("Lotte 6 Hyundai 2", "ST LOUIS 69 65 .515"). Such a line names
    clubs, not places."""
    text = pl.col(TEXT)
    tabular = texts.filter(
        ~text.str.contains(r"(?:^|[^\p{L}])\p{Ll}{3,}") & text.str.contains(r"\d[^\d]+\d")
    )
    # ... and the number is no date: "LONDON 1996-08-30" is a dateline.
    after = text.str.slice(pl.col(SPAN_END), 7)
    followed_by_number = after.str.contains(r"^ \d") & ~after.str.contains(r"^ \d{4}-\d")
    return (
        runs.join(tabular, on=_ROW, how="inner")
        .filter(followed_by_number)
        .drop(TEXT)
        .with_columns(pl.lit("organisation").alias(TAG_TYPE))
    )


def classify_runs(
    runs: pl.DataFrame, texts: pl.DataFrame, rules: NameRules, places: list[str]
) -> pl.DataFrame:
    """capitalised_runs rows (+ texts: _row, TEXT) -> the classified ones with TAG_TYPE
    ('person', 'organisation' or 'place'); unclassified runs are dropped. `places` are the
    gazetteer's place names: a run starting or ending with one is no person ("Paris St
    Germain", "Hong Kong Open").

    Words are read from the run's text with regular expressions (no list columns), and the
    paragraph's text is joined only to the few runs the speaker rule needs it for."""
    surface = pl.col(SURFACE)
    # The run's word count and first, second and last words, read once: each rule below
    # refers to the columns (an expression repeated in several rules is computed each time).
    words = {
        _COUNT: surface.str.count_matches(" ") + 1,
        _FIRST: surface.str.extract(r"^(\S+)", 1),
        _SECOND: surface.str.extract(r"^\S+ (\S+)", 1),
        _LAST: surface.str.extract(r"(\S+)$", 1),
    }
    count, first, second, last = (pl.col(name) for name in words)
    place_names = pl.Series(places, dtype=pl.String).implode()
    heads = _alternatives(rules.organisation_heads)
    is_org = (count >= 2) & (
        last.is_in(list(rules.organisation_suffixes)) | surface.str.contains(rf"^(?:{heads}) of ")
    )
    is_place = (count >= 2) & last.is_in(list(rules.place_suffixes))
    name_words = surface.str.contains(rules.name_words_pattern)
    holds_type_word = surface.str.contains(rules.type_words_pattern)
    initialled = first.str.contains(r"^\p{Lu}\.$") & second.str.contains(r"^\p{Lu}\p{Ll}")
    is_person = (
        count.is_between(2, 4)
        & (first.is_in(rules.given_name_series.implode()) | initialled)
        & name_words
        & ~holds_type_word
        & ~first.is_in(place_names)
        & ~last.is_in(place_names)
    )
    is_acronym = (
        (count == 1)
        & surface.str.contains(r"^\p{Lu}{2,6}$")
        & ~surface.str.contains(r"^[IVXLC]+$")  # a Roman numeral
        & ~surface.is_in(list(rules.common_acronyms))
        & pl.col(_MIXED_CASE)
    )
    kind = (
        pl.when(is_org)
        .then(pl.lit("organisation"))
        .when(is_place)
        .then(pl.lit("place"))
        .when(is_person)
        .then(pl.lit("person"))
        .when(is_acronym)
        .then(pl.lit("organisation"))
    )
    # An acronym in an all-capitals paragraph (a headline) says nothing.
    mixed_case = texts.select(
        _ROW, pl.col(TEXT).str.contains(r"\p{Ll}.*\p{Ll}.*\p{Ll}").alias(_MIXED_CASE)
    )
    judged = (
        runs.join(mixed_case, on=_ROW, how="left")
        .with_columns(**words)
        .with_columns(
            kind.alias(TAG_TYPE),
            (count.is_between(1, 3) & name_words & ~holds_type_word).alias("_may_speak"),
        )
        .drop(*words)
    )
    # Someone who speaks: "Lebed said", "said Dole ." (one to three name-like words).
    after = pl.col(TEXT).str.slice(pl.col(SPAN_END), 10)
    before = pl.col(TEXT).str.slice(pl.max_horizontal(pl.col(SPAN_START) - 6, 0), 6)
    speaks = after.str.contains(rf"^ (?:{_SPEECH})(?:[^\p{{L}}]|$)") | (
        before.str.contains(rf"(?:^|[^\p{{L}}])(?:{_SPEECH}) $")
        & after.str.contains(r"^(?:\s*[.,;]|$)")
    )
    speakers = (
        judged.filter(pl.col(TAG_TYPE).is_null() & pl.col("_may_speak"))
        .join(texts, on=_ROW, how="left")
        .filter(speaks)
        .drop(TEXT)
        .with_columns(pl.lit("person").alias(TAG_TYPE))
    )
    return (
        pl.concat([judged.drop_nulls(TAG_TYPE), speakers])
        .drop(_MIXED_CASE, "_may_speak")
        .sort(_ROW, SPAN_START)
    )
