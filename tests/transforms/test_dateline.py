"""Tests for transforms.dateline: wire-style first paragraphs written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from transforms.dateline import dateline_published, find_datelines, has_certain_year
from transforms.gazetteer import load_gazetteer
from transforms.schema import (
    ARTICLE_ID,
    DATELINE,
    DATELINE_AGENCY,
    DATELINE_CITY,
    DATELINE_COUNTRY,
    DATELINE_DATE,
    DATELINE_PUBLISHED,
    DATELINE_REGION,
    DATELINES,
    RAW_TEXT,
)


@pytest.fixture(scope="module")
def gazetteer():
    return load_gazetteer()


def datelines(*texts: str, gazetteer) -> dict[str, dict]:
    """find_datelines of first paragraphs numbered "a0", "a1", ... -> rows by article id."""
    frame = pl.DataFrame(
        {ARTICLE_ID: [f"a{i}" for i in range(len(texts))], RAW_TEXT: list(texts)},
        schema={ARTICLE_ID: pl.String, RAW_TEXT: pl.String},
    )
    found = find_datelines(frame, gazetteer=gazetteer)
    assert found.schema == DATELINES
    return {row[ARTICLE_ID]: row for row in found.iter_rows(named=True)}


def test_city_state_and_date(gazetteer):
    found = datelines(
        "GUILDERLAND, N.Y., March 16 - Hollow Pine Corp said it\nagreed to sell its mill.",
        "LONGVIEW, Calif., March 3 - Ridge Valves Inc said profits rose.",
        "KANSAS CITY, MO., Feb 2 - Prairie Feed Co said it cut prices.",
        "DAYTON, Ohio, March 19 -",
        "COLUMBIA, Md. March 3 - Harbor Data said so.",
        gazetteer=gazetteer,
    )
    first = found["a0"]
    assert (first[DATELINE], first[DATELINE_CITY], first[DATELINE_REGION]) == (
        "GUILDERLAND, N.Y., March 16",
        "Guilderland",
        "N.Y.",
    )
    assert (first[DATELINE_COUNTRY], first[DATELINE_DATE], first[DATELINE_AGENCY]) == (
        "US",
        "March 16",
        None,
    )
    assert first[DATELINE_PUBLISHED] is None  # no year: the day is not certain
    assert {row[DATELINE_COUNTRY] for row in found.values()} == {"US"}
    assert found["a2"][DATELINE_CITY] == "Kansas City" and found["a2"][DATELINE_REGION] == "MO."
    assert found["a4"][DATELINE_REGION] == "Md."


def test_a_state_or_country_decides_the_country(gazetteer):
    found = datelines(
        "PARIS, Texas, May 4 - Lone Star Mills said it would expand.",
        "TBILISI, Georgia, May 4 - Officials said the harvest was late.",
        "ATLANTA, Georgia, May 4 - Peach Systems said it won a contract.",
        "EINDHOVEN, Netherlands, March 20 - A lamp maker said orders rose.",
        "CALGARY, Alberta - Qtr ends Dec 31",
        gazetteer=gazetteer,
    )
    assert [found[f"a{i}"][DATELINE_COUNTRY] for i in range(5)] == ["US", "GE", "US", "NL", "CA"]


def test_agency_forms_mixed_case_and_dashes(gazetteer):
    found = datelines(
        "London, March 3 (Reuters) - Sterling firmed in quiet trade.",
        "TOKYO (Reuters) - The central bank kept its rate.",
        "SAO PAULO – Coffee growers met on Monday.",
        "KUALA LUMPUR, March 2 — Palm oil prices eased.",
        "NEW YORK, March 16, 1987 -- Stocks closed higher.",
        "  Caracas, feb 26 - the oil ministry said output was steady.",
        gazetteer=gazetteer,
    )
    london, tokyo = found["a0"], found["a1"]
    assert (london[DATELINE], london[DATELINE_AGENCY], london[DATELINE_COUNTRY]) == (
        "London, March 3 (Reuters)",
        "Reuters",
        "GB",
    )
    assert (tokyo[DATELINE], tokyo[DATELINE_DATE], tokyo[DATELINE_COUNTRY]) == (
        "TOKYO (Reuters)",
        None,
        "JP",
    )
    assert (found["a2"][DATELINE_CITY], found["a2"][DATELINE_COUNTRY]) == ("Sao Paulo", "BR")
    assert found["a3"][DATELINE_CITY] == "Kuala Lumpur"
    assert found["a4"][DATELINE_PUBLISHED] == datetime(1987, 3, 16, tzinfo=UTC)
    assert (found["a5"][DATELINE_DATE], found["a5"][DATELINE_COUNTRY]) == ("feb 26", "VE")


def test_ordinary_first_sentences_are_no_datelines(gazetteer):
    found = datelines(
        "Shares rose - and fell - in heavy trade.",
        "The U.S. - Japan talks resumed on Monday.",
        "LONDON-based banks said lending slowed.",
        "Tuesday, March 3 - the day the board met.",
        "Paris - the city of light - drew more visitors.",
        "Reading - a habit of many - declined.",
        "Acme Corp (ACME) - a maker of tools - said profit rose.",
        "Mr Smith, the chairman, said 12 plants would close.",
        gazetteer=gazetteer,
    )
    assert found == {}


def test_has_certain_year_and_published_day():
    frame = pl.DataFrame({"date": ["March 16, 1987", "March 16", "16 March 1987", "Feb 30 1987"]})
    judged = frame.select(
        has_certain_year(pl.col("date")).alias("year"),
        dateline_published(pl.col("date")).alias("day"),
    )
    assert judged["year"].to_list() == [True, False, True, True]
    assert judged["day"].to_list() == [
        datetime(1987, 3, 16, tzinfo=UTC),
        None,
        datetime(1987, 3, 16, tzinfo=UTC),
        None,  # no such day
    ]
    assert judged.schema["day"] == pl.Datetime("us", "UTC")


def test_a_dateline_dates_an_article_only_when_its_year_is_certain_and_nothing_better_is_known():
    from datetime import UTC, datetime

    import polars as pl

    from transforms import schema as S
    from transforms.pipeline import date_from_dateline

    mtime = datetime(2026, 1, 1, tzinfo=UTC)
    day = datetime(1987, 3, 16, tzinfo=UTC)
    articles = pl.DataFrame(
        {
            S.ARTICLE_ID: ["dated", "no-year", "from-path"],
            S.PUBLISHED_AT: [mtime, mtime, datetime(2026, 3, 4, tzinfo=UTC)],
            S.PUBLISHED_ORIGIN: ["mtime", "mtime", "path"],
            S.DATELINE_DATE: ["March 16, 1987", "March 16", "March 16, 1987"],
            S.DATELINE_PUBLISHED: [day, None, day],
        },
        schema_overrides={
            S.PUBLISHED_AT: pl.Datetime("us", "UTC"),
            S.DATELINE_PUBLISHED: pl.Datetime("us", "UTC"),
        },
    )

    dated = date_from_dateline(articles)

    assert S.DATELINE_PUBLISHED not in dated.columns
    assert dated.select(S.PUBLISHED_ORIGIN).to_series().to_list() == ["dateline", "mtime", "path"]
    assert dated[S.PUBLISHED_AT].to_list() == [day, mtime, datetime(2026, 3, 4, tzinfo=UTC)]
    assert dated[S.DATELINE_DATE].to_list() == articles[S.DATELINE_DATE].to_list()
