"""Article formats and metadata: each format with good and bad input, metadata resolution and
article identity by external id or url."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import polars as pl
import pytest

from transforms import schema as S
from transforms.formats import JsonFields, RecordError, parse_records, parse_timestamp
from transforms.pipeline import identify_articles, resolve_metadata, split_articles

TITLE = "Leaders meet in Beijing"
PARAGRAPHS = [
    "President Xi Jinping met Vladimir Putin in Beijing on Tuesday for talks on energy "
    "cooperation and trade between the two countries.",
    "The two leaders signed a series of agreements covering gas supplies, nuclear power and "
    "the construction of a new pipeline across Siberia.",
    "Officials said the summit would be followed by a meeting of foreign ministers in Moscow "
    "next month, where further deals are expected.",
]

TXT = TITLE + "\n\n" + "\n\n".join(PARAGRAPHS) + "\n"
MD = f"""---
title: {TITLE}
source: Daily Planet
published_at: 2026-03-04T08:30:00+01:00
author: Jane Doe
url: https://planet.example/world/summit
---
# {TITLE}

President **Xi Jinping** met [Vladimir Putin](https://example.org/putin) in Beijing on Tuesday
for talks on energy cooperation and trade between the two countries.

The two leaders signed a series of *agreements* covering gas supplies, nuclear power and the
construction of a new pipeline across Siberia.

> Officials said the summit would be followed by a meeting of foreign ministers in Moscow next
> month, where further deals are expected.
"""
JSON = json.dumps(
    {
        "id": "planet-0042",
        "title": TITLE,
        "body": "\n\n".join(PARAGRAPHS),
        "url": "https://planet.example/world/summit",
        "source": "Daily Planet",
        "published_at": "2026-03-04T07:30:00Z",
        "author": "Jane Doe",
        "language": "en",
    }
)
HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{TITLE} | Daily Planet</title>
<meta property="og:title" content="{TITLE}">
<meta property="og:site_name" content="Daily Planet">
<meta property="article:published_time" content="2026-03-04T08:30:00+01:00">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://planet.example/world/summit">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<header><div class="menu">Subscribe now and save | Sign in</div></header>
<main><article><h1>{TITLE}</h1>
<p>{PARAGRAPHS[0]}</p>
<p>{PARAGRAPHS[1]}</p>
<p>{PARAGRAPHS[2]}</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/a">Celebrity chef opens third restaurant</a></li>
<li><a href="/b">Ten tips for a better night's sleep</a></li></ul></aside></main>
<footer><p>Copyright 2026 Daily Planet Media Group. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a></footer>
</body></html>
"""


def _files(**texts: str) -> pl.DataFrame:
    paths = list(texts)
    return pl.DataFrame(
        {
            S.PATH: [p.replace("__", "/").replace("_dot_", ".") for p in paths],
            S.SHA256: [f"sha-{i}" for i in range(len(paths))],
            S.TEXT: list(texts.values()),
        }
    )


def _one(path: str, text: str, fields: JsonFields | None = None) -> dict:
    records = parse_records(pl.DataFrame({S.PATH: [path], S.SHA256: ["s"], S.TEXT: [text]}), fields)
    assert records.height == 1
    return records.row(0, named=True)


def _paragraphs(path: str, text: str) -> tuple[str | None, list[str]]:
    """Title and normalised paragraphs of one file, through parsing, identity and splitting."""
    records = parse_records(pl.DataFrame({S.PATH: [path], S.SHA256: ["s"], S.TEXT: [text]}))
    prepared = records.with_columns(
        pl.lit(1_700_000_000.0).alias(S.MTIME), pl.lit("utf-8").alias(S.ENCODING)
    ).pipe(resolve_metadata)
    articles, _ = identify_articles(prepared.drop(S.REASON, S.DETAIL), earlier=_no_earlier())
    titled, normalised = split_articles(articles)
    return titled[S.TITLE][0], normalised.sort(S.POSITION)[S.TEXT].to_list()


def _no_earlier() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            S.ARTICLE_KEY: pl.String,
            S.VERSION: pl.Int32,
            S.CONTENT_SHA256: pl.String,
            S.EXTERNAL_ID: pl.String,
            S.URL: pl.String,
        }
    )


# --- one story, four formats ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path,text",
    [("story.txt", TXT), ("story.md", MD), ("story.json", JSON), ("story.html", HTML)],
)
def test_the_same_article_in_every_format_gives_the_same_paragraphs(path: str, text: str):
    title, paragraphs = _paragraphs(path, text)

    assert title == TITLE
    assert paragraphs == [" ".join(p.split()) for p in PARAGRAPHS]


