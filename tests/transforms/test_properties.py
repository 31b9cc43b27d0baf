"""Properties of the pure transforms, checked on generated input (Hypothesis): splitting loses
no visible character and its offsets slice the text, normalising is idempotent and hashing
stable, one article gives the same paragraphs in every format, and no bytes make decoding raise.

Every test runs a fixed, derandomised set of examples (no example database), so a run in CI
tests exactly what a run on a laptop tests.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transforms import schema as S
from transforms.decode import CONTENT, decode_articles, decode_text, read_files
from transforms.formats import parse_records
from transforms.normalise import normalise_text, sha256_hex
from transforms.pipeline import identify_articles, resolve_metadata, split_articles
from transforms.split import BODY_START, find_titles, split_paragraphs

PROPERTY = settings(
    max_examples=150,
    deadline=None,  # a shared 2-core machine: timing says nothing about the code
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# "Blank" for layout, as transforms.split documents it: Unicode White_Space (what the regex
# engine's \s matches) plus the zero-width characters scraped pages leave on blank lines.
_WHITE_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_BLANK = _WHITE_SPACE | frozenset(_ZERO_WIDTH)

# Text with the characters the splitter cares about made common: line breaks, indents, the odd
# Unicode space and zero-width character, sentence ends and sign-offs.
_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\n \n",
        "\n\u200b\n",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u2028",
        "\u200b",
        "\ufeff",
        ".",
        '."',
        "Reuters",
        "(Reporting by Jane Doe)",
        "Copyright 2026 Planet",
        "AP",
    ]
)
_ARTICLE_TEXT = st.lists(
    st.one_of(_PIECES, st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)),
    max_size=30,
).map("".join)


def _split(text: str) -> pl.DataFrame:
    return split_paragraphs(pl.DataFrame({S.ARTICLE_ID: ["a"], S.TEXT: [text]}))


def _visible(text: str) -> str:
    return "".join(c for c in text if c not in _BLANK)


# --- splitting ------------------------------------------------------------------------------


@PROPERTY
@given(_ARTICLE_TEXT)
@example("Title\n\nFirst para.\n\nIt ended. Reuters")
@example("   First starts\nand wraps.\n   Second starts\nand wraps.\n")
def test_splitting_loses_no_visible_character_and_offsets_slice_the_text(text: str):
    out = _split(text)
    body_start = find_titles(pl.DataFrame({S.ARTICLE_ID: ["a"], S.TEXT: [text]}))[BODY_START][0]

    covered = [0] * len(text)
    for start, end, raw in out.select(S.CHAR_START, S.CHAR_END, S.RAW_TEXT).iter_rows():
        assert text[start:end] == raw
        assert body_start <= start < end <= len(text)
        assert raw[0] not in _BLANK and raw[-1] not in _BLANK
        for i in range(start, end):
            covered[i] += 1
    for i in range(body_start, len(text)):
        if text[i] not in _BLANK:
            assert covered[i] == 1, f"visible {text[i]!r} at {i} is in {covered[i]} paragraphs"
    assert out[S.POSITION].to_list() == list(range(out.height))
    assert out[S.CHAR_START].is_sorted()


@PROPERTY
@given(_ARTICLE_TEXT)
def test_the_text_before_the_body_is_the_title_alone(text: str):
    titled = find_titles(pl.DataFrame({S.ARTICLE_ID: ["a"], S.TEXT: [text]}))
    title, body_start = titled[S.TITLE][0], titled[BODY_START][0]

    assert _visible(text[:body_start]) == ("" if title is None else _visible(title))
    if title is not None:
        assert _visible(text[body_start:]) != ""  # a title needs a body after it


_LINE_OF_WORDS = st.lists(
    st.sampled_from(["Alpha", "beta", "gamma", "delta."]), min_size=1, max_size=4
)


@PROPERTY
@given(
    st.lists(
        st.lists(_LINE_OF_WORDS.map(" ".join), min_size=1, max_size=3).map("\n".join),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(_ZERO_WIDTH),
)
@example(["T", "B"], "\u200b")
@example(["A\nB", "C"], "\u2060")
def test_a_line_of_zero_width_characters_separates_paragraphs_like_a_blank_line(
    blocks: list[str], zero_width: str
):
    plain = "\n\n".join(blocks)
    scraped = f"\n{zero_width}\n".join(blocks)

    assert _split(scraped)[S.RAW_TEXT].to_list() == _split(plain)[S.RAW_TEXT].to_list()


# --- normalising and hashing ----------------------------------------------------------------


def _normalise(texts: list[str]) -> list[str]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(normalise_text(pl.col("t"))).to_series().to_list()


_ANY_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)
_WITHOUT_ZERO_WIDTH = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters=_ZERO_WIDTH), max_size=60
)

# Zero-width characters between letters and combining marks, where their removal matters.
_WITH_ZERO_WIDTH = st.lists(
    st.one_of(st.sampled_from(list(_ZERO_WIDTH) + ["e", "\u0301", "\u1100", "\u1161"]), _ANY_TEXT),
    max_size=10,
).map("".join)


@PROPERTY
@given(st.lists(_WITHOUT_ZERO_WIDTH, min_size=1, max_size=5))
@example(["\u201cHi\u201d \u2014 it\u2019s\u2026  \n there\u00a0now "])
def test_normalising_twice_is_normalising_once(texts: list[str]):
    once = _normalise(texts)

    assert _normalise(once) == once


@PROPERTY
@given(st.lists(_WITH_ZERO_WIDTH, min_size=1, max_size=5))
@example(["e\u200b\u0301"])
def test_normalising_twice_is_normalising_once_with_zero_width_characters(texts: list[str]):
    once = _normalise(texts)

    assert _normalise(once) == once


@PROPERTY
@given(st.lists(_ANY_TEXT, max_size=5))
def test_hashing_is_stable_and_is_sha256_of_the_utf8_bytes(texts: list[str]):
    series = pl.Series("t", texts, dtype=pl.String)

    first, second = sha256_hex(series).to_list(), sha256_hex(series.clone()).to_list()

    assert first == second == [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]


# --- one article, every format --------------------------------------------------------------

_WORD = st.text(
    st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u00e9\u00fc\u00f10123456789"
    ),
    min_size=1,
    max_size=10,
)
_SENTENCE = st.lists(_WORD, min_size=1, max_size=25).map(lambda words: " ".join(words) + ".")
_TITLE = st.lists(_WORD, min_size=1, max_size=8).map(" ".join)
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=3).map(" ".join)


def _render(
    title: str, paragraphs: list[str], charset: str = "<meta charset='utf-8'>"
) -> dict[str, str]:
    """One article as each supported format lays it out."""
    body = "\n\n".join(paragraphs)
    record = {"title": title, "body": body}
    html_paragraphs = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return {
        "story.txt": f"{title}\n\n{body}\n",
        "story.md": f"# {title}\n\n{body}\n",
        "story.json": json.dumps(record),
        "story.jsonl": json.dumps(record) + "\n",
        "story.html": (
            f"<!doctype html>\n<html lang='en'><head>{charset}<title>{title}</title>"
            f"<meta property='og:title' content='{title}'></head>\n<body><main><article>"
            f"<h1>{title}</h1>\n{html_paragraphs}\n</article></main></body></html>\n"
        ),
    }


def _paragraphs(path: str, text: str) -> tuple[str | None, list[str]]:
    """Title and normalised paragraphs of one file, through parsing, identity and splitting."""
    records = parse_records(pl.DataFrame({S.PATH: [path], S.SHA256: ["s"], S.TEXT: [text]}))
    assert records[S.REASON].to_list() == [None], records[S.DETAIL].to_list()
    prepared = records.with_columns(
        pl.lit(1_700_000_000.0).alias(S.MTIME), pl.lit("utf-8").alias(S.ENCODING)
    ).pipe(resolve_metadata)
    earlier = pl.DataFrame(
        schema={
            S.ARTICLE_KEY: pl.String,
            S.VERSION: pl.Int32,
            S.CONTENT_SHA256: pl.String,
            S.EXTERNAL_ID: pl.String,
            S.URL: pl.String,
        }
    )
    articles, _ = identify_articles(prepared.drop(S.REASON, S.DETAIL), earlier=earlier)
    titled, normalised = split_articles(articles)
    return titled[S.TITLE][0], normalised.sort(S.POSITION)[S.TEXT].to_list()


@settings(PROPERTY, max_examples=25)  # trafilatura makes an example ~10x slower
@given(_TITLE, st.lists(_PARAGRAPH, min_size=1, max_size=5, unique=True))
def test_the_same_article_in_every_format_gives_the_same_paragraphs(
    title: str, paragraphs: list[str]
):
    expected = (title, paragraphs)

    for path, text in _render(title, paragraphs).items():
        assert _paragraphs(path, text) == expected, path


@pytest.mark.xfail(
    strict=True,
    reason="bug: trafilatura drops a paragraph that repeats the one before it when it is over "
    "50 characters (even with deduplicate=False), so .html loses it and the other formats keep it",
)
def test_a_repeated_paragraph_is_kept_in_every_format():
    paragraphs = ["x" * 50 + ".", "x" * 50 + "."]

    for path, text in _render("A", paragraphs).items():
        assert _paragraphs(path, text) == ("A", paragraphs), path


def test_a_page_without_a_declared_charset_gives_the_same_paragraphs():
    # Found here: lxml read the page's UTF-8 bytes as Latin-1 when no <meta charset> said so.
    page = _render("\u00e9", ["0."], charset="")["story.html"]

    assert _paragraphs("story.html", page) == ("\u00e9", ["0."])


# --- decoding -------------------------------------------------------------------------------

_BYTES = st.one_of(
    st.binary(max_size=200),
    _ANY_TEXT.map(lambda t: t.encode("utf-8")),
    st.text(st.characters(codec="cp1252"), max_size=60).map(lambda t: t.encode("cp1252")),
)


@PROPERTY
@given(_BYTES)
@example(b"\x00\x01PK\x03\x04")
@example(b"abc \x81\x8d def")
@example("Caf\u00e9 na\u00efve r\u00e9sum\u00e9".encode().decode("cp1252").encode())
def test_any_bytes_decode_to_text_or_a_reason_never_an_error(data: bytes):
    text, encoding, reason, detail = decode_text(data)

    assert (text is None) != (reason is None)
    assert (encoding is None) == (text is None) and (detail is None) == (reason is None)
    if text is not None:
        assert "\r" not in text and not text.startswith("\ufeff")
    if b"\x00" in data:
        assert reason == "binary"


@PROPERTY
@given(st.lists(_BYTES, min_size=1, max_size=4))
def test_the_read_path_agrees_with_decode_text_on_any_bytes(contents: list[bytes]):
    with tempfile.TemporaryDirectory() as folder:
        landing = Path(folder)
        paths = [f"f{i}.txt" for i in range(len(contents))]
        for path, data in zip(paths, contents, strict=True):
            (landing / path).write_bytes(data)
        files = pl.DataFrame(
            {
                S.PATH: paths,
                S.SIZE: [len(data) for data in contents],
                S.REASON: [None] * len(paths),
                S.DETAIL: [None] * len(paths),
            },
            schema_overrides={S.SIZE: pl.Int64, S.REASON: pl.String, S.DETAIL: pl.String},
        )
        out = decode_articles(read_files(files, landing=landing, max_file_bytes=1_000))

    assert CONTENT not in out.columns
    for data, row in zip(contents, out.iter_rows(named=True), strict=True):
        if not data:
            assert row[S.REASON] == "empty"
            continue
        text, encoding, reason, detail = decode_text(data)
        assert (row[S.TEXT], row[S.ENCODING], row[S.REASON]) == (text, encoding, reason)
        assert row[S.DETAIL] == detail
