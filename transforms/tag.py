"""Tagging: language, entities (people, places, organisations), topics and quality flags.

Taggers add rows to a TAGS frame; they never change or drop paragraphs. Entity and topic
matching is Aho-Corasick over the whole column (``str.find_many`` / ``str.extract_many`` with
overlapping matches), then word-boundary, ambiguity and longest-match rules written as Polars
expressions. Spans are CHARACTER offsets into the paragraph's normalised TEXT (Polars reports
byte offsets; they are converted).

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
  "Gordon Brown"). Capitalised words with no title are never guessed to be people.
"""

from __future__ import annotations

import polars as pl

from transforms.gazetteer import (
    IS_PREFIX,
    KEYWORD,
    NEEDS_CONTEXT,
    QUALITY_FLAGS,
    TAGGER_VERSIONS,
    WEIGHT,
    Gazetteer,
    load_language_identifier,
)
from transforms.schema import (
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
    conform,
)

MIN_LETTERS_FOR_LANGUAGE = 20
"""Fewer letters than this (any script) and detect_language returns None: too little to judge."""
MIN_LANGUAGE_CONFIDENCE = 0.5
"""Below this py3langid probability detect_language returns None (on BBC paragraphs every
wrong guess - headlines, team sheets - fell below it)."""
MAX_CHARS_FOR_LANGUAGE = 1_000
"""Only the first characters are read: py3langid's cost grows with length, its verdict does not."""

MIN_WORDS = 5
"""too_short: fewer words than this. Whitespace-separated tokens, and in scripts written without
spaces (Han, kana, Thai, Lao, Khmer, Myanmar) each character counts as a word."""
MIN_LETTER_SHARE = 0.5
"""mostly_non_letters: letters are less than this share of the non-space characters."""
MIN_CAPITALS = 8
MIN_CAPITAL_SHARE = 0.9
"""all_caps: at least MIN_CAPITALS capital letters making up this share of all letters."""

DETAIL_HEURISTIC = "heuristic"

# Private working columns.
_MATCH = "_match"
_BYTE_START = "_byte_start"
_ENDS_WORD = "_ends_word"
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

_TAGGER_OF = {
    "person": "entities",
    "place": "entities",
    "organisation": "entities",
    "topic": "topics",
    "language": "language",
    "quality": "quality",
}
_OUTPUT_ORDER = (PARAGRAPH_HASH, TAG_TYPE, SPAN_START, TAG_VALUE)
_OUTPUT_KEY = (PARAGRAPH_HASH, TAG_TYPE, TAG_VALUE, SPAN_START, SPAN_END)


# --- language ------------------------------------------------------------------------------


