import polars as pl
from polars.testing import assert_frame_equal

from transforms import schema as S
from transforms.split import find_titles, split_paragraphs


def _split(*texts: str) -> pl.DataFrame:
    articles = pl.DataFrame(
        {S.ARTICLE_ID: [f"a{i}" for i in range(len(texts))], S.TEXT: list(texts)}
    )
    return split_paragraphs(articles)


def _check_offsets(texts: tuple[str, ...], out: pl.DataFrame) -> None:
    by_id = {f"a{i}": t for i, t in enumerate(texts)}
    starts, ends, raws = out[S.CHAR_START], out[S.CHAR_END], out[S.RAW_TEXT]
    for aid, start, end, raw in zip(out[S.ARTICLE_ID], starts, ends, raws, strict=True):
        assert by_id[aid][start:end] == raw


def test_blank_lines_separate_paragraphs_and_title_is_not_one():
    text = "A headline\n\nFirst para\nstill first.\n\n  Second para.  \n"
    out = _split(text)
    assert out[S.RAW_TEXT].to_list() == ["First para\nstill first.", "Second para."]
    assert out[S.POSITION].to_list() == [0, 1]
    _check_offsets((text,), out)


def test_single_newlines_separate_paragraphs_when_there_are_no_blank_lines():
    text = "One.\nTwo.\nThree."
    out = _split(text)
    assert out[S.RAW_TEXT].to_list() == ["One.", "Two.", "Three."]
    assert out[S.CHAR_START].to_list() == [0, 5, 10]


def test_title_then_single_newline_body():
    text = "Title\n\nLine one.\nLine two.\n"
    assert _split(text)[S.RAW_TEXT].to_list() == ["Line one.", "Line two."]


def test_hard_wrapped_wire_copy_is_rejoined():
    text = "   First starts\nand wraps.\n   Second starts\nand wraps too.\n"
    out = _split(text)
    assert out[S.RAW_TEXT].to_list() == [
        "First starts\nand wraps.",
        "Second starts\nand wraps too.",
    ]
    _check_offsets((text,), out)


def test_zero_width_and_nbsp_only_lines_are_blank():
    text = "Alpha\n\u200b\u00a0\nBeta\n\u2060\nGamma\n"
    out = _split(text)
    # A blank line after the first line: that line is the title, as with "Alpha\n\nBeta".
    assert out[S.RAW_TEXT].to_list() == ["Beta", "Gamma"]
    assert find_titles(pl.DataFrame({S.TEXT: [text]}))[S.TITLE].to_list() == ["Alpha"]


def test_offsets_count_characters_not_bytes():
    texts = ("Zürich — café.\nBeijing résumé.\n\nDéjà.", "日本語の段落。\n次の段落。")
    out = _split(*texts)
    _check_offsets(texts, out)
    assert out[S.CHAR_START].to_list() == [0, 32, 0, 8]


def test_empty_and_whitespace_only_texts_yield_no_paragraphs():
    assert _split("", "  \n\n \t").is_empty()


def test_single_line_is_a_paragraph_not_a_title():
    titled = find_titles(pl.DataFrame({S.ARTICLE_ID: ["a"], S.TEXT: ["Only line\n\n"]}))
    assert titled[S.TITLE].to_list() == [None]
    assert _split("Only line\n\n")[S.RAW_TEXT].to_list() == ["Only line"]


def test_title_is_found():
    titled = find_titles(pl.DataFrame({S.ARTICLE_ID: ["a"], S.TEXT: ["\n Headline \n\nBody"]}))
    assert_frame_equal(
        titled.select(S.TITLE, "body_start"),
        pl.DataFrame({S.TITLE: ["Headline"], "body_start": [13]}),
        check_dtypes=False,
    )


def test_a_sign_off_ending_the_last_paragraph_becomes_a_paragraph_of_its_own():
    texts = {
        "wire": "HEADLINE\n\nFirst paragraph.\n\nThe last one ends here. Reuter",
        "credit": "T\n\nOne.\n\nTwo said so. (Reporting by Ann Example; Editing by Bo Sample)",
        "middle": "T\n\nIt said Reuter. Then more.\n\nThe end.",
        "alone": "T\n\nBody text here.\n\nREUTER",
    }
    articles = pl.DataFrame({S.ARTICLE_ID: list(texts), S.TEXT: list(texts.values())})

    split = split_paragraphs(articles)

    by_article = {
        key: split.filter(pl.col(S.ARTICLE_ID) == key)[S.RAW_TEXT].to_list() for key in texts
    }
    assert by_article == {
        "wire": ["First paragraph.", "The last one ends here.", "Reuter"],
        "credit": ["One.", "Two said so.", "(Reporting by Ann Example; Editing by Bo Sample)"],
        "middle": ["It said Reuter. Then more.", "The end."],
        "alone": ["Body text here.", "REUTER"],
    }
    for row in split.iter_rows(named=True):  # offsets still slice the text
        assert texts[row[S.ARTICLE_ID]][row[S.CHAR_START] : row[S.CHAR_END]] == row[S.RAW_TEXT]
    assert (
        split.group_by(S.ARTICLE_ID)
        .agg((pl.col(S.POSITION) == pl.int_range(pl.len())).all())[S.POSITION]
        .all()
    )
