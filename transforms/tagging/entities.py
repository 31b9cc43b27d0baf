"""The entity tagger: people, places and organisations named in a paragraph.

Rules and a learned span model (:mod:`transforms.tagging.spans`, which types the spans of
capitalised runs no rule below settles); word boundaries and overlaps as in
:mod:`transforms.tagging.matching`:

- gazetteer surfaces match in their exact case ("US" is a country, "us" is not); countries and
  cities also written all in capitals ("LONDON");
- ambiguous places (data/ambiguity.csv, rule ``context``) are dropped next to a person cue: a
  preceding capitalised word that is not a common sentence opener ("Michael Jordan", "Mr
  Chad") or a following capitalised word ("Chad Smith");
- heuristic people: a title (Mr, Mrs, Ms, Dr, President, Prime Minister, Minister, Chancellor,
  ...) followed by one to three capitalised words, unless a gazetteer entity overlaps them; a
  lone surname belonging to exactly one gazetteer person resolves to them ("Mr Brown" ->
  "Gordon Brown");
- abbreviated states that are also words ("Miss.", "Ind.", "Mass.") are places only right
  after a capitalised name and a comma ("Jackson, Miss.");
- a paragraph that opens with a dateline (:mod:`transforms.dateline`) gets place tags with
  detail "dateline" for its city and its country;
- exchange tickers in angle brackets ("<BAC>") are organisations (detail "ticker", the symbol
  as value), and so is the capitalised run right before one (detail "ticker_name").
"""

from __future__ import annotations

import polars as pl

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
    NEEDS_CITY,
    NEEDS_CONTEXT,
    Gazetteer,
)
from transforms.names import (
    capitalised_runs,
    load_name_rules,
)
from transforms.schema import (
    COUNTRY,
    DATELINE_COUNTRY,
    SCORE,
    SPAN_END,
    SPAN_START,
    SURFACE,
    TAG_DETAIL,
    TAG_TYPE,
    TAG_VALUE,
    TEXT,
    TICKER,
)
from transforms.tagging.frames import AS_WRITTEN, ENDS_WORD, MATCH, ROW
from transforms.tagging.matching import keep_longest
from transforms.tagging.spans import SpanModel, classify_spans

DETAIL_HEURISTIC = "heuristic"
DETAIL_DATELINE = "dateline"
DETAIL_TICKER = "ticker"
DETAIL_TICKER_NAME = "ticker_name"
DETAIL_MODEL = "span_model"
MODEL_OVERRIDES = 0.5
"""The span model retypes a gazetteer place only with more than even odds for its type."""
_SOURCE = "_source"  # which entity source a candidate came from (lower wins a tie)
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


def entity_patterns(gazetteer: Gazetteer) -> pl.Series:
    """What the entity tagger searches for on its own: gazetteer surfaces and person titles."""
    patterns = pl.concat([gazetteer.entities[SURFACE], pl.Series(PERSON_TITLES)])
    return patterns.unique(maintain_order=True)


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


