import polars as pl
from polars.testing import assert_frame_equal

from transforms import schema as S
from transforms.dedupe import collect_new_paragraphs, mark_occurrences


def _normalised(rows: list[tuple[str, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            S.ARTICLE_ID: [r[0] for r in rows],
            S.POSITION: [r[1] for r in rows],
            S.CHAR_START: [r[1] * 10 for r in rows],
            S.CHAR_END: [r[1] * 10 + 5 for r in rows],
            S.TEXT: [r[2] for r in rows],
            S.PARAGRAPH_HASH: [f"h-{r[2]}" for r in rows],
        },
        schema=S.NORMALISED,
    )


ARTICLES = pl.DataFrame(
    {
        S.ARTICLE_ID: ["b", "a"],
        S.PATH: ["2.txt", "1.txt"],
        S.PUBLISHED_AT: [None, None],
        S.RECORD: [None, None],
    },
    schema_overrides={S.PUBLISHED_AT: pl.Datetime("us", "UTC"), S.RECORD: pl.Int32},
)


def test_kinds_first_repeat_and_corpus():
    normalised = _normalised(
        [("a", 0, "x"), ("a", 1, "y"), ("a", 2, "x"), ("b", 0, "y"), ("b", 1, "z"), ("b", 2, "y")]
    )
    out = mark_occurrences(normalised, articles=ARTICLES, known_hashes=pl.Series(["h-z"]))
    assert out.select(S.ARTICLE_ID, S.POSITION, S.KIND, S.REPEAT_OF).rows() == [
        ("a", 0, "first", None),
        ("a", 1, "first", None),
        ("a", 2, "repeat", 0),
        ("b", 0, "corpus", None),
        ("b", 1, "corpus", None),
        ("b", 2, "repeat", 0),
    ]
    assert out.schema == S.OCCURRENCES


def test_first_sight_follows_path_order_not_input_order():
    normalised = _normalised([("b", 0, "x"), ("a", 0, "x")])
    out = mark_occurrences(
        normalised, articles=ARTICLES, known_hashes=pl.Series([], dtype=pl.String)
    )
    assert dict(out.select(S.ARTICLE_ID, S.KIND).rows()) == {"a": "first", "b": "corpus"}


def test_new_paragraphs_once_each():
    normalised = _normalised([("a", 0, "x"), ("a", 1, "x y"), ("a", 2, "x"), ("b", 0, "x y")])
    occ = mark_occurrences(normalised, articles=ARTICLES, known_hashes=pl.Series(["h-x"]))
    new = collect_new_paragraphs(normalised, occ)
    assert_frame_equal(
        new.select(S.PARAGRAPH_HASH, S.N_CHARS, S.N_WORDS, S.ARTICLE_ID),
        pl.DataFrame(
            {S.PARAGRAPH_HASH: ["h-x y"], S.N_CHARS: [3], S.N_WORDS: [2], S.ARTICLE_ID: ["a"]}
        ),
        check_dtypes=False,
    )
