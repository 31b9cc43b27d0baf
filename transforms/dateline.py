"""Datelines: where (and sometimes when) a wire story was filed, read from its first words.

Forms read, in capitals or mixed case, with any of the dashes " - ", " -- ", "—", "–":

- ``CITY, State, Month Day -``  "GUILDERLAND, N.Y., March 16 -", "COLUMBIA, Md. March 3 -"
- ``CITY, Month Day -``         "LONDON, March 3 -", "CHICAGO, March 4, -", "Caracas, feb 26 -"
- ``CITY, Month Day (Agency) -`` "London, March 3 (Reuters) -"
- ``CITY (Agency) -``           "TOKYO (Reuters) -"
- ``CITY, State -``             "CALGARY, Alberta - Qtr ends Dec 31"
- ``CITY -``                    "BERNE - Swiss consumer prices rose"

A date (a month, with or without its day) or an agency says it is a dateline, so the city
may be any capitalised name. A bare ``CITY -`` could open any sentence ("Shares rose - and
fell", "The U.S. - Japan talks"), so there the city must be one the gazetteer knows, and
written in capitals unless a capital follows the dash; ``CITY, State -`` needs a state or
country the gazetteer knows; an agency form without a date needs a known city or one in
capitals. The dash of a form without a date has space around it ("LONDON-based" is none).

The city resolves to a country through the gazetteer's cities, then its countries; a state
or country after it ("N.Y.", "Ore.", "Netherlands") decides the country when it is known,
whether the city is known or not ("GUILDERLAND, N.Y." -> US, "PARIS, Texas" -> US). States
and cities are compared by :func:`transforms.gazetteer.place_key` (upper case, no dots or
spaces), so "CALIF", "Calif." and "W. Va." all resolve.

:func:`read_datelines` is the one reader; :func:`find_datelines` (one row per article) and the
entity tagger (:mod:`transforms.tagging.entities`, place tags with detail "dateline") both use it.
"""

from __future__ import annotations

import polars as pl

from transforms.gazetteer import (
    DETAIL_CITY,
    PLACE_KEY,
    PRIORITY,
    SLOT,
    SLOT_CITY,
    SLOT_REGION,
    Gazetteer,
    load_gazetteer,
    place_key,
)
from transforms.normalise import normalise_text
from transforms.schema import (
    ARTICLE_ID,
    COUNTRY,
    DATELINE,
    DATELINE_AGENCY,
    DATELINE_CITY,
    DATELINE_COUNTRY,
    DATELINE_DATE,
    DATELINE_PUBLISHED,
    DATELINE_REGION,
    DATELINES,
    RAW_TEXT,
    TAG_DETAIL,
    TAG_VALUE,
    TEXT,
    conform,
)

# Columns of read_datelines beyond the caller's key (character offsets into the text read).
CITY_START = "_city_start"
CITY_END = "_city_end"
REGION_START = "_region_start"
REGION_END = "_region_end"
CITY_VALUE = "_city_value"  # the gazetteer's name for the city, else DATELINE_CITY
REGION_COUNTRY = "_region_country"  # the country the state or country slot resolved to

MAX_DATELINE_CHARS = 160
"""Only the start of a text is read: no dateline is longer."""

