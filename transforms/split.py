"""Split article text into paragraphs, keeping character offsets.

Layouts, decided per article:
- a first line followed by a blank line is the title, not a paragraph;
- if the body has blank lines, blank lines separate paragraphs (lines in between are joined);
- otherwise every non-blank line is a paragraph (the seed article, one-line-per-paragraph feeds);
- hard-wrapped wire copy, where paragraphs start with an indented line and continue on
  unindented lines, is re-joined into one paragraph per indented line;
- a sign-off or credit line ending the last paragraph becomes a paragraph of its own
  (transforms.boilerplate).

The text is cut into tokens that cover it completely — runs of "blank" characters and
paragraphs — so offsets are running sums of token lengths, computed as expressions.
"""

from __future__ import annotations

import polars as pl

from transforms import schema as S
from transforms.boilerplate import split_sign_offs

# Whitespace for layout purposes: Unicode whitespace plus zero-width characters, which scraped
# pages leave on otherwise blank lines.
_ZERO_WIDTH = r"\u200b\u200c\u200d\u2060\ufeff"
_BLANK = rf"\s{_ZERO_WIDTH}"
_VISIBLE = rf"[^{_BLANK}]"
_LINE = rf"{_VISIBLE}(?:[^\n]*{_VISIBLE})?"  # a line's text from first to last visible char
_SEP = rf"[{_BLANK}]+"
_INLINE_BLANK = rf"[[^\S\n]{_ZERO_WIDTH}]"  # blank, but not a line end

TOKEN_LINES = rf"{_SEP}|{_LINE}"
TOKEN_BLOCKS = rf"{_SEP}|{_LINE}(?:{_INLINE_BLANK}*\n{_INLINE_BLANK}*{_LINE})*"
# Continuation lines of wrapped copy start at column 0; a paragraph starts with an indent.
TOKEN_WRAPPED = rf"{_SEP}|{_LINE}(?:{_INLINE_BLANK}*\n{_LINE})*"

_TITLE = rf"^[{_BLANK}]*({_LINE}){_INLINE_BLANK}*\n{_INLINE_BLANK}*\n"
_BLANK_LINE = rf"\n{_INLINE_BLANK}*\n"
_INDENTED_LINE = r"(?m)^[ \t]+\S"
_FLUSH_LINE = rf"(?m)^{_VISIBLE}"

BODY_START = "body_start"
LAYOUT = "layout"
_TOKEN = "token"
_TOKEN_START = "token_start"


def find_titles(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_ID, TEXT -> adds TITLE (null when there is none) and BODY_START (char offset).

    A title is the first non-blank line when a blank line follows it and more text follows that,
    unless TITLE_LINE (when the frame has it) is false: a format that gave no title.
    """
    title_match = pl.col(S.TEXT).str.extract(_TITLE, 1)
    whole = pl.col(S.TEXT).str.extract(_TITLE, 0)
    rest_has_text = pl.col(S.TEXT).str.slice(whole.str.len_chars()).str.contains(_VISIBLE)
    has_title = title_match.is_not_null() & rest_has_text
    if S.TITLE_LINE in articles.columns:
        has_title = has_title & pl.col(S.TITLE_LINE).fill_null(True)
    return articles.with_columns(
        pl.when(has_title).then(title_match).otherwise(None).alias(S.TITLE),
        pl.when(has_title)
        .then(whole.str.len_chars())
        .otherwise(0)
        .cast(pl.Int64)
        .alias(BODY_START),
    )


def choose_layout(articles: pl.DataFrame) -> pl.DataFrame:
    """TEXT, BODY_START -> adds LAYOUT: 'blocks' | 'wrapped' | 'lines'."""
    body = pl.col(S.TEXT).str.slice(pl.col(BODY_START))
    # Wrapped copy: several indented lines and at least as many flush continuation lines.
    n_indented = body.str.count_matches(_INDENTED_LINE)
    n_flush = body.str.count_matches(_FLUSH_LINE)
    return articles.with_columns(
        pl.when(body.str.contains(_BLANK_LINE))
        .then(pl.lit("blocks"))
        .when((n_indented >= 2) & (n_flush >= n_indented))
        .then(pl.lit("wrapped"))
        .otherwise(pl.lit("lines"))
        .alias(LAYOUT)
    )


def split_paragraphs(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_ID, TEXT -> SPLIT: one row per paragraph with POSITION and char offsets.

    Offsets index the article's decoded TEXT; RAW_TEXT is the slice [CHAR_START, CHAR_END).
    """
    columns = [c for c in (S.ARTICLE_ID, S.TEXT, S.TITLE_LINE) if c in articles.columns]
    prepared = articles.select(columns).pipe(find_titles).pipe(choose_layout)
    body = pl.col(S.TEXT).str.slice(pl.col(BODY_START))
    tokens = (
        prepared.with_columns(
            pl.when(pl.col(LAYOUT) == "blocks")
            .then(body.str.extract_all(TOKEN_BLOCKS))
            .when(pl.col(LAYOUT) == "wrapped")
            .then(body.str.extract_all(TOKEN_WRAPPED))
            .otherwise(body.str.extract_all(TOKEN_LINES))
            .alias(_TOKEN)
        )
        .select(S.ARTICLE_ID, BODY_START, _TOKEN)
        .explode(_TOKEN)
        .drop_nulls(_TOKEN)
        .with_columns(pl.col(_TOKEN).str.len_chars().alias(S.CHAR_END))
        .with_columns(
            (pl.col(S.CHAR_END).cum_sum().over(S.ARTICLE_ID) + pl.col(BODY_START)).alias(S.CHAR_END)
        )
        .with_columns((pl.col(S.CHAR_END) - pl.col(_TOKEN).str.len_chars()).alias(S.CHAR_START))
    )
    paragraphs = tokens.filter(pl.col(_TOKEN).str.contains(f"^{_VISIBLE}"))
    return S.conform(
        paragraphs.with_columns(
            pl.int_range(pl.len()).over(S.ARTICLE_ID).alias(S.POSITION),
            pl.col(_TOKEN).alias(S.RAW_TEXT),
        ),
        S.SPLIT,
    ).pipe(split_sign_offs)
