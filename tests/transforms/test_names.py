"""Names no gazetteer holds: capitalised runs, the spans the model types in them, and how
they join the entity tags."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.gazetteer import load_gazetteer
from transforms.names import capitalised_runs, load_name_rules
from transforms.schema import SPAN_END, SPAN_START, SURFACE, TAG_DETAIL, TAG_TYPE, TAG_VALUE, TEXT
from transforms.tagging import PERSON_TITLES, tag_entities


@pytest.fixture(scope="module")
def rules():
    return load_name_rules(PERSON_TITLES)


def texts(*paragraphs: str) -> pl.DataFrame:
    return pl.DataFrame({"_row": list(range(len(paragraphs))), TEXT: list(paragraphs)})


def runs_of(text: str, rules) -> list[str]:
    return capitalised_runs(texts(text), rules)[SURFACE].to_list()


def tags_of(text: str) -> pl.DataFrame:
    return tag_entities(
        pl.DataFrame({"paragraph_hash": ["p"], TEXT: [text]}), gazetteer=load_gazetteer()
    )


def entities(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    tags = tags_of(text)
    if kind:
        tags = tags.filter(pl.col(TAG_TYPE) == kind)
    return list(zip(tags[TAG_VALUE], tags[TAG_DETAIL], strict=True))


def types_of(text: str) -> dict[str, str]:
    tags = tags_of(text)
    return dict(zip(tags[SURFACE], tags[TAG_TYPE], strict=True))


def test_runs_carry_character_offsets_of_their_text(rules):
    text = "Élodie met Jean-Pierre Raffarin in Zürich, and Tim O'Gorman of Leeds United too."
    frame = capitalised_runs(texts(text), rules)
    for surface, start, end in frame.select(SURFACE, SPAN_START, SPAN_END).iter_rows():
        assert text[start:end] == surface
    assert frame[SURFACE].to_list() == [
        "Élodie", "Jean-Pierre Raffarin", "Zürich", "Tim O'Gorman", "Leeds United",
    ]  # fmt: skip


def test_runs_are_cut_at_openers_calendar_words_possessives_and_a_bare_of(rules):
    assert runs_of("The Bank of England said on Monday March 3 that", rules) == ["Bank of England"]
    assert runs_of("In Paris, However Smith", rules) == ["Paris", "Smith"]
    assert runs_of("London's Leicester Square", rules) == ["London's", "Leicester Square"]
    assert runs_of("an iPhone", rules) == []  # a capital inside a word starts no run
    assert runs_of("Jose de Souza met U.S. envoy P. Simmons", rules) == [
        "Jose de Souza", "U.S.", "P. Simmons",
    ]  # fmt: skip


def test_the_model_types_names_no_list_holds_by_their_words_and_context():
    found = types_of(
        "Phil Simmons of Acme Corp visited the University of Kent near Baker Street, "
        "and the TV crew waited."
    )
    assert found == {
        "Phil Simmons": "person",
        "Acme Corp": "organisation",
        "University of Kent": "organisation",
        "Baker Street": "place",
    }  # TV is a common acronym
    assert types_of("Lebed said the plan failed, said Dole. A. Dale made 84.") == {
        "Lebed": "person", "Dole": "person", "A. Dale": "person",
    }  # fmt: skip


def test_a_run_holds_several_names_and_a_possessive_is_no_part_of_one():
    tags = tags_of("U.S. President Bill Clinton met Carl Icahn's lawyers.")
    assert tags.select(SURFACE, TAG_TYPE).rows() == [
        ("U.S.", "place"), ("Bill Clinton", "person"), ("Carl Icahn", "person"),
    ]  # fmt: skip


def test_an_all_capitals_headline_names_nothing_by_its_capitals():
    assert types_of("CRICKET - LEICESTERSHIRE TAKE OVER AT TOP") == {}


def test_entity_tags_combine_gazetteer_titles_and_the_model():
    text = "Leeds United manager Phil Simmons met Mr Simmons in Leeds and Texas."
    assert entities(text, "organisation") == [("Leeds United", "span_model")]
    people = entities(text, "person")
    # the lone surname after a title resolves to the full name in the same paragraph
    assert people == [("Phil Simmons", "span_model"), ("Phil Simmons", "heuristic")]
    # where the model agrees with the gazetteer, the gazetteer's canonical value stays
    assert entities(text, "place") == [("Leeds", "city"), ("Texas", "region")]


def test_capitals_datelines_and_results_lines():
    assert entities("LONDON 1996-08-30", "place") == [("London", "city")]
    # in a results line a city is the club (the model reads the line); a country stays
    # the national side, as the gazetteer has it
    assert entities("Milan 2 Germany 1") == [("Milan", "span_model"), ("DE", "country")]


def test_regions_and_former_countries_are_places():
    values = [value for value, _ in entities("Fighting in Chechnya and the Middle East.", "place")]
    assert values == ["Chechnya", "Middle East"]
