"""Tagging: language, entities (people, places, organisations), topics and quality flags.

Taggers add rows to a TAGS frame; they never change or drop paragraphs. Entity and topic
matching is one Aho-Corasick pass over the whole column (``str.find_many`` /
``str.extract_many``, overlapping, ASCII case-insensitive) for gazetteer surfaces, person titles
and topic keywords at once; each tagger keeps its own occurrences (names and titles only in
their exact case) and applies word-boundary, ambiguity and longest-match rules written as
Polars expressions. Spans are CHARACTER offsets into the paragraph's normalised TEXT (Polars
reports byte offsets; they are converted).

For speed the taggers key paragraphs by their rank (``_ranked``) instead of the 64-character
hash, and read word boundaries and character counts of ASCII text straight from its bytes.

Rules, on purpose conservative (accurate rather than greedy):

- whole words only: the characters before and after a match must not be letters or digits,
  so "Russia" is not found inside "Russian" (the demonym entry tags that);
- overlapping matches: the leftmost, then longest, wins ("Xi Jinping" over "Xi", "New Mexico"
  blocks "Mexico");
- ambiguous places (data/ambiguity.csv, rule ``context``) are dropped next to a person cue: a
  preceding capitalised word that is not a common sentence opener ("Michael Jordan", "Mr
  Chad") or a following capitalised word ("Chad Smith");
- heuristic people: a title (Mr, Mrs, Ms, Dr, President, Prime Minister, Minister, Chancellor,
  ...) followed by one to three capitalised words, unless a gazetteer entity overlaps them; a
  lone surname belonging to exactly one gazetteer person resolves to them ("Mr Brown" ->
  "Gordon Brown"). Capitalised words with no title are never guessed to be people;
- abbreviated states that are also words ("Miss.", "Ind.", "Mass.") are places only right
  after a capitalised name and a comma ("Jackson, Miss.");
- a paragraph that opens with a dateline (:mod:`transforms.dateline`) gets place tags with
  detail "dateline" for its city and its country;
- exchange tickers in angle brackets ("<BAC>") are organisations (detail "ticker", the symbol
  as value), and so is the capitalised run right before one (detail "ticker_name").

Titles are tagged by :func:`tag_titles` with the same rules, an all-capitals title read
title-cased.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl

from transforms.boilerplate import is_sign_off
from transforms.dateline import (
    CITY_END,
    CITY_START,
    CITY_VALUE,
    REGION_COUNTRY,
    REGION_END,
    REGION_START,
    read_datelines,
)
from transforms.gazetteer import (
    DETAIL_CITY,
    DETAIL_COUNTRY,
    IS_PREFIX,
    KEYWORD,
    NEEDS_CITY,
    NEEDS_CONTEXT,
    QUALITY_FLAGS,
    TAGGER_VERSIONS,
    WEIGHT,
    Gazetteer,
)
from transforms.langid import classify, load_configured_model, utf8_buffer
from transforms.markup import first_element, has_markup
from transforms.names import (
    DETAIL_RUN,
    DETAIL_TEAM,
    capitalised_runs,
    classify_runs,
    load_name_rules,
    results_teams,
)
from transforms.normalise import normalise_text
from transforms.schema import (
    ARTICLE_ID,
    COUNTRY,
    DATELINE_COUNTRY,
    LANGUAGE,
    PARAGRAPH_HASH,
    SCORE,
    SPAN_END,
    SPAN_START,
    SURFACE,
    TAG_DETAIL,
    TAG_TYPE,
    TAG_VALUE,
    TAGGER,
    TAGGER_VERSION,
    TAGS,
    TEXT,
    TICKER,
    TITLE,
    TITLE_TAGS,
    conform,
)

MIN_LETTERS_FOR_LANGUAGE = 20
"""Fewer letters than this (any script) and detect_language returns None: too little to judge."""
MIN_LANGUAGE_CONFIDENCE = 0.5
"""Below this py3langid probability detect_language returns None (on BBC paragraphs every
wrong guess - headlines, team sheets - fell below it)."""
MAX_CHARS_FOR_LANGUAGE = 400
"""Only the first characters are read: the classifier's cost grows with length, its verdict
does not. On 113,777 generated BBC paragraphs (mean 447 characters) 400 gave the verdict of
1,000 on 99.98% and took 35% less time; on 2,490 French, Spanish, Chinese and Khmer paragraphs
every verdict was the same."""

MIN_WORDS = 5
"""too_short: fewer words than this. Whitespace-separated tokens, and in scripts written without
spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each character counts as a word."""
MIN_LETTER_SHARE = 0.5
"""mostly_non_letters: letters are less than this share of the non-space characters."""
MIN_CAPITALS = 8
MIN_CAPITAL_SHARE = 0.9
"""all_caps: at least MIN_CAPITALS capital letters making up this share of all letters."""
MIN_TABLE_DIGITS = 4
MIN_TABLE_DIGIT_SHARE = 0.3
"""numeric_table: at least MIN_TABLE_DIGITS digits making up this share of letters and digits
(a line of results, an earnings table, an index level: "Revs 29.5 mln vs 19.8 mln" is 0.32).
Prose that cites figures stays below it ("Sales rose 12% to 3.4bn in 2004, the company said"
is 0.2): 24 of the BBC corpus's 9,779 paragraphs reach it, most a number alone."""
DETAIL_SIGN_OFF = "sign_off"  # likely_boilerplate by rule (transforms.boilerplate)

DETAIL_HEURISTIC = "heuristic"
DETAIL_DATELINE = "dateline"
DETAIL_TICKER = "ticker"
DETAIL_TICKER_NAME = "ticker_name"
_MAX_BYTES_COUNTED = 2**16 - 1  # longer texts are counted with regexes (see _ascii_counts)
_CHUNK_BYTES = 2**20  # how many bytes of text numpy classifies at a time

# Private working columns.
_ROW = "_row"  # the paragraph's rank by PARAGRAPH_HASH (see _ranked)
_MATCH = "_match"
_BYTE_START = "_byte_start"
_BYTE_END = "_byte_end"
_IS_ASCII = "_is_ascii"  # the paragraph's text is ASCII only: bytes are characters
_ENDS_WORD = "_ends_word"
_SOURCE = "_source"  # which entity source a candidate came from (lower wins a tie)
_AS_WRITTEN = "_as_written"  # a title's normalised text where TEXT holds it title-cased
# Bytes that are letters or digits: ASCII ones only, the others are parts of longer characters.
_WORD_BYTES = np.array([chr(byte).isascii() and chr(byte).isalnum() for byte in range(256)])
_ASCII_UPPERCASE = [chr(code) for code in range(ord("A"), ord("Z") + 1)]
_ASCII_LOWERCASE = [letter.lower() for letter in _ASCII_UPPERCASE]
_FOLD_ASCII = str.maketrans(dict(zip(_ASCII_UPPERCASE, _ASCII_LOWERCASE, strict=True)))
_CONTEXT_CHARS = 40  # how far to look around an ambiguous match for a person cue