def detect_language(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> same + LANGUAGE (ISO 639-1).

    LANGUAGE is None when the text has fewer than MIN_LETTERS_FOR_LANGUAGE letters or the
    model is less sure than MIN_LANGUAGE_CONFIDENCE; the pipeline then lets the paragraph
    inherit its article's language.
    """
    judgeable = pl.col(TEXT).str.count_matches(r"\p{L}") >= MIN_LETTERS_FOR_LANGUAGE
    return paragraphs.with_columns(
        pl.when(judgeable)
        .then(pl.col(TEXT).str.head(MAX_CHARS_FOR_LANGUAGE))
        .map_batches(identify_languages, return_dtype=pl.String)
        .alias(LANGUAGE)
    )


def identify_languages(texts: pl.Series) -> pl.Series:
    """The one per-text library call: py3langid on each non-null text; null or unsure -> null."""
    identifier = load_language_identifier()
    verdicts = [None if text is None else identifier.classify(text) for text in texts.to_list()]
    codes = [
        verdict[0] if verdict and verdict[1] >= MIN_LANGUAGE_CONFIDENCE else None
        for verdict in verdicts
    ]
    return pl.Series(texts.name, codes, dtype=pl.String)


# --- all tags ------------------------------------------------------------------------------


def tag_paragraphs(paragraphs: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT, LANGUAGE -> TAGS: one row per tag, sorted, without duplicates."""
    frame = paragraphs.select(PARAGRAPH_HASH, TEXT, LANGUAGE).unique(
        PARAGRAPH_HASH, keep="first", maintain_order=True
    )
    tags = pl.concat(
        [
            tag_entities(frame, gazetteer=gazetteer),
            tag_topics(frame, gazetteer=gazetteer),
            tag_languages(frame),
            tag_quality(frame),
        ]
    )
    return (
        tags.unique(list(_OUTPUT_KEY), keep="first", maintain_order=True)
        .sort(list(_OUTPUT_ORDER), nulls_last=False)
        .pipe(conform, TAGS)
    )


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    """Add TAGGER / TAGGER_VERSION from TAG_TYPE, fill absent columns with null, conform to TAGS."""
    tagger = pl.col(TAG_TYPE).replace_strict(_TAGGER_OF, return_dtype=pl.String)
    missing = [
        pl.lit(None, dtype).alias(name) for name, dtype in TAGS.items() if name not in frame.columns
    ]
    return (
        frame.with_columns(*missing)
        .with_columns(tagger.alias(TAGGER))
        .with_columns(
            pl.col(TAGGER)
            .replace_strict(TAGGER_VERSIONS, return_dtype=pl.String)
            .alias(TAGGER_VERSION)
        )
        .pipe(conform, TAGS)
    )


# --- matching ------------------------------------------------------------------------------


def find_matches(
    frame: pl.DataFrame, patterns: pl.Series, *, ignore_case: bool = False
) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> one row per occurrence of a pattern that starts a word.

    Output adds _MATCH (the pattern matched; lower-cased when ``ignore_case``), SURFACE (the
    text matched), SPAN_START, SPAN_END (characters) and _ENDS_WORD (no letter or digit follows;
    the caller filters on it, or not for prefix keywords). Every overlapping occurrence is
    kept; the caller resolves overlaps.
    """
    if patterns.len() == 0:
        return frame.head(0).with_columns(
            pl.lit(None, pl.String).alias(_MATCH),
            pl.lit(None, pl.String).alias(SURFACE),
            pl.lit(None, pl.Int64).alias(SPAN_START),
            pl.lit(None, pl.Int64).alias(SPAN_END),
            pl.lit(None, pl.Boolean).alias(_ENDS_WORD),
        )
    text = pl.col(TEXT)
    options = {"ascii_case_insensitive": ignore_case, "overlapping": True}
    found = (
        frame.with_columns(
            text.str.find_many(patterns.to_list(), **options).alias(_BYTE_START),
            text.str.extract_many(patterns.to_list(), **options).alias(SURFACE),
        )
        .explode(_BYTE_START, SURFACE)
        .drop_nulls(_BYTE_START)
    )
    # find_many reports byte offsets. Characters before the match = the byte prefix decoded;
    # ASCII-only paragraphs (most news copy) skip the decode.
    byte_start = pl.col(_BYTE_START).cast(pl.Int64)
    decoded_prefix = text.cast(pl.Binary).bin.slice(0, byte_start).cast(pl.String).str.len_chars()
    is_ascii = text.str.len_bytes() == text.str.len_chars()
    start = pl.when(is_ascii).then(byte_start).otherwise(decoded_prefix)
    found = found.with_columns(start.cast(pl.Int64).alias(SPAN_START)).with_columns(
        (pl.col(SPAN_START) + pl.col(SURFACE).str.len_chars()).alias(SPAN_END),
        (pl.col(SURFACE).str.to_lowercase() if ignore_case else pl.col(SURFACE)).alias(_MATCH),
    )
    word_char = r"^[\p{L}\p{N}]"
    before = pl.when(pl.col(SPAN_START) > 0).then(text.str.slice(pl.col(SPAN_START) - 1, 1))
    after = text.str.slice(pl.col(SPAN_END), 1)
    starts_word = before.str.contains(word_char).fill_null(False).not_()
    ends_word = after.str.contains(word_char).fill_null(False).not_()
    return found.filter(starts_word).drop(_BYTE_START).with_columns(ends_word.alias(_ENDS_WORD))


def keep_longest(matches: pl.DataFrame) -> pl.DataFrame:
    """Resolve overlaps: leftmost first, then longest; a match overlapping a kept one goes."""
    length = pl.col(SPAN_END) - pl.col(SPAN_START)
    ordered = matches.sort(PARAGRAPH_HASH, SPAN_START, length, descending=[False, False, True])
    reach = pl.col(SPAN_END).cum_max().shift(1).over(PARAGRAPH_HASH)
    return ordered.filter(pl.col(SPAN_START) >= reach.fill_null(0))


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


def tag_entities(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS rows for people, places and organisations."""
    entities = gazetteer.entities
    found = find_matches(frame, entities[SURFACE]).filter(_ENDS_WORD)
    matches = found.join(entities.rename({SURFACE: _MATCH}), on=_MATCH, how="inner")
    # The cue check slices text around the match, so it runs on the ambiguous few only.
    matches = pl.concat(
        [
            matches.filter(~pl.col(NEEDS_CONTEXT)),
            matches.filter(pl.col(NEEDS_CONTEXT)).filter(~_has_person_cue()),
        ]
    ).drop(TEXT)
    # Longest match across all types, then blocking names (null type) are discarded.
    known = keep_longest(matches).filter(pl.col(TAG_TYPE).is_not_null())
    guessed = _titled_names(frame, gazetteer=gazetteer)
    # A guessed name is dropped where any accepted gazetteer match overlaps it.
    spans = matches.filter(pl.col(TAG_TYPE).is_not_null()).select(
        PARAGRAPH_HASH, pl.col(SPAN_START).alias("_s"), pl.col(SPAN_END).alias("_e")
    )
    overlapped = guessed.join(spans, on=PARAGRAPH_HASH, how="inner").filter(
        (pl.col("_s") < pl.col(SPAN_END)) & (pl.col("_e") > pl.col(SPAN_START))
    )
    guessed = guessed.join(overlapped, on=[PARAGRAPH_HASH, SPAN_START], how="anti")
    return pl.concat([_finish(known), _finish(guessed)])


def _titled_names(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> heuristic person rows: the capitalised words after a title.

    A lone surname that is the last word of exactly one gazetteer person's name resolves to
    that person ("Mr Brown" -> "Gordon Brown"); otherwise the tag value is the name as written.
    """
    titles = pl.Series(PERSON_TITLES)
    found = find_matches(frame, titles).filter(_ENDS_WORD).drop(TAG_TYPE, strict=False)
    # "Prime Minister" beats the "Minister" inside it.
    titled = keep_longest(found)
    following = pl.col(TEXT).str.slice(pl.col(SPAN_END), _NAME_LOOKAHEAD)
    names = (
        titled.select(
            PARAGRAPH_HASH,
            (pl.col(SPAN_END) + following.str.extract(_NAME_AFTER_TITLE, 1).str.len_chars()).alias(
                SPAN_START
            ),
            following.str.extract(_NAME_AFTER_TITLE, 2).alias(SURFACE),
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


# --- topics, language, quality -------------------------------------------------------------


def tag_topics(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS topic rows: SCORE = summed keyword weights >= threshold."""
    rules = gazetteer.topic_rules
    keywords = rules[KEYWORD].unique(maintain_order=True)
    found = find_matches(frame, keywords, ignore_case=True)
    hits = found.join(rules.rename({KEYWORD: _MATCH}), on=_MATCH, how="inner").filter(
        pl.col(_ENDS_WORD) | pl.col(IS_PREFIX)
    )
    # A subtopic's weight also counts towards its parent ("politics/diplomacy" -> "politics").
    parents = hits.filter(pl.col(TAG_VALUE).str.contains("/", literal=True)).with_columns(
        pl.col(TAG_VALUE).str.split("/").list.first()
    )
    scores = (
        pl.concat(
            [
                hits.select(PARAGRAPH_HASH, TAG_VALUE, WEIGHT),
                parents.select(PARAGRAPH_HASH, TAG_VALUE, WEIGHT),
            ]
        )
        .group_by(PARAGRAPH_HASH, TAG_VALUE)
        .agg(pl.col(WEIGHT).sum().alias(SCORE))
        .filter(pl.col(SCORE) >= gazetteer.topic_threshold)
    )
    return _finish(scores.with_columns(pl.lit("topic").alias(TAG_TYPE)))


def tag_languages(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, LANGUAGE -> one TAGS language row per paragraph whose LANGUAGE is set."""
    return _finish(
        frame.filter(pl.col(LANGUAGE).is_not_null()).select(
            PARAGRAPH_HASH, pl.lit("language").alias(TAG_TYPE), pl.col(LANGUAGE).alias(TAG_VALUE)
        )
    )


def tag_quality(frame: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> TAGS quality rows; SCORE is the measure behind each flag."""
    text = pl.col(TEXT)
    # Count the rare characters (spaces, non-letters, capitals) and derive the rest: a regex
    # hit per letter is several times slower on ordinary prose.
    unspaced_script = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
    stripped = text.str.strip_chars()
    counts = frame.select(
        PARAGRAPH_HASH,
        (
            pl.when(stripped.str.len_bytes() > 0).then(stripped.str.count_matches(r"\s+") + 1)
            + text.str.count_matches(unspaced_script)
        )
        .fill_null(0)
        .alias("_words"),
        (text.str.len_chars() - text.str.count_matches(r"\s")).alias("_visible"),
        text.str.count_matches(r"[^\p{L}\s]").alias("_non_letters"),
        text.str.count_matches(r"\p{Lu}").alias("_upper"),
    ).with_columns((pl.col("_visible") - pl.col("_non_letters")).alias("_letters"))
    letter_share = pl.col("_letters") / pl.col("_visible")
    upper_share = pl.col("_upper") / pl.col("_letters")
    too_short, non_letters, all_caps = QUALITY_FLAGS
    measured = counts.select(
        PARAGRAPH_HASH,
        pl.struct(
            pl.lit(too_short).alias(TAG_VALUE),
            pl.col("_words").cast(pl.Float64).alias(SCORE),
            (pl.col("_words") < MIN_WORDS).alias("_flag"),
        ).alias(too_short),
        pl.struct(
            pl.lit(non_letters).alias(TAG_VALUE),
            letter_share.alias(SCORE),
            ((pl.col("_visible") > 0) & (letter_share < MIN_LETTER_SHARE)).alias("_flag"),
        ).alias(non_letters),
        pl.struct(
            pl.lit(all_caps).alias(TAG_VALUE),
            upper_share.alias(SCORE),
            ((pl.col("_upper") >= MIN_CAPITALS) & (upper_share >= MIN_CAPITAL_SHARE)).alias(
                "_flag"
            ),
        ).alias(all_caps),
    )
    flags = (
        measured.unpivot(index=PARAGRAPH_HASH, value_name="_measure")
        .unnest("_measure")
        .filter("_flag")
        .with_columns(pl.lit("quality").alias(TAG_TYPE))
    )
    return _finish(flags)


__all__ = [
    "detect_language",
    "find_matches",
    "identify_languages",
    "keep_longest",
    "tag_entities",
    "tag_languages",
    "tag_paragraphs",
    "tag_quality",
    "tag_topics",
]
