"""Names no gazetteer holds: capitalised runs, their classes, and how they join the entity tags."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.gazetteer import load_gazetteer
from transforms.names import capitalised_runs, classify_runs, load_name_rules, results_teams
from transforms.schema import SPAN_END, SPAN_START, SURFACE, TAG_DETAIL, TAG_TYPE, TAG_VALUE, TEXT
from transforms.tagging import PERSON_TITLES, tag_entities


@pytest.fixture(scope="module")
def rules():
    return load_name_rules(PERSON_TITLES)


def texts(*paragraphs: str) -> pl.DataFrame:
    return pl.DataFrame({"_row": list(range(len(paragraphs))), TEXT: list(paragraphs)})


def runs_of(text: str, rules) -> list[str]:
    return capitalised_runs(texts(text), rules)[SURFACE].to_list()


def classes_of(text: str, rules) -> dict[str, str]:
    frame = texts(text)
    places = load_gazetteer().entities.filter(pl.col(TAG_TYPE) == "place")[SURFACE].to_list()
    found = classify_runs(capitalised_runs(frame, rules), frame, rules, places)
    return dict(zip(found[SURFACE], found[TAG_TYPE], strict=True))


def entities(text: str, kind: str | None = None) -> list[tuple[str, str]]:
    tags = tag_entities(
        pl.DataFrame({"paragraph_hash": ["p"], TEXT: [text]}), gazetteer=load_gazetteer()
    )
    if kind:
        tags = tags.filter(pl.col(TAG_TYPE) == kind)
    return list(zip(tags[TAG_VALUE], tags[TAG_DETAIL], strict=True))


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


def test_runs_are_classified_by_their_words(rules):
    found = classes_of(
        "Phil Simmons of Acme Corp visited the University of Kent near Grace Road, "
        "and NATO, the TV crew and chapter XIV waited while the Davis Cup went on.",
        rules,
    )
    assert found == {
        "Phil Simmons": "person",
        "Acme Corp": "organisation",
        "University of Kent": "organisation",
        "Grace Road": "place",
        "NATO": "organisation",
    }  # TV is a common acronym, XIV a numeral, the Davis Cup an event


def test_speakers_and_initials_are_people(rules):
    found = classes_of("Lebed said the plan failed, said Dole. A. Dale made 84.", rules)
    assert found == {"Lebed": "person", "Dole": "person", "A. Dale": "person"}


def test_a_run_beginning_or_ending_with_a_place_is_no_person(rules):
    assert classes_of("Paris St Germain beat Hong Kong Open winners.", rules) == {}


def test_acronyms_in_an_all_capitals_headline_are_not_organisations(rules):
    assert classes_of("CRICKET - LEICESTERSHIRE TAKE OVER AT TOP", rules) == {}


def test_results_lines_name_teams_but_datelines_do_not(rules):
    frame = texts("Lotte 6 Hyundai 2", "LONDON 1996-08-30", "Story 9", "Leeds beat Hull 2-1")
    teams = results_teams(capitalised_runs(frame, rules), frame)
    assert teams[SURFACE].to_list() == ["Lotte", "Hyundai"]


def test_entity_tags_combine_gazetteer_titles_and_runs():
    text = "Leeds United manager Phil Simmons met Mr Simmons in Leeds and Texas."
    assert entities(text, "organisation") == [("Leeds United", "capitalised")]
    people = entities(text, "person")
    # the lone surname after a title resolves to the full name in the same paragraph
    assert people == [("Phil Simmons", "capitalised"), ("Phil Simmons", "heuristic")]
    assert [value for value, _ in entities(text, "place")] == ["Leeds", "Texas"]


def test_capitals_datelines_and_results_lines():
    assert entities("LONDON 1996-08-30", "place") == [("London", "city")]
    # in a results line a city is the club; a country stays the national side
    assert entities("Milan 2 Germany 1") == [("Milan", "results_line"), ("DE", "country")]


def test_regions_and_former_countries_are_places():
    values = [value for value, _ in entities("Fighting in Chechnya and the Middle East.", "place")]
    assert values == ["Chechnya", "Middle East"]