# Titles that announce a person's name; matched like gazetteer entries, so "Prime Minister"
# wins over the "Minister" inside it.
PERSON_TITLES = (
    "Prime Minister", "prime minister", "Foreign Minister", "Foreign Secretary", "Home Secretary",
    "Secretary-General", "Secretary General", "Secretary", "President", "president", "Premier",
    "Minister", "minister", "Chancellor", "Vice-President", "Vice President", "Senator", "Sen",
    "Governor", "Mayor", "Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Professor", "Sir", "Dame",
    "Lord", "Lady", "Gen", "Judge", "Chairman", "Chairwoman", "Rev", "Ayatollah",
    "Sheikh", "King", "Queen", "Prince", "Princess", "Pope", "Cardinal", "Archbishop", "Bishop",
)  # fmt: skip
_NAME_WORD = r"(?:Mc|Mac|O')?\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?"
# Capitalised words that follow a title without being a name ("Prime Minister Question Time").
NOT_NAMES = (
    "The", "This", "That", "These", "Those", "He", "She", "It", "They", "We", "His", "Her",
    "Election", "Elections", "Council", "Committee", "Office", "Government", "Party", "House",
    "Court", "Assembly", "Question", "Questions", "Time", "Day", "Minister", "Ministers",
    "Secretary", "President", "Chancellor", "Mayor", "General", "Cabinet", "Of", "And", "For",
)  # fmt: skip
# What may follow a title: an optional full stop ("Mr."), one space, one to three name words.
_NAME_AFTER_TITLE = rf"^(\.? )({_NAME_WORD}(?: {_NAME_WORD}){{0,2}})(?:[^\p{{L}}\p{{N}}]|$)"
_NAME_LOOKAHEAD = 80  # characters after a title searched for the name

# Capitalised words that often open a sentence or clause before a place name; any other
# capitalised word right before an ambiguous place reads as a first name or a title.
SENTENCE_OPENERS = (
    "In", "At", "From", "To", "For", "With", "And", "But", "Or", "Of", "On", "By", "As", "Across",
    "Inside", "Outside", "Like", "Unlike", "Both", "Neither", "Even", "Only", "Also", "Then",
    "While", "When", "Where", "After", "Before", "Since", "Until", "Meanwhile", "However",
    "Including", "Between", "Against", "Towards", "Toward", "Near", "Over", "Under", "Into",
    "Through", "Within", "Beyond", "Via", "Unlike", "Neighbouring", "Neighboring", "Visiting",
    "Why", "How", "If", "Although", "Though", "Because", "Whether", "Yet", "So", "Now", "Today",
)  # fmt: skip

# Sorting by the rank sorts by PARAGRAPH_HASH.
_OUTPUT_ORDER = (_ROW, TAG_TYPE, SPAN_START, TAG_VALUE)
# What the gate holds unique per tagger version (paragraphs_suite tag_key_unique): a dateline's
# "WASHINGTON" and the gazetteer's "WASHINGTON, D.C." start alike and name the same city.
_OUTPUT_KEY = (_ROW, TAG_TYPE, TAG_VALUE, SPAN_START)


# --- language ------------------------------------------------------------------------------