def entity_tags(
    found: pl.DataFrame,
    frame: pl.DataFrame,
    *,
    gazetteer: Gazetteer,
    read_case: bool = True,
    span_model: SpanModel | None = None,
) -> pl.DataFrame:
    """find_matches rows (any patterns, any case) + the paragraphs (ROW, TEXT, optionally
    AS_WRITTEN) -> ROW + TAGS columns for people, places and organisations.

    Four sources compete, in this order: tickers, exact occurrences of gazetteer surfaces,
    names after a title, and the spans the span model types (:mod:`transforms.tagging.spans`).
    Overlaps are resolved leftmost, then longest, then in that order of sources, so the model
    adds what the lists miss or what is longer than their match ("Leeds United" over the city
    "Leeds"); it also retypes a listed place it is sure is something else ("Leeds 2" in a
    results line is the club). With ``read_case`` false (an all-capitals title read
    title-cased, where every word is capitalised) only the gazetteer competes: capitals say
    nothing there. Dateline and ticker tags are added beside the winners (they name what a
    winner may also name, with their own detail).
    """
    entities = gazetteer.entities
    found = found.filter(ENDS_WORD).drop(MATCH)
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
        return pl.concat([beside, kept], how="diagonal_relaxed")
    titles = found.filter(pl.col(SURFACE).is_in(pl.Series(PERSON_TITLES).implode()))
    guessed = _titled_names(titles, gazetteer=gazetteer)
    rules = load_name_rules(PERSON_TITLES)
    texts = frame.select(ROW, TEXT)
    spans = classify_spans(capitalised_runs(texts, rules), texts, rules, gazetteer, span_model)
    # The model adds spans no list matched. A listed match stays as it is (its value is
    # canonical: "U.S." -> "US"), except a place the model reads, with better than even odds,
    # as something else: it read the context ("Milan 2" is the club). Listed people and
    # organisations it never retypes: the lists know names it never saw.
    listed = matches.select(
        ROW, SPAN_START, SPAN_END, pl.col(TAG_TYPE).alias("_listed"), pl.lit(True).alias("_in")
    )
    judged = spans.join(listed, on=[ROW, SPAN_START, SPAN_END], how="left")
    retyped = judged.filter(
        (pl.col("_listed") == "place")
        & (pl.col(TAG_TYPE) != "place")
        & (pl.col(SCORE) >= MODEL_OVERRIDES)
    )
    modelled = pl.concat([judged.filter(pl.col("_in").is_null()), retyped]).select(
        *spans.columns, pl.lit(DETAIL_MODEL).alias(TAG_DETAIL)
    )
    kept_matches = matches.join(retyped, on=[ROW, SPAN_START, SPAN_END], how="anti")
    candidates = pl.concat(
        [
            tickers.with_columns(pl.lit(-2, pl.Int8).alias(_SOURCE)),
            kept_matches.with_columns(pl.lit(-1, pl.Int8).alias(_SOURCE)),
            guessed.with_columns(pl.lit(0, pl.Int8).alias(_SOURCE)),
            modelled.with_columns(pl.lit(1, pl.Int8).alias(_SOURCE)),
        ],
        how="diagonal_relaxed",
    )
    # Longest match across all types, then blocking names (null type) are discarded.
    kept = keep_longest(candidates, tie=_SOURCE).filter(pl.col(TAG_TYPE).is_not_null())
    # Dateline and ticker rows come first: where one names what a winner names at the same
    # span, the duplicate kept is the one with the more telling detail.
    return pl.concat([beside, _resolve_surnames(kept)], how="diagonal_relaxed")


def _follows_city() -> pl.Expr:
    """True where a match comes right after a capitalised name and a comma ("Jackson, Miss.",
    "KANSAS CITY, Mo.")."""
    text = pl.col(TEXT)
    window_start = pl.max_horizontal(pl.col(SPAN_START) - _CONTEXT_CHARS, pl.lit(0))
    before = text.str.slice(window_start, pl.col(SPAN_START) - window_start)
    return before.str.contains(r"\p{Lu}[\p{L}.'’-]*, $").fill_null(False)


