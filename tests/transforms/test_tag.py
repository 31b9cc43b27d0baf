"""Tests for transforms.tagging and transforms.gazetteer: micro-frames, then the seed article."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transforms.errors import UsageError
from transforms.gazetteer import DATA_DIR, load_gazetteer, vocabulary
from transforms.schema import (
    COUNTRY,
    LANGUAGE,
    PARAGRAPH_HASH,
    SCORE,
    SPAN_END,
    SPAN_START,
    SURFACE,
    TAG_DETAIL,
    TAG_TYPE,
    TAG_TYPES,
    TAG_VALUE,
    TAGGER,
    TAGGER_VERSION,
    TAGS,
    TEXT,
)
from transforms.tagging import (
    TAGGERS,
    detect_language,
    get_tagger,
    registry,
    tag_entities,
    tag_languages,
    tag_paragraphs,
    tag_quality,
    tag_topics,
    tag_with,
    tagger_versions,
)

CORPORA = Path(
    os.environ.get(
        "NUTGRAF_CORPORA", Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
    )
)
SEED = CORPORA / "seed" / "000_8ab4b52764c9943c.txt"
MULTILINGUAL = CORPORA / "multilingual"


def paragraphs(*texts: str, language: str | None = "en") -> pl.DataFrame:
    """A PARAGRAPH_HASH, TEXT, LANGUAGE frame from literal texts."""
    return pl.DataFrame(
        {
            PARAGRAPH_HASH: [hashlib.sha256(text.encode()).hexdigest() for text in texts],
            TEXT: list(texts),
            LANGUAGE: [language] * len(texts),
        },
        schema={PARAGRAPH_HASH: pl.String, TEXT: pl.String, LANGUAGE: pl.String},
    )


def tags_of(text: str, tag_type: str, **kwargs) -> pl.DataFrame:
    """TAG_VALUE, TAG_DETAIL, COUNTRY, SPAN_START, SPAN_END, SURFACE of one type, in text order."""
    frame = tag_paragraphs(paragraphs(text), gazetteer=load_gazetteer(**kwargs))
    return (
        frame.filter(pl.col(TAG_TYPE) == tag_type)
        .sort(SPAN_START, TAG_VALUE)
        .select(TAG_VALUE, TAG_DETAIL, COUNTRY, SPAN_START, SPAN_END, SURFACE)
    )


def values(text: str, tag_type: str, **kwargs) -> list[str]:
    return tags_of(text, tag_type, **kwargs)[TAG_VALUE].to_list()


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


# --- micro-frames ----------------------------------------------------------------------------


def test_output_is_the_tags_schema_sorted_and_without_duplicates(gazetteer):
    text = "Putin met Xi in Moscow. Putin and Xi discussed trade and tariffs."
    frame = tag_paragraphs(paragraphs(text, text, "Short one."), gazetteer=gazetteer)
    assert frame.schema == TAGS
    assert frame.equals(frame.sort(PARAGRAPH_HASH, TAG_TYPE, SPAN_START, TAG_VALUE))
    key = [PARAGRAPH_HASH, TAG_TYPE, TAG_VALUE, SPAN_START, SPAN_END]
    assert frame.select(key).is_duplicated().sum() == 0
    taggers = frame.select(TAGGER, TAGGER_VERSION, TAG_TYPE).unique()
    assert all(tagger_versions()[t] == v for t, v, _ in taggers.iter_rows())
    assert all(tag_type in TAGGERS[t].emits for t, _, tag_type in taggers.iter_rows())


def test_the_registry_holds_each_taggers_version_and_tag_types():
    assert tagger_versions() == {
        "entities": "entities_v4",
        "topics": "topics_v3",
        "language": "language_v1",
        "quality": "quality_v3",
    }
    emitted = [tag_type for tagger in TAGGERS.values() for tag_type in tagger.emits]
    assert sorted(emitted) == sorted(TAG_TYPES)  # each tag type from exactly one tagger
    assert get_tagger("topics") is TAGGERS["topics"]


def test_an_unknown_tagger_is_a_usage_error_naming_the_known_ones():
    with pytest.raises(
        UsageError, match="'sentiment'; the taggers are entities, topics, language, quality$"
    ):
        get_tagger("sentiment")


def test_whole_words_only():
    # "Russia" inside "Russian" is the demonym, not the country; "Iran" not inside "Tirana".
    frame = tags_of("The Russian envoy flew from Tirana to Russia.", "place")
    expected = pl.DataFrame(
        {
            TAG_VALUE: ["RU", "Tirana", "RU"],
            TAG_DETAIL: ["demonym", "city", "country"],
            COUNTRY: ["RU", "AL", "RU"],
            SPAN_START: [4, 28, 38],
            SPAN_END: [11, 34, 44],
            SURFACE: ["Russian", "Tirana", "Russia"],
        },
        schema=frame.schema,
    )
    assert_frame_equal(frame, expected)


def test_longest_match_wins():
    text = "Xi Jinping spoke to the Ministry of Foreign Affairs about New Mexico."
    assert values(text, "person") == ["Xi Jinping"]
    assert values(text, "organisation") == ["Ministry of Foreign Affairs"]
    # The US state, not Mexico inside it.
    assert tags_of(text, "place")[TAG_VALUE, COUNTRY].rows() == [("New Mexico", "US")]


def test_aliases_resolve_to_canonical_names():
    text = "President Xi welcomed Putin, and Trump called the EU and Nato."
    assert values(text, "person") == ["Xi Jinping", "Vladimir Putin", "Donald Trump"]
    assert values(text, "organisation") == ["European Union", "NATO"]


def test_spans_are_character_offsets_with_non_ascii_text():
    text = "Zürich – Genève … Beijing"
    frame = tags_of(text, "place")
    beijing = frame.filter(pl.col(TAG_VALUE) == "Beijing").row(0, named=True)
    assert (beijing[SPAN_START], beijing[SPAN_END]) == (18, 25)
    assert text[beijing[SPAN_START] : beijing[SPAN_END]] == "Beijing"
    zurich = frame.filter(pl.col(TAG_VALUE) == "Zürich").row(0, named=True)
    assert (zurich[SPAN_START], zurich[SPAN_END], zurich[COUNTRY]) == (0, 6, "CH")


def test_ambiguous_places_need_no_person_cue():
    assert values("Michael Jordan and Chad Smith visited Georgia.", "place") == ["GE"]
    assert values("Troops left Jordan and Chad.", "place") == ["JO", "TD"]
    assert values("Mr Washington flew to Washington.", "place") == ["Washington"]


def test_heuristic_people_follow_a_title_only():
    text = "Prime Minister Ahmed Nazif met Mr Ebbers. Yesterday Markets rose."
    frame = tags_of(text, "person")
    assert frame[TAG_VALUE].to_list() == ["Ahmed Nazif", "Ebbers"]
    assert frame[TAG_DETAIL].to_list() == ["heuristic", "heuristic"]
    assert text[frame[SPAN_START][0] : frame[SPAN_END][0]] == "Ahmed Nazif"
    # a gazetteer name after a title stays a gazetteer tag
    assert tags_of("Chancellor Gordon Brown said so.", "person")[TAG_DETAIL].to_list() == [
        "gazetteer"
    ]


def test_user_file_extends_people_organisations_and_topics(tmp_path):
    user_file = tmp_path / "tags.toml"
    user_file.write_text(
        """