def test_html_boilerplate_around_the_article_is_left_out():
    record = _one("page.html", HTML)

    text = record[S.TEXT]
    for boilerplate in ("Home", "Subscribe", "Most read", "Celebrity chef", "rights reserved"):
        assert boilerplate not in text
    assert text.count(TITLE) == 1  # the <h1> repeating the title is not a paragraph
    assert record[S.URL] == "https://planet.example/world/summit"
    assert record[S.SOURCE] == "Daily Planet"
    assert record[S.AUTHOR] == "Jane Doe"
    assert record[S.LANGUAGE_HINT] == "en"
    assert record[S.PUBLISHED_AT] == datetime(2026, 3, 4, 7, 30, tzinfo=UTC)


def test_a_file_named_html_without_markup_is_a_format_mismatch():
    record = _one("page.html", "Just a line of text, no markup at all.")

    assert record[S.REASON] == "format_mismatch"
    assert record[S.TEXT] is None


def test_an_html_date_that_does_not_parse_is_set_aside_naming_the_tag():
    page = HTML.replace("2026-03-04T08:30:00+01:00", "sometime in March")

    record = _one("page.html", page)

    assert record[S.REASON] == "bad_metadata"
    assert "article:published_time" in record[S.DETAIL]


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_front_matter_gives_the_metadata():
    record = _one("story.md", MD)

    assert record[S.FORMAT] == "markdown"
    assert record[S.SOURCE] == "Daily Planet"
    assert record[S.AUTHOR] == "Jane Doe"
    assert record[S.PUBLISHED_AT] == datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    assert "**" not in record[S.TEXT] and "](" not in record[S.TEXT]
    assert record[S.TEXT].startswith(TITLE + "\n\n")


def test_markdown_without_front_matter_takes_its_first_heading_as_title():
    title, paragraphs = _paragraphs("plain.md", "# A heading\n\nFirst *paragraph*.\n\nSecond.\n")

    assert title == "A heading"
    assert paragraphs == ["First paragraph.", "Second."]


@pytest.mark.parametrize(
    "front,detail",
    [
        ("title: [unclosed\n", "front matter at line"),
        ("- a list\n- not a mapping\n", "not a mapping"),
    ],
)
def test_markdown_front_matter_that_is_not_a_mapping_is_set_aside(front: str, detail: str):
    record = _one("bad.md", f"---\n{front}---\nBody text here.\n")

    assert record[S.REASON] == "bad_front_matter"
    assert detail in record[S.DETAIL]


def test_a_date_in_front_matter_that_does_not_parse_names_the_field():
    record = _one("bad.md", "---\npublished_at: next tuesday\n---\nBody.\n")

    assert record[S.REASON] == "bad_metadata"
    assert "'published_at'" in record[S.DETAIL] and "next tuesday" in record[S.DETAIL]


# --- JSON and JSON lines --------------------------------------------------------------------


def test_json_object_gives_text_and_metadata():
    record = _one("story.json", JSON)

    assert record[S.REASON] is None
    assert record[S.EXTERNAL_ID] == "planet-0042"
    assert record[S.URL] == "https://planet.example/world/summit"
    assert record[S.PUBLISHED_AT] == datetime(2026, 3, 4, 7, 30, tzinfo=UTC)
    assert record[S.LANGUAGE_HINT] == "en"
    assert record[S.RECORD] is None


@pytest.mark.parametrize(
    "value,reason,detail",
    [
        ('{"title": "x", "body": "y"', "bad_json", "not JSON"),
        ('["a", "list"]', "not_an_object", "a list, not an article object"),
        ('"just a string"', "not_an_object", "a string"),
        ('{"title": "No body here"}', "missing_body", "no 'body' or 'text' field"),
        ('{"body": ["a", "b"]}', "bad_metadata", "field 'body' is a list"),
        ('{"body": "ok", "title": 7}', "bad_metadata", "field 'title' is a number"),
        ('{"body": "ok", "published_at": "31/02/2026"}', "bad_metadata", "'published_at'"),
        ('{"body": "ok", "published_at": 1700000000}', "bad_metadata", "'published_at' is a"),
        ('{"body": "ok", "url": {"href": "x"}}', "bad_metadata", "field 'url' is an object"),
        ('{"body": "ok", "language": "not a code"}', "bad_metadata", "'language'"),
        ('{"body": "ok", "id": true}', "bad_metadata", "field 'id' is a boolean"),
    ],
)
def test_bad_json_is_set_aside_with_a_reason_naming_the_field(value, reason, detail):
    record = _one("bad.json", value)

    assert record[S.REASON] == reason
    assert detail in record[S.DETAIL]
    assert record[S.TEXT] is None


