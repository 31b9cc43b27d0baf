"""What the transform measures on each article for the gate's article checks."""

from __future__ import annotations

import polars as pl
import pytest

from transforms import schema as S
from transforms.pipeline import measure_articles


def _measure(*texts: str) -> pl.DataFrame:
    return measure_articles(pl.DataFrame({S.TEXT: list(texts)}))


def test_letter_share_counts_combining_marks_as_letters():
    # Khmer writes vowels as combining marks: "the government announced new measures"
    khmer = "រដ្ឋាភិបាល​បាន​ប្រកាស​វិធានការ​ថ្មី​ៗ"
    devanagari = "सरकार ने नए उपायों की घोषणा की"
    shares = _measure(khmer, devanagari)[S.LETTER_SHARE].to_list()
    assert all(share > 0.7 for share in shares), shares


def test_dates_tables_and_empty_text_are_mostly_non_letters():
    shares = _measure("11/03/2019\n\n", "2024 | 13.5 | 14.2\n" * 5, "", "Mr Smith went to Leeds.")
    assert shares[S.LETTER_SHARE].to_list()[:3] == [0.0, 0.0, 0.0]
    assert shares[S.LETTER_SHARE][3] == pytest.approx(18 / 23)


def test_mojibake_marks_and_title_layout():
    frame = _measure("CafÃ© â€™ \ufffd", "Café, naïve, £5", "Title\n\nBody.", "One line only.")
    assert frame[S.MOJIBAKE_MARKS].to_list() == [3, 0, 0, 0]
    assert frame[S.TITLE_EXPECTED].to_list() == [False, False, True, False]
    assert frame[S.N_CHARS].to_list()[2] == 12


def test_an_article_with_no_judgeable_paragraph_is_judged_on_its_whole_text():
    from transforms.normalise import normalise_paragraphs
    from transforms.pipeline import assign_languages
    from transforms.split import split_paragraphs

    articles = pl.DataFrame(
        {
            S.ARTICLE_ID: ["fr", "en"],
            S.TEXT: [
                "L'ultralibéralisme se sustente de l'intoxication politique et économique\n\n"
                "On assiste",
                "Ministers met in London\n\nThe talks went on late into the night, officials said.",
            ],
        }
    )
    paragraphs = normalise_paragraphs(split_paragraphs(articles))
    known = pl.DataFrame(schema={S.PARAGRAPH_HASH: pl.String, S.LANGUAGE: pl.String})

    without, _ = assign_languages(paragraphs, known)
    with_text, inherited = assign_languages(paragraphs, known, articles)

    assert dict(without.iter_rows()) == {"en": "en"}  # "On assiste" is too short to judge
    assert dict(with_text.iter_rows()) == {"en": "en", "fr": "fr"}
    # ... and the short paragraph inherits its article's language
    assert set(inherited[S.LANGUAGE]) == {"en", "fr"}