def _dateline_tags(frame: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """ROW, TEXT -> ROW + TAGS columns: for a text opening with a dateline, a place tag for
    its city (the gazetteer's name for a known city, else the name as written) and one for its
    country (the ISO code, as country tags have it), both with detail "dateline". The
    country's span is the state's or country's after the city when that decided it, else the
    city's."""
    found = read_datelines(frame.select(ROW, TEXT), ROW, gazetteer=gazetteer)
    by_region = pl.col(REGION_COUNTRY).is_not_null()
    cities = found.select(
        ROW,
        pl.col(CITY_VALUE).alias(TAG_VALUE),
        pl.col(DATELINE_COUNTRY).alias(COUNTRY),
        pl.col(CITY_START).alias(SPAN_START),
        pl.col(CITY_END).alias(SPAN_END),
    )
    countries = found.filter(pl.col(DATELINE_COUNTRY).is_not_null()).select(
        ROW,
        pl.col(DATELINE_COUNTRY).alias(TAG_VALUE),
        pl.col(DATELINE_COUNTRY).alias(COUNTRY),
        pl.when(by_region).then(REGION_START).otherwise(CITY_START).alias(SPAN_START),
        pl.when(by_region).then(REGION_END).otherwise(CITY_END).alias(SPAN_END),
    )
    return (
        pl.concat([cities, countries])
        .join(frame.select(ROW, TEXT, *_written_columns(frame)), on=ROW, how="left")
        .select(
            ROW,
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
    return [AS_WRITTEN] if AS_WRITTEN in frame.columns else []


def _written(start: pl.Expr, end: pl.Expr, frame: pl.DataFrame) -> pl.Expr:
    """The text between two offsets as written: AS_WRITTEN where the frame has it (a title
    read title-cased), else TEXT. The caller has joined the frame's text columns."""
    source = pl.col(AS_WRITTEN) if AS_WRITTEN in frame.columns else pl.col(TEXT)
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
    """ROW, TEXT (+ AS_WRITTEN) -> two frames of ROW + TAGS columns: an organisation per
    ticker (value the symbol, detail "ticker", span the bracketed text), and one per
    capitalised run that ends at most one space before a ticker (value the run, title-cased
    when written in capitals, detail "ticker_name"): "BankAmerica Corp <BAC>", "STANDARD OIL
    <SRD>" -> "Standard Oil".

    Symbols are read from the text as written, names from TEXT (a title-cased title there).
    With ``name_opens_clause`` (a title-cased headline, where verbs are capitalised too) a name
    must open the text or follow punctuation: "USAIR <U> BUYS PIEDMONT <PIE>" names no "Buys
    Piedmont".
    """
    written = pl.col(AS_WRITTEN) if AS_WRITTEN in frame.columns else pl.col(TEXT)
    texts = frame.select(ROW, TEXT, written.alias(AS_WRITTEN)).filter(
        pl.col(AS_WRITTEN).str.contains(_TICKER).fill_null(False)
    )
    piece = pl.col(_PIECE)
    length = piece.str.len_chars()
    tickers = (
        texts.select(ROW, pl.col(AS_WRITTEN).str.extract_all(_TICKER_PIECES).alias(_PIECE))
        .explode(_PIECE)
        .drop_nulls(_PIECE)
        # pieces of a text are contiguous and in order: offsets are running sums per text
        .with_columns((length.cum_sum().over(ROW) - length).alias(SPAN_START))
        .filter(
            piece.str.contains(f"^{_TICKER}$")
            & piece.str.contains("[A-Z]")
            & ~piece.is_in(list(NOT_TICKERS))
        )
        .with_columns((pl.col(SPAN_START) + length).alias(SPAN_END))
    )
    symbols = tickers.select(
        ROW,
        pl.lit("organisation").alias(TAG_TYPE),
        piece.str.strip_prefix("<").str.strip_suffix(">").alias(TAG_VALUE),
        pl.lit(DETAIL_TICKER).alias(TAG_DETAIL),
        SPAN_START,
        SPAN_END,
        piece.alias(SURFACE),
    )
    # The name ends right before the bracket or one space before it.
    spaced = texts.select(ROW, TEXT).join(tickers.select(ROW, SPAN_START), on=ROW)
    ends = spaced.select(
        ROW,
        (
            pl.col(SPAN_START)
            - (pl.col(TEXT).str.slice(pl.col(SPAN_START) - 1, 1) == " ")
            .fill_null(False)
            .cast(pl.Int64)
        ).alias(SPAN_END),
    )
    runs = capitalised_runs(texts.select(ROW, TEXT), load_name_rules(PERSON_TITLES))
    if name_opens_clause:
        before = (
            runs.join(texts.select(ROW, TEXT), on=ROW, how="left")
            .select(pl.col(TEXT).str.head(pl.col(SPAN_START)).str.strip_chars_end())
            .to_series()
        )
        runs = runs.filter((before == "") | before.str.contains(r"[,;:(\x22'-]$"))
    name = pl.col(SURFACE)
    names = runs.join(ends, on=[ROW, SPAN_END], how="semi").join(
        texts.select(ROW, AS_WRITTEN), on=ROW, how="left"
    )
    named = names.select(
        ROW,
        pl.lit("organisation").alias(TAG_TYPE),
        pl.when(name.str.contains(r"\p{Ll}"))
        .then(name)
        .otherwise(name.str.to_titlecase())
        .alias(TAG_VALUE),
        pl.lit(DETAIL_TICKER_NAME).alias(TAG_DETAIL),
        SPAN_START,
        SPAN_END,
        pl.col(AS_WRITTEN)
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
            ROW,
            pl.col(TAG_VALUE).str.split(" ").list.last().alias("_surname"),
            pl.col(TAG_VALUE).alias("_full_name"),
        )
        .unique()
        .filter(pl.len().over(ROW, "_surname") == 1)
    )
    lone = (pl.col(TAG_TYPE) == "person") & ~pl.col(TAG_VALUE).str.contains(" ")
    return (
        entities.with_columns(pl.when(lone).then(pl.col(TAG_VALUE)).alias("_surname"))
        .join(full_names, on=[ROW, "_surname"], how="left")
        .with_columns(pl.coalesce("_full_name", TAG_VALUE).alias(TAG_VALUE))
        .drop("_surname", "_full_name")
    )


def _titled_names(titles: pl.DataFrame, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """Title occurrences (ROW, TEXT, SPAN_START, SPAN_END) -> heuristic person rows: the
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
            ROW,
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