def test_a_broken_jsonl_line_is_set_aside_and_the_good_lines_load():
    lines = [
        json.dumps({"id": 1, "title": "First", "body": "One.\n\nTwo."}),
        '{"id": 2, "title": "Broken", "body": "cut off',
        "",
        json.dumps({"id": 3, "title": "Third", "text": "Three."}),
    ]

    records = parse_records(_files(**{"feed_dot_jsonl": "\n".join(lines) + "\n"}))

    assert records[S.RECORD].to_list() == [1, 2, 4]
    assert records[S.EXTERNAL_ID].to_list() == ["1", None, "3"]
    assert records[S.REASON].to_list() == [None, "bad_json", None]
    assert records[S.DETAIL][1].startswith("line 2: not JSON")
    assert records[S.TEXT][2] == "Third\n\nThree."


def test_json_field_names_come_from_the_settings():
    fields = JsonFields(title="headline", body=("content",), published_at="date", id="guid")
    value = json.dumps(
        {"headline": "H", "content": "Body.", "date": "2026-01-02", "guid": "g-1", "body": 1}
    )

    record = _one("x.json", value, fields)

    assert record[S.TEXT] == "H\n\nBody."
    assert record[S.EXTERNAL_ID] == "g-1"
    assert record[S.PUBLISHED_AT] == datetime(2026, 1, 2, tzinfo=UTC)


def test_a_json_body_that_is_blank_makes_an_empty_article_not_a_title_paragraph():
    record = _one("x.json", json.dumps({"title": "Only a title", "body": "  "}))

    assert record[S.TEXT] == ""


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-03-04", datetime(2026, 3, 4, tzinfo=UTC)),
        ("2026-03-04T10:00:00Z", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00", datetime(2026, 3, 4, 10, tzinfo=UTC)),
        ("2026-03-04T10:00:00-05:00", datetime(2026, 3, 4, 15, tzinfo=UTC)),
        ("Wed, 04 Mar 2026 10:00:00 +0100", datetime(2026, 3, 4, 9, tzinfo=UTC)),
    ],
)
def test_timestamps_become_aware_utc(text: str, expected: datetime):
    assert parse_timestamp(text) == expected


def test_a_timestamp_that_does_not_parse_raises_naming_the_field():
    with pytest.raises(RecordError, match="'date': 'yesterday'"):
        parse_timestamp("yesterday", "date")


# --- metadata from the layout ---------------------------------------------------------------


def test_source_and_published_at_fall_back_to_folder_path_and_mtime():
    records = parse_records(
        _files(
            reuters__2026__03__04__a_dot_txt="A\n\nx",
            top_dot_txt="C\n\nz",
            **{"2026__01__02__d_dot_txt": "D\n\nw", "afp__2026-03-05-summit_dot_txt": "B\n\ny"},
            planet__e_dot_json=json.dumps(
                {"body": "q", "source": "Planet", "published_at": "2025-12-31T23:00:00Z"}
            ),
        )
    ).with_columns(pl.lit(1_767_225_600.0).alias(S.MTIME))  # 2026-01-01T00:00:00Z

    out = resolve_metadata(records).sort(S.PATH)

    rows = {
        r[S.PATH]: (
            r[S.SOURCE],
            r[S.SOURCE_ORIGIN],
            r[S.PUBLISHED_AT].date().isoformat(),
            r[S.PUBLISHED_ORIGIN],
        )
        for r in out.iter_rows(named=True)
    }
    assert rows == {
        "reuters/2026/03/04/a.txt": ("reuters", "folder", "2026-03-04", "path"),
        "afp/2026-03-05-summit.txt": ("afp", "folder", "2026-03-05", "path"),
        "top.txt": (None, None, "2026-01-01", "mtime"),
        "2026/01/02/d.txt": (None, None, "2026-01-02", "path"),
        "planet/e.json": ("Planet", "metadata", "2025-12-31", "metadata"),
    }
    assert resolve_metadata(records, source_from_folder=False)[S.SOURCE].null_count() == 4

    # A file that names no source and lies in no outlet folder takes the fallback, marked as
    # inferred from where it lies; a record's own source and an outlet folder still win.
    landing = resolve_metadata(records, fallback_source=("wire", S.SOURCE_LANDING)).sort(S.PATH)
    sources = {
        path: (source, origin)
        for path, source, origin in landing.select(S.PATH, S.SOURCE, S.SOURCE_ORIGIN).iter_rows()
    }
    assert sources == {
        "reuters/2026/03/04/a.txt": ("reuters", "folder"),
        "afp/2026-03-05-summit.txt": ("afp", "folder"),
        "top.txt": ("wire", "landing"),
        "2026/01/02/d.txt": ("wire", "landing"),
        "planet/e.json": ("Planet", "metadata"),
    }
    flat = resolve_metadata(
        records, source_from_folder=False, fallback_source=("desk", S.SOURCE_SETTING)
    )
    assert set(flat.select(S.SOURCE, S.SOURCE_ORIGIN).iter_rows()) == {
        ("desk", "setting"),
        ("Planet", "metadata"),
    }