_WORD = r"\p{Lu}[\p{L}\p{M}'’.]*(?:-\p{L}[\p{L}\p{M}'’.]*)*"  # "ST.", "O'HARE", "WINSTON-SALEM"
# Lower-case words inside a city's name ("Rio de Janeiro", "Stratford upon Avon").
_CONNECTOR = r"(?:de|da|do|dos|das|del|della|di|du|la|le|les|el|al|am|an|en|es|of|on|upon|sur|y)"
_CITY = rf"{_WORD}(?:\s+(?:{_CONNECTOR}\s+)?{_WORD}){{0,3}}"
_REGION = rf"{_WORD}(?:\s+{_WORD}){{0,2}}"  # "N.Y.", "W. Va.", "British Columbia"
_MONTH = (
    r"(?i:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|febr|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+\d{4})?"
_DATE = rf"{_MONTH}(?:\s*{_DAY})?{_YEAR}|{_DAY}\s+{_MONTH}{_YEAR}"  # "April" alone too
_AGENCY = r"\p{L}[\p{L}\p{N} .&'-]{0,40}?"

DATELINE_PATTERN = (
    r"^(?P<lead>[*\s]*)"
    r"(?P<dateline>"
    rf"(?P<city>{_CITY})"
    r"(?:"
    rf"(?P<sep>\s*,\s*(?:[Tt]he\s+)?)(?:(?P<region>{_REGION}),?\s+)?(?P<date>{_DATE})"
    rf"(?:\s*\((?P<agency>{_AGENCY})\))?"
    rf"|\s*\((?P<agency_only>{_AGENCY})\)"
    rf"|(?P<sep_only>\s*,\s*(?:[Tt]he\s+)?)(?P<region_only>{_REGION})"
    r")?"
    r")"
    r"(?P<dash>,?\s*(?:-{1,3}|[–—]))(?P<next>\s*\S?)"
)
"""The one dateline pattern (Polars/Rust regex), anchored at the start of the text."""

# What every accepted dateline satisfies, and a regex without captures or letter classes
# checks much faster: up to eight words, then a comma with a digit (the day) or a dash within
# 60 characters, a bracket, a spaced hyphen or a long dash. Only texts passing it are matched
# against DATELINE_PATTERN, so most paragraphs never meet the costly pattern.
_MAYBE_DATELINE = (
    r"^[*\s]*\S+(?:\s+\S+){0,7}?"
    r"(?:\s*,\D{0,60}\d|\s*,[^\n]{0,60}?(?:\s-|[–—])|\s*\(|\s+-|\s*[–—])"
)

# Capitalised words that open a clause before a date and are no city ("Tuesday, March 3 -").
NOT_CITIES = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Today",
    "Yesterday", "Tomorrow", "Updated", "Posted", "Published", "Reuters", "Reuter",
)  # fmt: skip
# Lower-case words inside a title-cased city name ("Rio De Janeiro" -> "Rio de Janeiro").
_TITLE_CONNECTORS = ("De", "Da", "Do", "Dos", "Das", "Del", "Della", "Di", "Du", "La", "Of", "Upon")

_PARTS = "_parts"
_KEY = "_key"