def detect_language(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> same + LANGUAGE (ISO 639-1).

    LANGUAGE is None when the text has fewer than MIN_LETTERS_FOR_LANGUAGE letters or the
    model is less sure than MIN_LANGUAGE_CONFIDENCE; the pipeline then lets the paragraph
    inherit its article's language.
    """
    # "at least N letters" stops at the Nth: 25x cheaper than counting every letter
    judgeable = pl.col(TEXT).str.contains(rf"^(?:\P{{L}}*\p{{L}}){{{MIN_LETTERS_FOR_LANGUAGE}}}")
    return paragraphs.with_columns(
        pl.when(judgeable)
        .then(pl.col(TEXT).str.head(MAX_CHARS_FOR_LANGUAGE))
        .map_batches(identify_languages, return_dtype=pl.String)
        .alias(LANGUAGE)
    )


def identify_languages(texts: pl.Series) -> pl.Series:
    """py3langid's verdict on each text, the whole column at once (:mod:`transforms.langid`);
    null, or less sure than MIN_LANGUAGE_CONFIDENCE -> null."""
    verdicts = classify(texts, load_configured_model())
    sure = pl.col(SCORE) >= MIN_LANGUAGE_CONFIDENCE
    return verdicts.select(pl.when(sure).then(pl.col(LANGUAGE))).to_series().alias(texts.name)


# --- all tags ------------------------------------------------------------------------------


TAG_SLICE = 40_000
"""Paragraphs tagged together. Tags depend on a paragraph's text alone, so slices of the
paragraphs sorted by hash, tagged apart and concatenated, give the same rows in the same order;
two slices at a time, a real batch of 160,000 paragraphs tags in 5.0-5.8 s against 6.3-8.8 s
whole (Polars runs much of the tagging on one core), each slice with its own working memory."""
TAG_THREADS = min(2, os.cpu_count() or 1)


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


def tag_paragraphs(paragraphs: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE -> TAGS: one row per tag, sorted, without duplicates."""
    return _in_slices(
        paragraphs.select(PARAGRAPH_HASH, TEXT, LANGUAGE),
        lambda part: _tag_all(part, gazetteer=gazetteer),
    )


def _tag_all(paragraphs: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    frame = _ranked(paragraphs)
    # One case-insensitive pass finds names, titles and keywords alike; each tagger keeps its
    # own (overlapping matching reports every pattern's occurrences whatever else is sought).
    found = find_matches(frame, _search_patterns(gazetteer), ignore_case=True)
    tags = pl.concat(
        [
            _entity_tags(found, frame, gazetteer=gazetteer),
            _topic_tags(found, gazetteer=gazetteer),
            _language_tags(frame),
            _quality_tags(frame),
        ]
    )
    return _with_hashes(_sorted_without_duplicates(tags), frame)


def _search_patterns(gazetteer: Gazetteer) -> pl.Series:
    """Entity surfaces, person titles and topic keywords, each ASCII case-folded form once:
    matching them case-insensitively would otherwise report "US" and "us" twice."""
    patterns = [*gazetteer.entities[SURFACE], *PERSON_TITLES, *gazetteer.topic_rules[KEYWORD]]
    # Any spelling of a folded form finds all of them; which one is kept does not matter.
    folded = {pattern.translate(_FOLD_ASCII): pattern for pattern in patterns}
    return pl.Series(SURFACE, list(folded.values()), dtype=pl.String)


def _ranked(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """One row per PARAGRAPH_HASH (the first), sorted by it, with its rank in _ROW: sorting
    and joining on the rank is much cheaper than on the 64-character hash."""
    return (
        paragraphs.unique(PARAGRAPH_HASH, keep="first", maintain_order=True)
        .sort(PARAGRAPH_HASH, nulls_last=False)
        .with_row_index(_ROW)
    )


def _sorted_without_duplicates(tags: pl.DataFrame) -> pl.DataFrame:
    """Tags in _OUTPUT_ORDER, each _OUTPUT_KEY once (its first row in `tags`)."""
    # A stable sort on the key brings duplicates together, first one first; each run is cut
    # to its first row.
    ordered = tags.sort(_OUTPUT_ORDER, nulls_last=False, maintain_order=True)
    repeated = pl.all_horizontal(
        pl.col(name).eq_missing(pl.col(name).shift()) for name in _OUTPUT_KEY
    )
    return ordered.filter(~repeated)


def _with_hashes(tags: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """_ROW + TAGS columns -> TAGS, the rank replaced by the paragraph's hash; order kept."""
    hashes = frame.select(_ROW, PARAGRAPH_HASH)
    return tags.join(hashes, on=_ROW, how="left", maintain_order="left").pipe(conform, TAGS)


def _finish(frame: pl.DataFrame, tagger: str) -> pl.DataFrame:
    """_ROW + some TAGS columns -> _ROW + all TAGS columns but PARAGRAPH_HASH: absent ones null,
    TAGGER / TAGGER_VERSION set for `tagger`."""
    filled = {TAGGER: pl.lit(tagger), TAGGER_VERSION: pl.lit(TAGGER_VERSIONS[tagger])}
    columns = [
        filled.get(name, pl.col(name) if name in frame.columns else pl.lit(None))
        .cast(dtype)
        .alias(name)
        for name, dtype in TAGS.items()
        if name != PARAGRAPH_HASH
    ]
    return frame.select(_ROW, *columns)


# --- matching ------------------------------------------------------------------------------


def find_matches(
    frame: pl.DataFrame, patterns: pl.Series, *, ignore_case: bool = False
) -> pl.DataFrame:
    """_ROW, TEXT -> one row per occurrence of a pattern that starts a word.

    ``frame`` is numbered by _ROW = 0, 1, 2, ... in order, as :func:`_ranked` leaves it.
    Output: _ROW, TEXT, _MATCH (the pattern matched: SURFACE, or with ``ignore_case`` SURFACE
    with its ASCII letters lower-cased, as the matching folds them), SURFACE (the text
    matched), SPAN_START, SPAN_END (characters) and _ENDS_WORD (no letter or digit follows;
    the caller filters on it, or not for prefix keywords). Every overlapping occurrence is
    kept; the caller resolves overlaps. Rows come in no set order.
    """
    if patterns.len() == 0:
        return (
            frame.select(_ROW, TEXT)
            .head(0)
            .with_columns(
                pl.lit(None, pl.String).alias(_MATCH),
                pl.lit(None, pl.String).alias(SURFACE),
                pl.lit(None, pl.Int64).alias(SPAN_START),
                pl.lit(None, pl.Int64).alias(SPAN_END),
                pl.lit(None, pl.Boolean).alias(_ENDS_WORD),
            )
        )
    found = _occurrences(frame, patterns.to_list(), ignore_case=ignore_case)
    # Most news copy is ASCII: there bytes are characters and the neighbours are read as bytes.
    return pl.concat(
        [
            _ascii_matches(found.filter(_IS_ASCII), ignore_case=ignore_case),
            _unicode_matches(found.filter(~pl.col(_IS_ASCII)), ignore_case=ignore_case),
        ]
    )


def _occurrences(frame: pl.DataFrame, patterns: list[str], *, ignore_case: bool) -> pl.DataFrame:
    """_ROW, TEXT -> one row per occurrence not right after an ASCII letter or digit: _ROW,
    TEXT, _IS_ASCII, SURFACE, _BYTE_START, _BYTE_END, _ENDS_WORD (judged on the next byte).

    Polars reports byte offsets; find_many and extract_many list the same occurrences in the
    same order, and run in parallel within one select.
    """
    text = pl.col(TEXT)
    options = {"ascii_case_insensitive": ignore_case, "overlapping": True}
    found = (
        frame.select(
            _ROW,
            TEXT,
            (text.str.len_bytes() == text.str.len_chars()).alias(_IS_ASCII),
            text.str.find_many(patterns, **options).alias(_BYTE_START),
            text.str.extract_many(patterns, **options).alias(SURFACE),
        )
        .explode(_BYTE_START, SURFACE)
        .drop_nulls(_BYTE_START)
        .with_columns(pl.col(_BYTE_START).cast(pl.Int64))
        .with_columns((pl.col(_BYTE_START) + pl.col(SURFACE).str.len_bytes()).alias(_BYTE_END))
    )
    before, after = _neighbour_bytes(frame[TEXT], found)
    # Most occurrences sit inside a word ("us" in "business"); a byte test drops them before
    # any work on characters.
    ends_word = pl.Series(_ENDS_WORD, ~_WORD_BYTES[after])
    return found.with_columns(ends_word).filter(~_WORD_BYTES[before])


def _neighbour_bytes(texts: pl.Series, found: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The byte before and the byte after each occurrence (_ROW = its text's row number,
    _BYTE_START, _BYTE_END), 0 at a text's edges: read from the texts' bytes at once."""
    data, offsets = utf8_buffer(texts)
    rows = found[_ROW].to_numpy()
    first = offsets[rows] + found[_BYTE_START].to_numpy()
    end = offsets[rows] + found[_BYTE_END].to_numpy()
    last = len(data) - 1  # indices clipped to stay in bounds; those bytes are not used
    before = np.where(first > offsets[rows], data[np.clip(first - 1, 0, last)], 0)
    after = np.where(end < offsets[rows + 1], data[np.clip(end, 0, last)], 0)
    return before, after


def _ascii_matches(found: pl.DataFrame, *, ignore_case: bool) -> pl.DataFrame:
    """Occurrences in ASCII-only text -> find_matches rows (offsets in bytes = characters)."""
    matched = pl.col(SURFACE).str.to_lowercase() if ignore_case else pl.col(SURFACE)
    return found.select(
        _ROW,
        TEXT,
        matched.alias(_MATCH),
        SURFACE,
        pl.col(_BYTE_START).alias(SPAN_START),
        pl.col(_BYTE_END).alias(SPAN_END),
        _ENDS_WORD,
    )


def _unicode_matches(found: pl.DataFrame, *, ignore_case: bool) -> pl.DataFrame:
    """Occurrences in other text -> find_matches rows (offsets in characters)."""
    text = pl.col(TEXT)
    # Characters before the match = the byte prefix decoded.
    prefix = text.cast(pl.Binary).bin.slice(0, pl.col(_BYTE_START)).cast(pl.String)
    found = found.with_columns(prefix.str.len_chars().cast(pl.Int64).alias(SPAN_START))
    found = found.with_columns(
        (pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END)
    )
    word_char = r"^[\p{L}\p{N}]"
    before = pl.when(pl.col(SPAN_START) > 0).then(text.str.slice(pl.col(SPAN_START) - 1, 1))
    after = text.str.slice(pl.col(SPAN_END), 1)
    # Only ASCII letters are folded, as the matching folds them ("ÉTAT" is not "état").
    surface = pl.col(SURFACE)
    folded = surface.str.replace_many(_ASCII_UPPERCASE, _ASCII_LOWERCASE)
    return found.filter(~before.str.contains(word_char).fill_null(False)).select(
        _ROW,
        TEXT,
        (folded if ignore_case else surface).alias(_MATCH),
        SURFACE,
        SPAN_START,
        SPAN_END,
        after.str.contains(word_char).fill_null(False).not_().alias(_ENDS_WORD),
    )


def keep_longest(matches: pl.DataFrame, *, tie: str | None = None) -> pl.DataFrame:
    """Resolve overlaps per _ROW: leftmost first, then longest, then the lowest `tie` column
    if given; a match that overlaps any match before it in that order goes (even one that
    itself went)."""
    length = pl.col(SPAN_END) - pl.col(SPAN_START)
    keys = [pl.col(_ROW), pl.col(SPAN_START), length, *([pl.col(tie)] if tie else [])]
    ordered = matches.sort(keys, descending=[False, False, True, False][: len(keys)])
    # Offsets made global, paragraph after paragraph, so one running maximum serves them all.
    start, end = _global_offset(pl.col(SPAN_START)), _global_offset(pl.col(SPAN_END))
    return ordered.filter(start >= end.cum_max().shift(1).fill_null(0))


def _global_offset(offset: pl.Expr) -> pl.Expr:
    """A character offset shifted past every earlier paragraph's (texts are < 2**32 long)."""
    return pl.col(_ROW).cast(pl.Int64) * 2**32 + offset


def _has_person_cue() -> pl.Expr:
    """True where a match has a capitalised name word or title right before or after it."""
    text = pl.col(TEXT)
    window_start = pl.max_horizontal(pl.col(SPAN_START) - _CONTEXT_CHARS, pl.lit(0))
    before = text.str.slice(window_start, pl.col(SPAN_START) - window_start)
    previous_word = before.str.extract(r"(\S+) $", 1)
    capitalised_before = previous_word.str.contains(r"^\p{Lu}[\p{L}.'-]*$") & ~previous_word.is_in(
        list(SENTENCE_OPENERS)
    )
    after = text.str.slice(pl.col(SPAN_END), _CONTEXT_CHARS)
    capitalised_after = after.str.contains(r"^ \p{Lu}\p{Ll}")
    return capitalised_before.fill_null(False) | capitalised_after


# --- entities ------------------------------------------------------------------------------


def tag_entities(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS rows for people, places and organisations."""
    ranked = _ranked(frame)
    patterns = pl.concat([gazetteer.entities[SURFACE], pl.Series(PERSON_TITLES)])
    found = find_matches(ranked, patterns.unique(maintain_order=True), ignore_case=True)
    return _with_hashes(_entity_tags(found, ranked, gazetteer=gazetteer), ranked)


def _entity_tags(
    found: pl.DataFrame, frame: pl.DataFrame, *, gazetteer: Gazetteer, read_case: bool = True
) -> pl.DataFrame:
    """find_matches rows (any patterns, any case) + the paragraphs (_ROW, TEXT, optionally
    _AS_WRITTEN) -> _ROW + TAGS columns for people, places and organisations.

    Four sources compete: teams in results lines, exact occurrences of gazetteer surfaces,
    names after a title, and classified capitalised runs (:mod:`transforms.names`). Overlaps
    are resolved leftmost, then longest, then in that order of sources, so a run adds only
    what the lists miss or what is longer than their match ("Leeds United" over the city
    "Leeds"), and a results line's "Leeds 2" is the club. With ``read_case`` false (an
    all-capitals title read title-cased, where every word is capitalised) only the gazetteer
    competes: capitals say nothing there. Dateline and ticker tags are added beside the winners
    (they name what a winner may also name, with their own detail).
    """
    entities = gazetteer.entities
    found = found.filter(_ENDS_WORD).drop(_MATCH)
    matches = pl.concat(
        [found.join(entities, on=SURFACE, how="inner"), _capital_places(found, entities)]
    )
    # The context checks slice text around the match, so they run on the ambiguous few only.
    matches = pl.concat(
        [
            matches.filter(~pl.col(NEEDS_CONTEXT) & ~pl.col(NEEDS_CITY)),
            matches.filter(pl.col(NEEDS_CONTEXT)).filter(~_has_person_cue()),
            matches.filter(pl.col(NEEDS_CITY) & ~pl.col(NEEDS_CONTEXT)).filter(_follows_city()),
        ]
    ).drop(TEXT)
    # A ticker competes like a match, so the symbol inside "<BAC>" is not tagged again.
    tickers, ticker_names = _ticker_tags(frame, name_opens_clause=not read_case)
    beside = pl.concat(
        [_dateline_tags(frame, gazetteer=gazetteer), ticker_names], how="diagonal_relaxed"
    )
    if not read_case:
        candidates = pl.concat(
            [
                tickers.with_columns(pl.lit(-2, pl.Int8).alias(_SOURCE)),
                matches.with_columns(pl.lit(0, pl.Int8).alias(_SOURCE)),
            ],
            how="diagonal_relaxed",
        )
        kept = keep_longest(candidates, tie=_SOURCE).filter(pl.col(TAG_TYPE).is_not_null())
        return _finish(pl.concat([beside, kept], how="diagonal_relaxed"), "entities")
    titles = found.filter(pl.col(SURFACE).is_in(pl.Series(PERSON_TITLES).implode()))
    guessed = _titled_names(titles, gazetteer=gazetteer)
    rules = load_name_rules(PERSON_TITLES)
    texts = frame.select(_ROW, TEXT)
    places = entities.filter(pl.col(TAG_TYPE) == "place")[SURFACE].to_list()
    all_runs = capitalised_runs(texts, rules)
    runs = classify_runs(all_runs, texts, rules, places).with_columns(
        pl.col(SURFACE).alias(TAG_VALUE), pl.lit(DETAIL_RUN).alias(TAG_DETAIL)
    )
    # A country in a results line is its national side, which reads as the place; a person's
    # name followed by a number is a golfer's or a runner's score.
    countries = entities.filter(pl.col(TAG_DETAIL) == DETAIL_COUNTRY)[SURFACE]
    not_teams = pl.concat([countries, countries.str.to_uppercase()])
    teams = results_teams(
        all_runs.join(
            runs.filter(pl.col(TAG_TYPE) == "person"), on=[_ROW, SPAN_START], how="anti"
        ).filter(~pl.col(SURFACE).is_in(not_teams.implode())),
        texts,
    ).with_columns(pl.col(SURFACE).alias(TAG_VALUE), pl.lit(DETAIL_TEAM).alias(TAG_DETAIL))
    candidates = pl.concat(
        [
            tickers.with_columns(pl.lit(-2, pl.Int8).alias(_SOURCE)),
            teams.with_columns(pl.lit(-1, pl.Int8).alias(_SOURCE)),
            matches.with_columns(pl.lit(0, pl.Int8).alias(_SOURCE)),
            guessed.with_columns(pl.lit(1, pl.Int8).alias(_SOURCE)),
            runs.with_columns(pl.lit(2, pl.Int8).alias(_SOURCE)),
        ],
        how="diagonal_relaxed",
    )
    # Longest match across all types, then blocking names (null type) are discarded.
    kept = keep_longest(candidates, tie=_SOURCE).filter(pl.col(TAG_TYPE).is_not_null())
    # Dateline and ticker rows come first: where one names what a winner names at the same
    # span, the duplicate kept is the one with the more telling detail.
    return _finish(pl.concat([beside, _resolve_surnames(kept)], how="diagonal_relaxed"), "entities")


def _follows_city() -> pl.Expr:
    """True where a match comes right after a capitalised name and a comma ("Jackson, Miss.",
    "KANSAS CITY, Mo.")."""
    text = pl.col(TEXT)
    window_start = pl.max_horizontal(pl.col(SPAN_START) - _CONTEXT_CHARS, pl.lit(0))
    before = text.str.slice(window_start, pl.col(SPAN_START) - window_start)
    return before.str.contains(r"\p{Lu}[\p{L}.'’-]*, $").fill_null(False)


def _dateline_tags(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """_ROW, TEXT -> _ROW + TAGS columns: for a text opening with a dateline, a place tag for
    its city (the gazetteer's name for a known city, else the name as written) and one for its
    country (the ISO code, as country tags have it), both with detail "dateline". The
    country's span is the state's or country's after the city when that decided it, else the
    city's."""
    found = read_datelines(frame.select(_ROW, TEXT), _ROW, gazetteer=gazetteer)
    by_region = pl.col(REGION_COUNTRY).is_not_null()
    cities = found.select(
        _ROW,
        pl.col(CITY_VALUE).alias(TAG_VALUE),
        pl.col(DATELINE_COUNTRY).alias(COUNTRY),
        pl.col(CITY_START).alias(SPAN_START),
        pl.col(CITY_END).alias(SPAN_END),
    )
    countries = found.filter(pl.col(DATELINE_COUNTRY).is_not_null()).select(
        _ROW,
        pl.col(DATELINE_COUNTRY).alias(TAG_VALUE),
        pl.col(DATELINE_COUNTRY).alias(COUNTRY),
        pl.when(by_region).then(REGION_START).otherwise(CITY_START).alias(SPAN_START),
        pl.when(by_region).then(REGION_END).otherwise(CITY_END).alias(SPAN_END),
    )
    return (
        pl.concat([cities, countries])
        .join(frame.select(_ROW, TEXT, *_written_columns(frame)), on=_ROW, how="left")
        .select(
            _ROW,
            pl.lit("place").alias(TAG_TYPE),
            TAG_VALUE,
            pl.lit(DETAIL_DATELINE).alias(TAG_DETAIL),
            COUNTRY,
            SPAN_START,
            SPAN_END,
            _written(pl.col(SPAN_START), pl.col(SPAN_END), frame).alias(SURFACE),
        )
    )


def _written_columns(frame: pl.DataFrame) -> list[str]:
    return [_AS_WRITTEN] if _AS_WRITTEN in frame.columns else []


def _written(start: pl.Expr, end: pl.Expr, frame: pl.DataFrame) -> pl.Expr:
    """The text between two offsets as written: _AS_WRITTEN where the frame has it (a title
    read title-cased), else TEXT. The caller has joined the frame's text columns."""
    source = pl.col(_AS_WRITTEN) if _AS_WRITTEN in frame.columns else pl.col(TEXT)
    return source.str.slice(start, end - start)


# An exchange symbol in angle brackets: "<BAC>", "<BP>", "<RTRS.L>", "<6502.T>".
_TICKER = TICKER
_TICKER_PIECES = rf"{_TICKER}|[^<]+|<"  # tickers and what lies between them tile a text
NOT_TICKERS = (
    "<P>", "<BR>", "<HR>", "<B>", "<I>", "<U>", "<S>", "<EM>", "<LI>", "<UL>", "<OL>", "<DL>",
    "<DT>", "<DD>", "<TD>", "<TR>", "<TH>", "<DIV>", "<PRE>", "<TT>", "<H1>", "<H2>", "<H3>",
    "<H4>", "<H5>", "<H6>",
)  # fmt: skip
"""Markup written in capitals, not symbols."""
_PIECE = "_piece"


def _ticker_tags(
    frame: pl.DataFrame, *, name_opens_clause: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """_ROW, TEXT (+ _AS_WRITTEN) -> two frames of _ROW + TAGS columns: an organisation per
    ticker (value the symbol, detail "ticker", span the bracketed text), and one per
    capitalised run that ends at most one space before a ticker (value the run, title-cased
    when written in capitals, detail "ticker_name"): "BankAmerica Corp <BAC>", "STANDARD OIL
    <SRD>" -> "Standard Oil".

    Symbols are read from the text as written, names from TEXT (a title-cased title there).
    With ``name_opens_clause`` (a title-cased headline, where verbs are capitalised too) a name
    must open the text or follow punctuation: "USAIR <U> BUYS PIEDMONT <PIE>" names no "Buys
    Piedmont".
    """
    written = pl.col(_AS_WRITTEN) if _AS_WRITTEN in frame.columns else pl.col(TEXT)
    texts = frame.select(_ROW, TEXT, written.alias(_AS_WRITTEN)).filter(
        pl.col(_AS_WRITTEN).str.contains(_TICKER).fill_null(False)
    )
    piece = pl.col(_PIECE)
    length = piece.str.len_chars()
    tickers = (
        texts.select(_ROW, pl.col(_AS_WRITTEN).str.extract_all(_TICKER_PIECES).alias(_PIECE))
        .explode(_PIECE)
        .drop_nulls(_PIECE)
        # pieces of a text are contiguous and in order: offsets are running sums per text
        .with_columns((length.cum_sum().over(_ROW) - length).alias(SPAN_START))
        .filter(
            piece.str.contains(f"^{_TICKER}$")
            & piece.str.contains("[A-Z]")
            & ~piece.is_in(list(NOT_TICKERS))
        )
        .with_columns((pl.col(SPAN_START) + length).alias(SPAN_END))
    )
    symbols = tickers.select(
        _ROW,
        pl.lit("organisation").alias(TAG_TYPE),
        piece.str.strip_prefix("<").str.strip_suffix(">").alias(TAG_VALUE),
        pl.lit(DETAIL_TICKER).alias(TAG_DETAIL),
        SPAN_START,
        SPAN_END,
        piece.alias(SURFACE),
    )
    # The name ends right before the bracket or one space before it.
    spaced = texts.select(_ROW, TEXT).join(tickers.select(_ROW, SPAN_START), on=_ROW)
    ends = spaced.select(
        _ROW,
        (
            pl.col(SPAN_START)
            - (pl.col(TEXT).str.slice(pl.col(SPAN_START) - 1, 1) == " ")
            .fill_null(False)
            .cast(pl.Int64)
        ).alias(SPAN_END),
    )
    runs = capitalised_runs(texts.select(_ROW, TEXT), load_name_rules(PERSON_TITLES))
    if name_opens_clause:
        before = (
            runs.join(texts.select(_ROW, TEXT), on=_ROW, how="left")
            .select(pl.col(TEXT).str.head(pl.col(SPAN_START)).str.strip_chars_end())
            .to_series()
        )
        runs = runs.filter((before == "") | before.str.contains(r"[,;:(\x22'-]$"))
    name = pl.col(SURFACE)
    names = runs.join(ends, on=[_ROW, SPAN_END], how="semi").join(
        texts.select(_ROW, _AS_WRITTEN), on=_ROW, how="left"
    )
    named = names.select(
        _ROW,
        pl.lit("organisation").alias(TAG_TYPE),
        pl.when(name.str.contains(r"\p{Ll}"))
        .then(name)
        .otherwise(name.str.to_titlecase())
        .alias(TAG_VALUE),
        pl.lit(DETAIL_TICKER_NAME).alias(TAG_DETAIL),
        SPAN_START,
        SPAN_END,
        pl.col(_AS_WRITTEN)
        .str.slice(pl.col(SPAN_START), pl.col(SPAN_END) - pl.col(SPAN_START))
        .alias(SURFACE),
    )
    return symbols, named


def _capital_places(found: pl.DataFrame, entities: pl.DataFrame) -> pl.DataFrame:
    """Countries and cities written in capitals ("LONDON 1996-08-30", datelines, headlines):
    found rows whose text is the upper-case form of such a surface that is not upper case
    itself. Ambiguous surfaces ("GEORGIA") are left out."""
    capitalised = entities.filter(
        (pl.col(TAG_TYPE) == "place")
        & pl.col(TAG_DETAIL).is_in([DETAIL_COUNTRY, DETAIL_CITY])
        & ~pl.col(NEEDS_CONTEXT)
        & (pl.col(SURFACE) != pl.col(SURFACE).str.to_uppercase())
    ).with_columns(pl.col(SURFACE).str.to_uppercase())
    return found.join(capitalised, on=SURFACE, how="inner")


def _resolve_surnames(entities: pl.DataFrame) -> pl.DataFrame:
    """A one-word person tag ("Mr Simmons") takes the value of a longer person tag in the same
    paragraph whose last word it is ("Phil Simmons"), when exactly one such value exists."""
    people = entities.filter((pl.col(TAG_TYPE) == "person") & pl.col(TAG_VALUE).str.contains(" "))
    full_names = (
        people.select(
            _ROW,
            pl.col(TAG_VALUE).str.split(" ").list.last().alias("_surname"),
            pl.col(TAG_VALUE).alias("_full_name"),
        )
        .unique()
        .filter(pl.len().over(_ROW, "_surname") == 1)
    )
    lone = (pl.col(TAG_TYPE) == "person") & ~pl.col(TAG_VALUE).str.contains(" ")
    return (
        entities.with_columns(pl.when(lone).then(pl.col(TAG_VALUE)).alias("_surname"))
        .join(full_names, on=[_ROW, "_surname"], how="left")
        .with_columns(pl.coalesce("_full_name", TAG_VALUE).alias(TAG_VALUE))
        .drop("_surname", "_full_name")
    )


def _titled_names(titles: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """Title occurrences (_ROW, TEXT, SPAN_START, SPAN_END) -> heuristic person rows: the
    capitalised words after a title.

    A lone surname that is the last word of exactly one gazetteer person's name resolves to
    that person ("Mr Brown" -> "Gordon Brown"); otherwise the tag value is the name as written.
    """
    # "Prime Minister" beats the "Minister" inside it.
    titled = keep_longest(titles)
    following = pl.col(TEXT).str.slice(pl.col(SPAN_END), _NAME_LOOKAHEAD)
    name = following.str.extract_groups(_NAME_AFTER_TITLE)
    names = (
        titled.select(
            _ROW,
            (pl.col(SPAN_END) + name.struct[0].str.len_chars()).alias(SPAN_START),
            name.struct[1].alias(SURFACE),
        )
        .drop_nulls(SURFACE)
        .filter(~pl.col(SURFACE).str.extract(r"^(\S+)", 1).is_in(list(NOT_NAMES)))
        .with_columns((pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END))
    )
    people = gazetteer.entities.filter(
        (pl.col(TAG_TYPE) == "person") & (pl.col(SURFACE) == pl.col(TAG_VALUE))
    )
    surnames = (
        people.select(pl.col(TAG_VALUE).str.split(" ").list.last().alias(SURFACE), TAG_VALUE)
        .unique()
        .filter(pl.len().over(SURFACE) == 1)
    )
    return names.join(surnames, on=SURFACE, how="left").with_columns(
        pl.col(TAG_VALUE).fill_null(pl.col(SURFACE)),
        pl.lit("person").alias(TAG_TYPE),
        pl.lit(DETAIL_HEURISTIC).alias(TAG_DETAIL),
    )


# --- titles --------------------------------------------------------------------------------

HEADLINE_WORDS = ("WHO",)
"""Gazetteer acronyms that are also English words: in an all-capitals title they are read as
the word ("WHO WILL PAY FOR IT")."""


def tag_titles(titles: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """ARTICLE_ID, TITLE (null allowed) -> TITLE_TAGS: the entity and topic tags of each title.

    A title is normalised as a paragraph is (:func:`transforms.normalise.normalise_text`) and
    tagged by the paragraph rules; spans are offsets into that normal form and SURFACE is the
    text there. A title in capitals ("U.S. SELLS 1-YEAR BILLS") is read title-cased where that
    keeps its length ("U.S. Sells 1-Year Bills"), so gazetteer names are found in their usual
    case, and its acronyms as written ("IMF", "U.S."). Every word of such a title is
    capitalised, so neither capitalised runs nor names after a person's title are read from it:
    only gazetteer names, datelines and tickers. Untitled articles get no rows.
    """
    text = pl.col(TEXT)
    in_capitals = ~text.str.contains(r"\p{Ll}") & text.str.contains(r"\p{Lu}.*\p{Lu}")
    titled = text.str.to_titlecase()
    # Title-casing may change a length ("ß" -> "Ss"); such a title is read as written.
    readable = in_capitals & (titled.str.len_chars() == text.str.len_chars())
    frame = (
        titles.select(ARTICLE_ID, normalise_text(pl.col(TITLE)).alias(TEXT))
        .filter(text.is_not_null() & (text != ""))
        .unique(ARTICLE_ID, keep="first")
        .sort(ARTICLE_ID)
        .with_row_index(_ROW)
        .select(
            _ROW,
            ARTICLE_ID,
            pl.when(readable).then(titled).otherwise(text).alias(TEXT),
            text.alias(_AS_WRITTEN),
            readable.alias("_title_cased"),
        )
    )
    found = find_matches(frame.select(_ROW, TEXT), _search_patterns(gazetteer), ignore_case=True)
    cased = frame.filter(pl.col("_title_cased"))
    as_written = (
        found.join(cased.select(_ROW, _AS_WRITTEN), on=_ROW, how="inner")
        .with_columns(
            pl.col(_AS_WRITTEN)
            .str.slice(pl.col(SPAN_START), pl.col(SPAN_END) - pl.col(SPAN_START))
            .alias(SURFACE)
        )
        .drop(_AS_WRITTEN)
        .filter(~pl.col(SURFACE).is_in(list(HEADLINE_WORDS)))
    )
    in_cased = pl.col(_ROW).is_in(cased[_ROW].implode())
    entities = pl.concat(
        [
            _entity_tags(
                found.filter(~in_cased),
                frame.filter(~pl.col("_title_cased")).drop(_AS_WRITTEN),
                gazetteer=gazetteer,
            ),
            _entity_tags(
                pl.concat([found.filter(in_cased), as_written]),
                cased,
                gazetteer=gazetteer,
                read_case=False,
            ),
        ]
    )
    tags = _sorted_without_duplicates(
        pl.concat([entities, _topic_tags(found, gazetteer=gazetteer)])
    )
    span = pl.col(SPAN_END) - pl.col(SPAN_START)
    return (
        tags.join(
            frame.select(_ROW, ARTICLE_ID, _AS_WRITTEN), on=_ROW, how="left", maintain_order="left"
        )
        .with_columns(
            pl.when(pl.col(SPAN_START).is_not_null())
            .then(pl.col(_AS_WRITTEN).str.slice(pl.col(SPAN_START), span))
            .alias(SURFACE)
        )
        .pipe(conform, TITLE_TAGS)
    )


# --- topics, language, quality -------------------------------------------------------------


def tag_topics(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS topic rows: SCORE = summed keyword weights >= threshold."""
    ranked = _ranked(frame)
    keywords = gazetteer.topic_rules[KEYWORD].unique(maintain_order=True)
    found = find_matches(ranked, keywords, ignore_case=True)
    return _with_hashes(_topic_tags(found, gazetteer=gazetteer), ranked)


def _topic_tags(found: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """find_matches rows (case-insensitive, any patterns) -> _ROW + TAGS columns for topics."""
    rules = _with_parent_rules(gazetteer.topic_rules)
    hits = (
        found.select(_ROW, _MATCH, _ENDS_WORD)
        .join(rules.rename({KEYWORD: _MATCH}), on=_MATCH, how="inner")
        .filter(pl.col(_ENDS_WORD) | pl.col(IS_PREFIX))
    )
    scores = (
        hits.group_by(_ROW, TAG_VALUE)
        .agg(pl.col(WEIGHT).sum().alias(SCORE))
        .filter(pl.col(SCORE) >= gazetteer.topic_threshold)
    )
    return _finish(scores.with_columns(pl.lit("topic").alias(TAG_TYPE)), "topics")


def _with_parent_rules(rules: pl.DataFrame) -> pl.DataFrame:
    """TOPIC_RULES + a copy of each subtopic rule for its parent: a subtopic's weight also
    counts towards its parent ("politics/diplomacy" -> "politics")."""
    parents = rules.filter(pl.col(TAG_VALUE).str.contains("/", literal=True)).with_columns(
        pl.col(TAG_VALUE).str.split("/").list.first()
    )
    return pl.concat([rules, parents])


TOPIC = "topic"  # a top-level topic slug (TAG_VALUE of a topic tag without "/")
SHARE = "share"  # the topic's share of its article's summed top-level topic scores
RANK = "rank"  # 1 = the article's primary topic
ARTICLE_TOPICS = pl.Schema(
    {ARTICLE_ID: pl.String, TOPIC: pl.String, SCORE: pl.Float64, SHARE: pl.Float64, RANK: pl.Int32}
)
"""article_topics: one row per article and top-level topic found in its paragraphs."""


def article_topics(tags: pl.DataFrame, occurrences: pl.DataFrame) -> pl.DataFrame:
    """TAGS (topic rows used) + OCCURRENCES (ARTICLE_ID, PARAGRAPH_HASH) -> ARTICLE_TOPICS.

    The roll-up rule, the same as the SQL view of that name:

    - only top-level topic tags count (TAG_TYPE 'topic', TAG_VALUE without '/'): a subtopic's
      keywords already count towards its parent's score;
    - SCORE = the sum of the paragraph's topic SCORE over the article's occurrences, so a
      paragraph repeated in an article counts once per occurrence;
    - SHARE = SCORE / the sum of the article's SCOREs;
    - RANK = 1, 2, ... by SCORE descending, ties by TOPIC ascending (a row number: no two
      topics of an article share a rank).

    In SQL: ``sum(score)`` grouped by article and topic, then
    ``score / sum(score) OVER (PARTITION BY article_id)`` and
    ``row_number() OVER (PARTITION BY article_id ORDER BY score DESC, topic)``.
    `tags` holds one row per paragraph and topic, as the taggers emit them. Articles without
    a topic get no row. Rows come sorted by ARTICLE_ID, RANK.
    """
    top_level = tags.filter(
        (pl.col(TAG_TYPE) == "topic") & ~pl.col(TAG_VALUE).str.contains("/", literal=True)
    ).select(PARAGRAPH_HASH, pl.col(TAG_VALUE).alias(TOPIC), SCORE)
    scores = (
        occurrences.select(ARTICLE_ID, PARAGRAPH_HASH)
        .join(top_level, on=PARAGRAPH_HASH, how="inner")
        .group_by(ARTICLE_ID, TOPIC)
        .agg(pl.col(SCORE).sum())
        .sort(ARTICLE_ID, SCORE, TOPIC, descending=[False, True, False])
    )
    return scores.with_columns(
        (pl.col(SCORE) / pl.col(SCORE).sum().over(ARTICLE_ID)).alias(SHARE),
        pl.int_range(1, pl.len() + 1).over(ARTICLE_ID).alias(RANK),
    ).pipe(conform, ARTICLE_TOPICS)


def tag_languages(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, LANGUAGE -> one TAGS language row per paragraph whose LANGUAGE is set."""
    ranked = _ranked(frame)
    return _with_hashes(_language_tags(ranked), ranked)


def _language_tags(frame: pl.DataFrame) -> pl.DataFrame:
    """_ROW, LANGUAGE -> _ROW + TAGS columns for languages."""
    return _finish(
        frame.filter(pl.col(LANGUAGE).is_not_null()).select(
            _ROW, pl.lit("language").alias(TAG_TYPE), pl.col(LANGUAGE).alias(TAG_VALUE)
        ),
        "language",
    )


def tag_quality(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS quality rows; SCORE is the measure behind each flag."""
    ranked = _ranked(frame)
    return _with_hashes(_quality_tags(ranked), ranked)


def _quality_tags(frame: pl.DataFrame) -> pl.DataFrame:
    """_ROW, TEXT -> _ROW + TAGS columns for quality flags."""
    too_short, non_letters, all_caps, numeric_table, boilerplate, markup = QUALITY_FLAGS
    words = _word_counts(frame)
    counts = _character_counts(frame)
    letter_share = pl.col("_letters") / pl.col("_visible")
    upper_share = pl.col("_upper") / pl.col("_letters")
    digit_share = pl.col("_digits") / (pl.col("_letters") + pl.col("_digits"))
    flags = pl.concat(
        [
            words.filter(pl.col("_words") < MIN_WORDS).select(
                _ROW, pl.lit(too_short).alias(TAG_VALUE), pl.col("_words").alias(SCORE)
            ),
            counts.filter((pl.col("_visible") > 0) & (letter_share < MIN_LETTER_SHARE)).select(
                _ROW, pl.lit(non_letters).alias(TAG_VALUE), letter_share.alias(SCORE)
            ),
            counts.filter(
                (pl.col("_upper") >= MIN_CAPITALS) & (upper_share >= MIN_CAPITAL_SHARE)
            ).select(_ROW, pl.lit(all_caps).alias(TAG_VALUE), upper_share.alias(SCORE)),
            counts.filter(
                (pl.col("_digits") >= MIN_TABLE_DIGITS) & (digit_share >= MIN_TABLE_DIGIT_SHARE)
            ).select(_ROW, pl.lit(numeric_table).alias(TAG_VALUE), digit_share.alias(SCORE)),
            frame.filter(is_sign_off(pl.col(TEXT))).select(
                _ROW,
                pl.lit(boilerplate).alias(TAG_VALUE),
                pl.lit(DETAIL_SIGN_OFF).alias(TAG_DETAIL),
            ),
            # The text keeps its markup; the tag names the first element found. Most
            # paragraphs hold no "<": a literal search skips the regex for them.
            frame.filter(pl.col(TEXT).str.contains("<", literal=True))
            .filter(has_markup(pl.col(TEXT)))
            .select(
                _ROW,
                pl.lit(markup).alias(TAG_VALUE),
                first_element(pl.col(TEXT)).alias(TAG_DETAIL),
            ),
        ],
        how="diagonal_relaxed",
    )
    return _finish(flags.with_columns(pl.lit("quality").alias(TAG_TYPE)), "quality")


def _word_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """_ROW, TEXT -> _ROW, _words for the paragraphs that may have fewer than MIN_WORDS words."""
    text = pl.col(TEXT)
    # Five runs of non-space characters split by whitespace: at least five words, no need to
    # count. The search stops at the fifth word, so ordinary paragraphs cost next to nothing.
    enough_words = text.str.contains(r"(?:\S+\s+){4}\S").fill_null(False)
    unspaced_script = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
    stripped = text.str.strip_chars()
    words = (
        pl.when(stripped.str.len_bytes() > 0).then(stripped.str.count_matches(r"\s+") + 1)
        + text.str.count_matches(unspaced_script)
    ).fill_null(0)
    return frame.filter(~enough_words).select(_ROW, words.cast(pl.Float64).alias("_words"))


def _character_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """_ROW, TEXT -> _ROW, _visible, _letters, _upper, _digits (characters)."""
    text = pl.col(TEXT)
    on_bytes = (text.str.len_bytes() == text.str.len_chars()) & (
        text.str.len_bytes() <= _MAX_BYTES_COUNTED
    )
    plain = frame.filter(on_bytes.fill_null(False))
    counts = _ascii_counts(plain[TEXT])
    measured = plain.select(
        _ROW,
        (text.str.len_chars() - pl.Series(counts["space"])).alias("_visible"),
        pl.Series("_letters", counts["letter"]),
        pl.Series("_upper", counts["upper"]),
        pl.Series("_digits", counts["digit"]),
    )
    # Other scripts: count the rare characters (spaces, non-letters, capitals) and derive the
    # rest; a regex hit per letter is several times slower on ordinary prose.
    visible = text.str.len_chars() - text.str.count_matches(r"\s")
    other = frame.filter(~on_bytes.fill_null(False)).select(
        _ROW,
        visible.alias("_visible"),
        (visible - text.str.count_matches(r"[^\p{L}\s]")).alias("_letters"),
        text.str.count_matches(r"\p{Lu}").alias("_upper"),
        text.str.count_matches(r"\p{Nd}").alias("_digits"),
    )
    return pl.concat([measured, other], how="vertical_relaxed")


def _ascii_counts(texts: pl.Series) -> dict[str, np.ndarray]:
    """Whitespace, letters, capitals and digits in each ASCII text, counted on its bytes.

    Texts are taken about _CHUNK_BYTES at a time, so numpy's temporary arrays stay in the CPU
    cache. Counts are summed as uint16, hence texts of at most _MAX_BYTES_COUNTED bytes.
    """
    data, offsets = utf8_buffer(texts)
    counts = {name: np.zeros(len(texts), dtype=np.int64) for name in _BYTE_CLASSES}
    for first, stop in _chunks(offsets, _CHUNK_BYTES):
        chunk = data[offsets[first] : offsets[stop]]
        starts = offsets[first:stop] - offsets[first]
        # reduceat sums from one start to the next, so an empty text would get a byte
        filled = offsets[first + 1 : stop + 1] > offsets[first:stop]
        if not filled.any():
            continue
        for name, is_in_class in _BYTE_CLASSES.items():
            flags = is_in_class(chunk).view(np.uint8)
            counts[name][first:stop][filled] = np.add.reduceat(
                flags, starts[filled], dtype=np.uint16
            )
    return counts


def _is_ascii_space(byte: np.ndarray) -> np.ndarray:
    """Tab, line feed, vertical tab, form feed, carriage return or space: ASCII ``\\s``."""
    return ((byte - np.uint8(ord("\t"))) <= ord("\r") - ord("\t")) | (byte == ord(" "))


def _is_ascii_letter(byte: np.ndarray) -> np.ndarray:
    return ((byte | np.uint8(0x20)) - np.uint8(ord("a"))) <= ord("z") - ord("a")


def _is_ascii_capital(byte: np.ndarray) -> np.ndarray:
    return (byte - np.uint8(ord("A"))) <= ord("Z") - ord("A")


def _is_ascii_digit(byte: np.ndarray) -> np.ndarray:
    return (byte - np.uint8(ord("0"))) <= ord("9") - ord("0")


_BYTE_CLASSES = {
    "space": _is_ascii_space,
    "letter": _is_ascii_letter,
    "upper": _is_ascii_capital,
    "digit": _is_ascii_digit,
}


def _chunks(offsets: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(first, stop) ranges of texts, each about `size` bytes (a longer text alone)."""
    n_texts = len(offsets) - 1
    cuts = np.searchsorted(offsets, np.arange(0, offsets[-1], size), side="right") - 1
    bounds = np.unique(np.concatenate([[0], np.clip(cuts, 0, n_texts), [n_texts]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


# --- some taggers only (re-tagging) --------------------------------------------------------


def tag_with(
    paragraphs: pl.DataFrame, taggers: set[str] | frozenset[str], *, gazetteer: Gazetteer | None
) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE -> TAGS of the named taggers only (names of
    TAGGER_VERSIONS): the rows :func:`tag_paragraphs` gives for them. `gazetteer` may be None
    when neither entities nor topics are named."""
    unknown = sorted(set(taggers) - TAGGER_VERSIONS.keys())
    if unknown:
        raise ValueError(f"unknown taggers {unknown}; known: {sorted(TAGGER_VERSIONS)}")
    if {"entities", "topics"} & set(taggers) and gazetteer is None:
        raise ValueError("tag_with needs a gazetteer for entities and topics")
    return _in_slices(
        paragraphs.select(PARAGRAPH_HASH, TEXT, LANGUAGE),
        lambda part: _tag_with(part, taggers, gazetteer=gazetteer),
    )


def _tag_with(
    paragraphs: pl.DataFrame, taggers: set[str] | frozenset[str], *, gazetteer: Gazetteer | None
) -> pl.DataFrame:
    frame = _ranked(paragraphs)
    parts = []
    if {"entities", "topics"} & set(taggers):
        assert gazetteer is not None
        found = find_matches(frame, _search_patterns(gazetteer), ignore_case=True)
        if "entities" in taggers:
            parts.append(_entity_tags(found, frame, gazetteer=gazetteer))
        if "topics" in taggers:
            parts.append(_topic_tags(found, gazetteer=gazetteer))
    if "language" in taggers:
        parts.append(_language_tags(frame))
    if "quality" in taggers:
        parts.append(_quality_tags(frame))
    if not parts:
        return pl.DataFrame(schema=TAGS)
    return _with_hashes(_sorted_without_duplicates(pl.concat(parts)), frame)


__all__ = [
    "detect_language",
    "find_matches",
    "identify_languages",
    "keep_longest",
    "tag_entities",
    "tag_languages",
    "tag_paragraphs",
    "tag_quality",
    "tag_titles",
    "tag_topics",
    "tag_with",
]