# --- identity -------------------------------------------------------------------------------


def _prepared(files: pl.DataFrame) -> pl.DataFrame:
    records = parse_records(files).with_columns(
        pl.lit(1_767_225_600.0).alias(S.MTIME), pl.lit("utf-8").alias(S.ENCODING)
    )
    return resolve_metadata(records).drop(S.REASON, S.DETAIL)


def test_the_same_external_id_under_another_file_name_is_a_new_version():
    earlier = pl.DataFrame(
        {
            S.ARTICLE_KEY: ["id:42"],
            S.VERSION: [1],
            S.CONTENT_SHA256: ["old"],
            S.EXTERNAL_ID: ["42"],
            S.URL: ["https://x.example/a"],
        },
        schema_overrides={S.VERSION: pl.Int32},
    )
    files = _files(
        update_dot_json=json.dumps({"id": 42, "title": "T", "body": "Changed."}),
        by_url_dot_json=json.dumps({"url": "https://x.example/a", "body": "By url."}),
    )

    articles, unchanged = identify_articles(_prepared(files), earlier=earlier)

    assert sorted(articles[S.ARTICLE_KEY].to_list()) == ["id:42", "id:42"]
    assert sorted(articles[S.VERSION].to_list()) == [2, 3]
    assert unchanged.is_empty()


def test_a_record_whose_content_is_unchanged_is_not_loaded_again():
    line = json.dumps({"id": "a", "title": "T", "body": "Same."})
    first, _ = identify_articles(_prepared(_files(f_dot_jsonl=line)), earlier=_no_earlier())
    earlier = first.select(S.ARTICLE_KEY, S.VERSION, S.CONTENT_SHA256, S.EXTERNAL_ID, S.URL)
    appended = line + "\n" + json.dumps({"id": "b", "body": "New."})

    articles, unchanged = identify_articles(
        _prepared(_files(f_dot_jsonl=appended)), earlier=earlier
    )

    assert articles[S.EXTERNAL_ID].to_list() == ["b"]
    assert unchanged[S.ARTICLE_KEY].to_list() == ["id:a"]


def test_versions_in_one_batch_follow_published_at():
    lines = [
        json.dumps({"id": "s", "body": "Third.", "published_at": "2026-01-03"}),
        json.dumps({"id": "s", "body": "First.", "published_at": "2026-01-01"}),
        json.dumps({"id": "s", "body": "Second.", "published_at": "2026-01-02"}),
        json.dumps({"id": "s", "body": "Second.", "published_at": "2026-01-02T12:00:00"}),
    ]

    articles, unchanged = identify_articles(
        _prepared(_files(f_dot_jsonl="\n".join(lines))), earlier=_no_earlier()
    )

    by_version = articles.sort(S.VERSION)
    assert by_version[S.TEXT].to_list() == ["First.", "Second.", "Third."]
    assert by_version[S.RECORD].to_list() == [2, 3, 1]
    assert unchanged[S.PATH].to_list() == ["f.jsonl"]  # the repeated "Second."


def test_a_record_holding_any_earlier_version_of_its_article_is_unchanged():
    earlier = pl.DataFrame(
        {
            S.ARTICLE_KEY: ["id:s", "id:s"],
            S.VERSION: [1, 2],
            S.CONTENT_SHA256: [_content("First."), _content("Second.")],
            S.EXTERNAL_ID: ["s", "s"],
            S.URL: [None, None],
        },
        schema_overrides={S.VERSION: pl.Int32, S.URL: pl.String},
    )
    lines = [json.dumps({"id": "s", "body": b}) for b in ("First.", "Third.")]

    articles, unchanged = identify_articles(
        _prepared(_files(f_dot_jsonl="\n".join(lines))), earlier=earlier
    )

    assert articles.select(S.TEXT, S.VERSION).rows() == [("Third.", 3)]
    assert unchanged[S.RECORD].to_list() == [1]


def _content(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
