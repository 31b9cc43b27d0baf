"""HTML elements and active content inside article text (transforms.markup), on literal texts."""

from __future__ import annotations

import polars as pl
import pytest

from transforms import schema as s
from transforms.markup import count_active_content, first_element, has_markup

TEXT = pl.col("text")


def _apply(expr: pl.Expr, *texts: str | None) -> list:
    return (
        pl.DataFrame({"text": list(texts)}, schema={"text": pl.String})
        .select(expr)["text"]
        .to_list()
    )


MARKUP = {
    "Prices <b>rose</b> on Monday.": "b",
    'Read the <a href="/report">full report</a>.': "a",
    "<IMG SRC=x>": "img",
    "Line one<br/>line two": "br",
    "Line one<br>line two": "br",
    "<p>The minister said": "p",
    "a stray closing tag</div >": "div",
    '<abbr title="World Health Organization">WHO</abbr>': "abbr",
    '<script>document.title="x"</script>': "script",
}

PROSE = [
    "the <b> tag makes text bold",
    "x < y > z for every pair",
    "I <3 New York, a <3 b",
    "Write to <jane@example.com> or <a.smith@example.org>.",
    "Bank of America <BAC>, Reuters <RTRS.L>, Agilent <A>, Sprint <S> and <T.N>",
    "<GREX.L> <BAC>",
    "the <script> tag is where a page keeps its code",
    "JavaScript: The Good Parts is a book; onerror= is an attribute.",
    "A < B and B > C, so the set <x> is empty",
]


@pytest.mark.parametrize(("text", "element"), MARKUP.items())
def test_html_elements_are_markup_and_named(text, element):
    assert _apply(has_markup(TEXT), text) == [True]
    assert _apply(first_element(TEXT), text) == [element]


@pytest.mark.parametrize("text", PROSE)
def test_prose_about_tags_tickers_and_addresses_are_no_markup(text):
    assert _apply(has_markup(TEXT), text) == [False]
    assert _apply(first_element(TEXT), text) == [None]
    assert _apply(count_active_content(TEXT), text) == [0]


def test_no_ticker_is_markup():
    tickers = ["<A>", "<B>", "<I>", "<S>", "<U>", "<Q>", "<P>", "<EM>", "<DIV>", "<BR>", "<TT.L>"]
    assert all(pl.Series(tickers).str.contains(f"^{s.TICKER}$"))
    assert _apply(has_markup(TEXT), *(f"Shares of X {t} rose." for t in tickers)) == [False] * len(
        tickers
    )


@pytest.mark.parametrize(
    "text",
    [
        '<script>document.title="x"</script>',
        "<SCRIPT>alert(1)",
        '<script src="https://evil.example/x.js"></script>',
        "<style>body{display:none}</style>",
        '<iframe src="https://evil.example"></iframe>',
        '<img src=x onerror="alert(1)">',
        "<div onclick=go()>click</div>",
        "<x onmouseover=alert(1)>",  # any tag, known element or not
        '<a href="javascript:alert(1)">win</a>',
        "[a prize](javascript:alert(1))",
        "<javascript:alert(1)>",
    ],
)
def test_active_content_is_counted(text):
    assert _apply(count_active_content(TEXT), text)[0] >= 1


def test_inline_markup_is_not_active_and_null_is_nothing():
    inline = ("Prices <b>rose</b>.", '<a href="/x">x</a>', None)
    assert _apply(count_active_content(TEXT), *inline) == [0, 0, 0]
    assert _apply(has_markup(TEXT), None) == [False]
    (both,) = _apply(count_active_content(TEXT), "<script>a()</script> <img src=x onload=b()>")
    assert both >= 2


def test_articles_are_measured_for_active_content_on_their_whole_text():
    from transforms.pipeline import measure_articles

    texts = ["Title\n\nA quiet story.\n\nIt <b>ends</b> well.", "Title\n\nA <script>x()</script>"]
    measured = measure_articles(pl.DataFrame({s.TEXT: texts}))
    assert measured[s.ACTIVE_MARKS].to_list()[0] == 0
    assert measured[s.ACTIVE_MARKS].to_list()[1] > 0
