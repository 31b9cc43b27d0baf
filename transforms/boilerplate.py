"""Sign-offs and credit lines: the boilerplate a rule can name without seeing a feed's history.

Wire copy ends with the agency's sign-off ("Reuter", "REUTER"), a credit line ("(Reporting by
...; Editing by ...)"), a copyright notice or a "Click here" plea. Such a line is
``likely_boilerplate`` (quality tag, detail ``sign_off``) whether it stands in its own
paragraph or ends the article's last one; learnt boilerplate (the ``boilerplate`` table, per
source) finds the rest from repetition.

When the line ends the last paragraph, :func:`split_sign_offs` cuts it into a paragraph of its
own. No character of the text changes, offsets still slice the text, and the paragraph before
it gets the identity it has in a feed that prints no sign-off, so syndicated copies match.
"""

from __future__ import annotations

import polars as pl

from transforms import schema as S

_AGENCY = r"(?:Reuters?|REUTERS?|AP|AFP|UPI|dpa|DPA)"
_CREDIT = (
    r"\((?:(?:Additional )?[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Rr]esearch|"
    r"[Ii]nterviewed|[Ff]act[- ]checking) by [^()\n]{2,300}\)"
)
_COPYRIGHT = (
    r"(?:(?:Copyright|COPYRIGHT)\s*(?:©|\([cC]\))?|©)\s*(?:(?:19|20)\d\d\b[^\n]{0,150}"
    r"|[^\n]{0,150}\b[Aa]ll [Rr]ights [Rr]eserved\.?)"
)
_RESERVED = r"[Aa]ll [Rr]ights [Rr]eserved\.?"
_CLICK = r"(?:Click|CLICK|Tap) here\b[^\n]{0,200}"

SIGN_OFF = rf"^(?:{_AGENCY}|{_CREDIT}(?:\s*{_CREDIT})*|{_COPYRIGHT}|{_RESERVED}|{_CLICK})$"
"""A paragraph that is nothing but a sign-off or credit line (normalised or raw text)."""

TRAILING_SIGN_OFF = (
    rf"[.!?\"')\]]\s+((?:{_AGENCY}|{_CREDIT}(?:\s*{_CREDIT})*|{_COPYRIGHT}|{_RESERVED}))\s*$"
)
"""A sign-off ending a paragraph after a sentence's end; group 1 is the sign-off. "Click
here" is left out: it ends real sentences too ("... details, click here")."""

_SIGN_OFF_TEXT = "_sign_off"
_TAIL_CHARS = 500  # longer than any sign-off the pattern takes, and its sentence end
_ORDER = "_order"


def is_sign_off(text: pl.Expr) -> pl.Expr:
    """True where the text is nothing but a sign-off or credit line."""
    return text.str.strip_chars().str.contains(SIGN_OFF).fill_null(False)


def split_sign_offs(split: pl.DataFrame) -> pl.DataFrame:
    """SPLIT -> SPLIT: an article's last paragraph that ends with a sign-off becomes two
    paragraphs, the text before it and the sign-off; positions follow. Every other row is
    unchanged."""
    indexed = split.with_row_index(_ORDER)
    # Only last paragraphs, and only their tails, are searched: the pattern is anchored at the
    # end, and a regex over every paragraph's whole text would be a large part of the split.
    last = indexed.filter(
        pl.col(S.POSITION) == pl.col(S.POSITION).max().over(S.ARTICLE_ID)
    ).with_columns(
        pl.col(S.RAW_TEXT)
        .str.tail(_TAIL_CHARS)
        .str.extract(TRAILING_SIGN_OFF, 1)
        .alias(_SIGN_OFF_TEXT)
    )
    parts = last.filter(pl.col(_SIGN_OFF_TEXT).is_not_null())
    if parts.is_empty():
        return split
    whole = indexed.join(parts.select(_ORDER), on=_ORDER, how="anti")
    # The sign-off is matched at the end, so it starts where its length says; the text before
    # it ends at its last visible character.
    sign_off_start = pl.col(S.CHAR_END) - pl.col(_SIGN_OFF_TEXT).str.len_chars()
    head_text = (
        pl.col(S.RAW_TEXT)
        .str.head(pl.col(S.RAW_TEXT).str.len_chars() - pl.col(_SIGN_OFF_TEXT).str.len_chars())
        .str.strip_chars_end()
    )
    heads = parts.with_columns(
        head_text.alias(S.RAW_TEXT),
        (pl.col(S.CHAR_START) + head_text.str.len_chars()).alias(S.CHAR_END),
    )
    tails = parts.with_columns(
        sign_off_start.alias(S.CHAR_START),
        pl.col(_SIGN_OFF_TEXT).alias(S.RAW_TEXT),
        (pl.col(S.POSITION) + 1).alias(S.POSITION),
    )
    # rows stay in the input's order, each sign-off right after the text it was cut from
    return S.conform(
        pl.concat([whole, heads, tails], how="diagonal").sort(
            _ORDER, S.POSITION, maintain_order=True
        ),
        S.SPLIT,
    )