[[person]]
name = "Ada Lovelace"
aliases = ["Lovelace"]

[[organisation]]
name = "Office for National Statistics"
aliases = ["ONS"]

[[topic]]
keyword = "loom*"
topic = "science-technology"
weight = 1.0

[[topic]]
keyword = "knitting"
topic = "crafts-and-hobbies"
""",
        encoding="utf-8",
    )
    text = "Lovelace told the ONS that looms and knitting matter."
    assert values(text, "person", user_file=user_file) == ["Ada Lovelace"]
    assert values(text, "organisation", user_file=user_file) == ["Office for National Statistics"]
    topics = values(text, "topic", user_file=user_file)
    assert "science-technology" in topics
    # an unknown slug is tagged anyway; the vocabulary (and so the quality gate) rejects it
    assert "crafts-and-hobbies" in topics
    vocab = vocabulary(load_gazetteer(user_file))
    assert "crafts-and-hobbies" not in vocab["topic"]
    # the built-in gazetteer is unchanged: without the file no tag names her in full
    assert "Ada Lovelace" not in values(text, "person")


def test_example_user_file_loads():
    gazetteer = load_gazetteer(DATA_DIR / "tags.example.toml")
    assert values("Mr Brown met Starmer.", "person", user_file=DATA_DIR / "tags.example.toml") == [
        "Gordon Brown",
        "Keir Starmer",
    ]
    assert gazetteer.topics == load_gazetteer().topics


def test_topics_score_keyword_weights():
    frame = tag_paragraphs(
        paragraphs("Tariffs and exports dominated the summit of foreign ministers."),
        gazetteer=load_gazetteer(),
    ).filter(pl.col(TAG_TYPE) == "topic")
    scores = dict(zip(frame[TAG_VALUE], frame[SCORE], strict=True))
    assert scores["economy-business-finance/trade"] == 2.0
    assert scores["politics/diplomacy"] == 2.0
    assert frame[SPAN_START].null_count() == frame.height


def test_quality_flags():
    frame = tag_paragraphs(
        paragraphs("Too short.", "12,345 67,890 -- 11.2% / 33.4%", "BREAKING NEWS FROM THE WIRE"),
        gazetteer=load_gazetteer(),
    ).filter(pl.col(TAG_TYPE) == "quality")
    flags = set(frame[TAG_VALUE])
    assert flags == {"too_short", "mostly_non_letters", "all_caps", "numeric_table"}
    long_chinese = "中国和俄罗斯的关系在过去几年里不断加强"
    quiet = tag_paragraphs(paragraphs(long_chinese), gazetteer=load_gazetteer())
    assert quiet.filter(pl.col(TAG_TYPE) == "quality").height == 0


def test_language_tags_and_detection():
    frame = detect_language(
        paragraphs(
            "Le gouvernement a annoncé de nouvelles mesures après les manifestations de samedi.",
            "中国和俄罗斯的关系在过去几年里不断加强，两国领导人多次会晤。",
            "He said:",
            language=None,
        ).drop(LANGUAGE)
    )
    assert frame[LANGUAGE].to_list() == ["fr", "zh", None]
    tags = tag_paragraphs(frame, gazetteer=load_gazetteer()).filter(pl.col(TAG_TYPE) == "language")
    assert sorted(tags[TAG_VALUE]) == ["fr", "zh"]
    assert set(tags[TAG_VALUE]) <= vocabulary(load_gazetteer())["language"]


def test_names_and_titles_count_only_in_their_exact_case():
    # One case-insensitive pass serves names, titles and keywords; "us" is not the US, "mr" is
    # not a title, while keywords ignore case.
    text = "The us team and mr smith saw MR SMITH; US officials met Mr Smith over TARIFFS."
    assert tags_of(text, "place")[SURFACE].to_list() == ["US"]
    assert values(text, "person") == ["Smith"]
    frame = tag_paragraphs(paragraphs(text), gazetteer=load_gazetteer())
    assert "economy-business-finance/trade" in set(frame[TAG_VALUE])


def test_keywords_fold_ascii_letters_only(tmp_path):
    # As ascii_case_insensitive matching does: "éCONOMIE" is "économie", "ÉCONOMIE" is not.
    user_file = tmp_path / "tags.toml"
    user_file.write_text(
        '[[topic]]\nkeyword = "économie"\ntopic = "economy-business-finance"\n', encoding="utf-8"
    )
    topic = "economy-business-finance"
    assert topic in values("La croissance de l'éCONOMIE ralentit.", "topic", user_file=user_file)
    assert topic not in values(
        "La croissance de l'ÉCONOMIE ralentit.", "topic", user_file=user_file
    )


def test_word_boundaries_next_to_non_ascii_characters():
    text = "éPutin, 中Putin, Putiné and «Putin» met."
    frame = tags_of(text, "person")
    assert frame[SURFACE].to_list() == ["Putin"]
    assert frame[SPAN_START].to_list() == [text.index("«Putin»") + 1]


def test_quality_measures_are_the_same_for_ascii_and_other_text():
    ascii_caps, other_caps = "THE QUICK BROWN FOX JUMPS", "THE QUICK BROWN FOX JUMPÉ"
    numbers = "12,345\t67,890\n11.2% 33.4% of them"  # tab and newline are not visible
    long_caps = "ABC " * 20_000  # longer than the byte counter takes
    frame = tag_paragraphs(
        paragraphs(ascii_caps, other_caps, numbers, long_caps), gazetteer=load_gazetteer()
    ).filter(pl.col(TAG_TYPE) == "quality")
    scores = {
        (text, flag): score
        for text, flag, score in frame.join(
            paragraphs(ascii_caps, other_caps, numbers, long_caps), on=PARAGRAPH_HASH
        )
        .select(TEXT, TAG_VALUE, SCORE)
        .iter_rows()
    }
    assert scores == {
        (ascii_caps, "all_caps"): 1.0,
        (other_caps, "all_caps"): 1.0,
        (numbers, "mostly_non_letters"): 6 / 28,
        (numbers, "numeric_table"): 16 / 22,
        (long_caps, "all_caps"): 1.0,
    }


def test_each_tagger_gives_its_rows_of_tag_paragraphs(gazetteer):
    texts = (
        "Prime Minister Ahmed Nazif met Mr Ebbers in Cairo about tariffs and exports.",
        "Michael Jordan and Chad Smith visited Georgia. Zürich – Genève … Beijing",
        "BREAKING NEWS FROM THE WIRE",
    )
    frame = paragraphs(*texts)
    taggers = pl.concat(
        [
            tag_entities(frame, gazetteer=gazetteer),
            tag_topics(frame, gazetteer=gazetteer),
            tag_languages(frame),
            tag_quality(frame),
        ]
    )
    assert_frame_equal(
        taggers.sort(PARAGRAPH_HASH, TAG_TYPE, SPAN_START, TAG_VALUE, nulls_last=False),
        tag_paragraphs(frame, gazetteer=gazetteer),
    )


def test_a_repeated_hash_is_tagged_once_from_its_first_text(gazetteer):
    frame = paragraphs("Putin flew to Moscow.", "Merkel flew to Berlin.").with_columns(
        pl.lit("same").alias(PARAGRAPH_HASH)
    )
    tags = tag_paragraphs(frame, gazetteer=gazetteer)
    assert set(tags.filter(pl.col(TAG_TYPE) == "place")[TAG_VALUE]) == {"Moscow"}


def test_tagging_in_slices_gives_the_rows_of_one_pass(gazetteer, monkeypatch):
    """Big batches are tagged in slices of paragraphs, two at a time: the same rows, in the
    same order, whatever the slice size; a repeated hash is tagged once, from its first text."""
    samples = Path(__file__).resolve().parents[2] / "samples" / "articles"
    texts = [
        " ".join(block.split())
        for path in sorted(samples.rglob("*.txt"))
        for block in path.read_text(encoding="utf-8", errors="replace").split("\n\n")
        if block.strip()
    ]
    assert len(texts) >= 20
    frame = paragraphs(*texts, "Putin flew to Moscow.").vstack(
        paragraphs("Merkel flew to Berlin.").with_columns(
            pl.lit(hashlib.sha256(b"Putin flew to Moscow.").hexdigest()).alias(PARAGRAPH_HASH)
        )
    )
    whole = tag_paragraphs(frame, gazetteer=gazetteer)
    quality = tag_with(frame, {"quality", "topics"}, gazetteer=gazetteer)
    assert whole.height > 100
    for size in (1, 3, 7):
        monkeypatch.setattr(registry, "TAG_SLICE", size)
        assert_frame_equal(tag_paragraphs(frame, gazetteer=gazetteer), whole)
        assert_frame_equal(tag_with(frame, {"quality", "topics"}, gazetteer=gazetteer), quality)
    assert "Berlin" not in whole[TAG_VALUE].to_list()


def test_vocabulary_covers_emitted_values(gazetteer):
    vocab = vocabulary(gazetteer)
    assert vocab["person"] is None and vocab["organisation"] is None
    assert {"RU", "CN", "Beijing", "Washington"} <= vocab["place"]
    assert {"politics", "politics/diplomacy", "economy-business-finance/trade"} <= vocab["topic"]
    assert len([t for t in vocab["topic"] if "/" not in t]) == 17
    assert "und" in vocab["language"] and "en" in vocab["language"]
    assert vocab["quality"] == {
        "too_short",
        "mostly_non_letters",
        "all_caps",
        "numeric_table",
        "likely_boilerplate",
        "markup",
    }


def test_tables_and_results_lines_are_numeric_tables_and_prose_with_figures_is_not():
    lines = {
        "Revs 29.5 mln vs 19.8 mln": True,
        "Revenue 1,337,000 vs 1,152,000": True,
        "Index 1,904.23 up 12.40": True,
        "Shr one dlr vs 73 cts": False,  # too few digits to be sure
        "Sales rose 12% to 3.4bn in 2004, the company said on Tuesday.": False,
        "The minister met 12 ambassadors in Geneva on Monday.": False,
    }
    frame = paragraphs(*lines)
    numeric = tag_quality(frame).filter(pl.col(TAG_VALUE) == "numeric_table")
    tagged = set(frame.join(numeric, on=PARAGRAPH_HASH)[TEXT])
    assert tagged == {text for text, is_table in lines.items() if is_table}


def test_sign_offs_and_credit_lines_are_likely_boilerplate():
    lines = {
        "Reuter": True,
        "REUTER": True,
        "(Reporting by Ann Example in Lagos; Editing by Bo Sample)": True,
        "(Additional reporting by Cy Test) (Writing by Di Test)": True,
        "Copyright 2026 The Example Post. All rights reserved.": True,
        "© Example News Agency": False,  # no year, no "all rights reserved": not sure
        "© 2026 Example News Agency": True,
        "All rights reserved.": True,
        "Click here to get our newsletter.": True,
        "Reuters reported the deal on Monday.": False,
        "He was reporting by phone from the port (Reporting by nobody).": False,
    }
    frame = paragraphs(*lines)
    flagged = tag_quality(frame).filter(pl.col(TAG_VALUE) == "likely_boilerplate")
    assert set(flagged[TAG_DETAIL]) == {"sign_off"}
    tagged = set(frame.join(flagged, on=PARAGRAPH_HASH)[TEXT])
    assert tagged == {text for text, is_sign_off in lines.items() if is_sign_off}


def test_paragraphs_holding_html_elements_are_tagged_markup_with_the_first_element():
    lines = {
        "Prices <b>rose</b> on Monday, the minister said.": "b",
        'Read the <a href="/report">full report</a> here.': "a",
        "First line<br>second line of the same paragraph.": "br",
        "The <b> tag makes text bold, the manual says.": None,  # prose about HTML
        "Bank of America <BAC.N> and Agilent <A> rose.": None,  # tickers
    }
    frame = paragraphs(*lines)
    flagged = tag_quality(frame).filter(pl.col(TAG_VALUE) == "markup")
    found = dict(frame.join(flagged, on=PARAGRAPH_HASH).select(TEXT, TAG_DETAIL).iter_rows())
    assert found == {text: element for text, element in lines.items() if element}
    assert set(flagged["tagger_version"]) == {"quality_v3"}


def test_empty_input(gazetteer):
    frame = tag_paragraphs(paragraphs(), gazetteer=gazetteer)
    assert frame.schema == TAGS and frame.height == 0


# --- corpora ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_tags(gazetteer):
    if not SEED.exists():
        pytest.skip(f"seed article {SEED} not found: set NUTGRAF_CORPORA")
    lines = [" ".join(line.split()) for line in SEED.read_text(encoding="utf-8").splitlines()]
    frame = detect_language(paragraphs(*[line for line in lines if line]).drop(LANGUAGE))
    return tag_paragraphs(frame, gazetteer=gazetteer)


def test_seed_people(seed_tags):
    people = seed_tags.filter(pl.col(TAG_TYPE) == "person")
    assert {"Xi Jinping", "Donald Trump", "Vladimir Putin", "Mikhail Mishustin"} <= set(
        people[TAG_VALUE]
    )
    bare_xi = people.filter(pl.col(SURFACE) == "Xi")
    assert bare_xi.height > 0 and set(bare_xi[TAG_VALUE]) == {"Xi Jinping"}
    assert values("Putin said so.", "person") == ["Vladimir Putin"]


def test_seed_places(seed_tags):
    places = seed_tags.filter(pl.col(TAG_TYPE) == "place")
    assert {"CN", "RU", "US", "UA"} <= set(places[TAG_VALUE])
    cities = dict(places.filter(pl.col(TAG_DETAIL) == "city").select(TAG_VALUE, COUNTRY).rows())
    assert cities == {"Beijing": "CN", "Moscow": "RU", "Washington": "US"}


def test_seed_organisations_topics_language(seed_tags):
    def of(tag_type: str) -> set[str]:
        return set(seed_tags.filter(pl.col(TAG_TYPE) == tag_type)[TAG_VALUE])

    assert {"Kremlin", "Ministry of Foreign Affairs"} <= of("organisation")
    assert {
        "politics/diplomacy",
        "economy-business-finance/trade",
        "conflict-war-peace",
    } <= of("topic")
    assert of("language") == {"en"}


def test_multilingual_corpus_languages():
    if not MULTILINGUAL.exists():
        pytest.skip(f"multilingual corpus {MULTILINGUAL} not found: set NUTGRAF_CORPORA")
    texts = {}
    for folder, expected in (("fr_dz_gilets_jaunes", "fr"), ("zh_gilets_jaunes", "zh")):
        body = (MULTILINGUAL / folder / "0001.txt").read_text(encoding="utf-8").split("\n\n", 1)[1]
        longest = max((" ".join(line.split()) for line in body.splitlines()), key=len)
        texts[longest] = expected
    frame = detect_language(paragraphs(*texts, language=None).drop(LANGUAGE))
    assert frame[LANGUAGE].to_list() == list(texts.values())


def test_user_file_mistakes_are_reported_not_ignored(tmp_path):
    import pytest

    from transforms.errors import TagsFileError
    from transforms.gazetteer import load_gazetteer

    cases = {
        "typo.toml": ('[[topics]]\nkeyword = "x"\ntopic = "sport"\n', "unknown section"),
        "missing.toml": ('[[person]]\naliases = ["X"]\n', "lacks ['name']"),
        "syntax.toml": ("[[person]\nname = 1\n", "tags file"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(TagsFileError, match=message.replace("[", r"\[")):
            load_gazetteer(path)


# --- wire copy: datelines, state abbreviations, tickers, titles ------------------------------


def test_a_dateline_tags_its_city_and_country():
    text = "LONGVIEW, Calif., March 3 - Ridge Valves Inc said profits rose."
    frame = tags_of(text, "place")
    dateline = frame.filter(pl.col(TAG_DETAIL) == "dateline")
    assert dateline.select(TAG_VALUE, COUNTRY, SURFACE).rows() == [
        ("Longview", "US", "LONGVIEW"),
        ("US", "US", "Calif."),  # the state decided the country
    ]
    for start, end, surface in frame.select(SPAN_START, SPAN_END, SURFACE).iter_rows():
        assert text[start:end] == surface
    known = tags_of("TOKYO, March 2 - Exports rose.", "place")
    assert set(known.filter(pl.col(TAG_DETAIL) == "dateline")[TAG_VALUE, COUNTRY].rows()) == {
        ("Tokyo", "JP"),
        ("JP", "JP"),
    }
    assert tags_of("The U.S. - Japan talks resumed.", "place")[TAG_DETAIL].to_list() == [
        "country",
        "country",
    ]


def test_state_abbreviations_and_country_short_forms():
    portland = tags_of("Pine Mills of Portland, Ore., said so.", "place")
    assert portland[TAG_VALUE, COUNTRY].rows() == [("Portland", "US"), ("Oregon", "US")]
    # "Miss." alone is a title, not Mississippi; after "Jackson, " it is the state.
    assert tags_of("Miss. Smith said the plant would close.", "place").height == 0
    assert values("Miss. Smith moved to Jackson, Miss. in May.", "place") == ["Mississippi"]
    assert tags_of("Talks between the U.K. and the United States", "place")[COUNTRY].to_list() == [
        "GB",
        "US",
    ]


def test_tickers_and_the_names_before_them():
    text = "BankAmerica Corp <BAC> and shares of <APD> rose; STANDARD OIL <SRD> and <RTRS.L> fell."
    frame = tags_of(text, "organisation")
    assert frame.select(TAG_VALUE, TAG_DETAIL, SURFACE).rows() == [
        ("BankAmerica Corp", "ticker_name", "BankAmerica Corp"),
        ("BAC", "ticker", "<BAC>"),
        ("APD", "ticker", "<APD>"),  # "of" ends the name: no company before it
        ("Standard Oil", "ticker_name", "STANDARD OIL"),
        ("SRD", "ticker", "<SRD>"),
        ("RTRS.L", "ticker", "<RTRS.L>"),
    ]
    for start, end, surface in frame.select(SPAN_START, SPAN_END, SURFACE).iter_rows():
        assert text[start:end] == surface
    assert tags_of("Markup <p> and <br/> and <P> is no ticker.", "organisation").height == 0


def test_wire_details_are_free_form():
    from transforms.schema import FREE_FORM_DETAILS

    assert {"dateline", "ticker", "ticker_name"} <= set(FREE_FORM_DETAILS)


def test_titles_are_tagged_like_body_text(gazetteer):
    from transforms.schema import ARTICLE_ID, TITLE, TITLE_TAGS
    from transforms.tagging import tag_titles

    titles = pl.DataFrame(
        {
            ARTICLE_ID: ["a1", "a2", "a3", "a4"],
            TITLE: [
                "PINE VALLEY MILLS <PVM> TO SELL U.S. UNIT",
                "U.S. SELLS 1-YEAR BILLS AT 5.77 PCT",
                "Putin meets Xi in Moscow",
                None,
            ],
        }
    )
    frame = tag_titles(titles, gazetteer=gazetteer)
    assert frame.schema == TITLE_TAGS
    entities = frame.filter(pl.col(TAG_TYPE) != "topic")
    by_title = {
        key: rows.select(TAG_TYPE, TAG_VALUE, TAG_DETAIL, COUNTRY, SURFACE).rows()
        for (key,), rows in entities.group_by(ARTICLE_ID, maintain_order=True)
    }
    assert by_title["a1"] == [
        ("organisation", "Pine Valley Mills", "ticker_name", None, "PINE VALLEY MILLS"),
        ("organisation", "PVM", "ticker", None, "<PVM>"),
        ("place", "US", "country", "US", "U.S."),
    ]
    # Capitalised headline words are not read as names: the country is all there is.
    assert by_title["a2"] == [("place", "US", "country", "US", "U.S.")]
    assert [value for _, value, *_ in by_title["a3"]] == ["Vladimir Putin", "Xi Jinping", "Moscow"]
    assert "a4" not in by_title
    assert frame.filter(pl.col(TAG_TYPE) == "topic").height > 0
    assert set(frame[TAGGER]) == {"entities", "topics"}


def test_one_tag_per_type_value_and_start_as_the_gate_holds_them(gazetteer):
    # The dateline reads the city "WASHINGTON"; the gazetteer knows "WASHINGTON, D.C.".
    text = "WASHINGTON, D.C., March 18 - A trade group said it would meet next week."
    frame = tag_paragraphs(paragraphs(text), gazetteer=gazetteer)
    keys = frame.select(TAG_TYPE, TAG_VALUE, SPAN_START)
    assert keys.height == keys.unique().height
    assert ("place", "Washington", 0) in set(keys.iter_rows())