def read_datelines(texts: pl.DataFrame, key: str, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """`key`, TEXT -> one row per text that opens with a dateline: `key`, DATELINE,
    DATELINE_CITY, DATELINE_REGION, DATELINE_COUNTRY, DATELINE_DATE, DATELINE_AGENCY, and the
    private CITY_START, CITY_END, REGION_START, REGION_END (character offsets into TEXT; the
    region's null without one), CITY_VALUE and REGION_COUNTRY.

    Values are the text as written, whitespace runs read as one space; DATELINE_CITY is
    title-cased when written in capitals ("GUILDERLAND" -> "Guilderland"). CITY_VALUE is the
    gazetteer's name for a known city in the dateline's country ("NEW YORK" -> "New York
    City"), else DATELINE_CITY.
    """
    text = pl.col(TEXT)
    parts = pl.col(_PARTS)
    head = text.str.head(MAX_DATELINE_CHARS)
    found = (
        texts.select(key, TEXT)
        .filter(head.str.contains(_MAYBE_DATELINE).fill_null(False))
        .with_columns(head.str.extract_groups(DATELINE_PATTERN).alias(_PARTS))
        .filter(parts.struct.field("city").is_not_null())
    )
    one_space = {
        name: parts.struct.field(name).str.replace_all(r"\s+", " ")
        for name in ("dateline", "city", "date")
    }
    agency = pl.coalesce(parts.struct.field("agency"), parts.struct.field("agency_only"))
    city_start = parts.struct.field("lead").str.len_chars()
    city_end = city_start + parts.struct.field("city").str.len_chars()
    separator = pl.coalesce(parts.struct.field("sep"), parts.struct.field("sep_only"))
    region_start = city_end + separator.str.len_chars()
    region = pl.coalesce(parts.struct.field("region"), parts.struct.field("region_only"))
    city = one_space["city"]
    in_capitals = ~city.str.contains(r"\p{Ll}")
    readable_city = (
        pl.when(in_capitals)
        .then(
            city.str.to_titlecase().str.replace_many(
                [f" {word} " for word in _TITLE_CONNECTORS],
                [f" {word.lower()} " for word in _TITLE_CONNECTORS],
            )
        )
        .otherwise(city)
    )
    read = found.select(
        key,
        one_space["dateline"].alias(DATELINE),
        readable_city.alias(DATELINE_CITY),
        region.str.replace_all(r"\s+", " ").alias(DATELINE_REGION),
        one_space["date"].alias(DATELINE_DATE),
        agency.str.replace_all(r"\s+", " ").alias(DATELINE_AGENCY),
        city_start.cast(pl.Int64).alias(CITY_START),
        city_end.cast(pl.Int64).alias(CITY_END),
        pl.when(region.is_not_null()).then(region_start).cast(pl.Int64).alias(REGION_START),
        (region_start + region.str.len_chars()).cast(pl.Int64).alias(REGION_END),
        in_capitals.alias("_in_capitals"),
        parts.struct.field("dash").alias("_dash"),
        parts.struct.field("next").alias("_next"),
    ).filter(~pl.col(DATELINE_CITY).is_in(list(NOT_CITIES)))
    return _resolved(read, key, gazetteer=gazetteer)


def _resolved(read: pl.DataFrame, key: str, *, gazetteer: Gazetteer) -> pl.DataFrame:
    """read_datelines' rows -> with DATELINE_COUNTRY, CITY_VALUE and REGION_COUNTRY; the forms
    without a date that fail their checks (see the module docstring) dropped."""
    places = gazetteer.dateline_places
    cities = places.filter(pl.col(SLOT) == SLOT_CITY).select(  # one row per key
        pl.col(PLACE_KEY).alias(_KEY),
        pl.col(TAG_VALUE).alias("_known_city"),
        (pl.col(TAG_DETAIL) == DETAIL_CITY).alias("_is_city"),
        # a city the tagger knows anywhere, not only in a dateline
        ((pl.col(TAG_DETAIL) == DETAIL_CITY) & (pl.col(PRIORITY) == 0)).alias("_is_major"),
        pl.col(COUNTRY).alias("_city_country"),
    )
    regions = places.filter(pl.col(SLOT) == SLOT_REGION).select(
        pl.col(PLACE_KEY).alias("_region_key"), PRIORITY, pl.col(COUNTRY).alias(REGION_COUNTRY)
    )
    with_city = read.with_columns(place_key(pl.col(DATELINE_CITY)).alias(_KEY)).join(
        cities, on=_KEY, how="left"
    )
    # A state key may name several places ("Georgia"): the one in the city's country wins,
    # else the best-ranked.
    region_choice = (
        with_city.select(
            key, place_key(pl.col(DATELINE_REGION)).alias("_region_key"), "_city_country"
        )
        .join(regions, on="_region_key", how="inner")
        .sort(
            [
                pl.col(key),
                pl.col(REGION_COUNTRY).ne_missing(pl.col("_city_country")),
                pl.col(PRIORITY),
            ]
        )
        .unique(key, keep="first", maintain_order=True)
        .select(key, REGION_COUNTRY)
    )
    resolved = with_city.join(region_choice, on=key, how="left")
    country = pl.coalesce(REGION_COUNTRY, "_city_country")
    # The gazetteer's city only where its country is the dateline's ("PARIS, Texas" is not Paris).
    same_city = pl.col("_is_city").fill_null(False) & pl.col("_city_country").eq_missing(country)
    dated = pl.col(DATELINE_DATE).is_not_null()
    with_agency = pl.col(DATELINE_AGENCY).is_not_null()
    # Without a date the city must be one the tagger knows: a word like "Reading" or "Mobile"
    # may open a sentence.
    known = pl.col("_is_major").fill_null(False)
    # A hyphen needs space on both sides: "LONDON-based" is no dateline.
    spaced_dash = pl.col("_dash").str.contains(r"^\s+-{1,2}$") & pl.col("_next").str.contains(
        r"^(?:\s|$)"
    )
    long_dash = pl.col("_dash").str.contains(r"[–—]")
    capital_after = pl.col("_in_capitals") | ~pl.col("_next").str.contains(r"^\s*\p{Ll}")
    spaced = spaced_dash | long_dash
    with_region = pl.col(DATELINE_REGION).is_not_null()
    bare_ok = known & spaced & capital_after
    region_ok = pl.col(REGION_COUNTRY).is_not_null() & spaced
    agency_ok = known | pl.col("_in_capitals")
    return (
        resolved.filter(
            dated
            | (with_agency & agency_ok)
            | (~with_agency & with_region & region_ok)
            | (~with_agency & ~with_region & bare_ok)
        )
        .with_columns(
            country.alias(DATELINE_COUNTRY),
            pl.when(same_city)
            .then(pl.col("_known_city"))
            .otherwise(pl.col(DATELINE_CITY))
            .alias(CITY_VALUE),
        )
        .drop(_KEY, "_known_city", "_is_city", "_is_major", "_city_country")
        .drop("_in_capitals", "_dash", "_next")
    )


def find_datelines(paragraphs: pl.DataFrame, *, gazetteer: Gazetteer | None = None) -> pl.DataFrame:
    """ARTICLE_ID, RAW_TEXT of each article's first body paragraph -> DATELINES: one row per
    article whose paragraph opens with a dateline.

    The paragraph is read in its normal form (:func:`transforms.normalise.normalise_text`, as
    the taggers read it), so values are as written but for whitespace, quotes and dashes.
    DATELINE_PUBLISHED is set only when the date holds a year (:func:`dateline_published`).
    `gazetteer` defaults to the built-in one.
    """
    gazetteer = gazetteer or load_gazetteer()
    texts = paragraphs.select(ARTICLE_ID, normalise_text(pl.col(RAW_TEXT)).alias(TEXT))
    found = read_datelines(texts, ARTICLE_ID, gazetteer=gazetteer)
    return found.with_columns(
        dateline_published(pl.col(DATELINE_DATE)).alias(DATELINE_PUBLISHED)
    ).pipe(conform, DATELINES)


_MONTH_NUMBERS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip


def has_certain_year(date: pl.Expr) -> pl.Expr:
    """True where a dateline's date holds a four-digit year ("March 16, 1987"): only then does
    it say which day the story was filed; "March 16" alone does not."""
    return date.str.contains(r"(?:^|\D)\d{4}(?:\D|$)").fill_null(False)


def dateline_published(date: pl.Expr) -> pl.Expr:
    """A dateline's date text -> that day at midnight as Datetime("us", "UTC") when it holds a
    year (:func:`has_certain_year`), else null; null too for a day that does not exist."""
    month = (
        date.str.extract(r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", 1)
        .str.to_lowercase()
        .replace_strict(_MONTH_NUMBERS, default=None, return_dtype=pl.Int32)
    )
    day = date.str.extract(r"(?:^|\D)(\d{1,2})(?:st|nd|rd|th)?(?:\D|$)", 1).cast(pl.Int32)
    year = date.str.extract(r"(?:^|\D)(\d{4})(?:\D|$)", 1)
    iso = pl.concat_str(
        year,
        pl.lit("-"),
        month.cast(pl.String).str.zfill(2),
        pl.lit("-"),
        day.cast(pl.String).str.zfill(2),
    )
    parsed = iso.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us", time_zone="UTC")
    return pl.when(has_certain_year(date)).then(parsed)


__all__ = [
    "DATELINE_PATTERN",
    "dateline_published",
    "find_datelines",
    "has_certain_year",
    "read_datelines",
]
