"""The data contract: every frame passed between pipeline steps, declared once.

Column names are constants here and nowhere else; a step that adds a column adds it to the
schema of the frame it returns. Frames are checked with :func:`conform` at stage boundaries.
"""

from __future__ import annotations

import polars as pl

# --- column names -------------------------------------------------------------------------

PATH = "path"  # posix path relative to the landing folder
SIZE = "size"
MTIME = "mtime"  # seconds since the epoch, float
SHA256 = "sha256"  # sha256 hex of the file's bytes: the identity of a file version
STATUS = "status"
REASON = "reason"  # reason code (see REASONS) for a file or article set aside
DETAIL = "detail"  # human sentence that goes with a reason code

ARTICLE_ID = "article_id"  # identity of one article version
ARTICLE_KEY = "article_key"  # identity of an article across its versions
VERSION = "version"
TITLE = "title"
ENCODING = "encoding"
LANGUAGE = "language"
TEXT = "text"  # decoded text (articles) or normalised paragraph text (paragraphs)
N_CHARS = "n_chars"
N_WORDS = "n_words"
N_PARAGRAPHS = "n_paragraphs"

POSITION = "position"  # 0-based paragraph position in the article body
PARAGRAPH_HASH = "paragraph_hash"
CHAR_START = "char_start"  # offsets into the article's decoded text (BOM dropped, CRLF -> LF)
CHAR_END = "char_end"
RAW_TEXT = "raw_text"  # the paragraph as it stands in the article, before normalisation
KIND = "kind"
REPEAT_OF = "repeat_of_position"  # for kind 'repeat': position of the first appearance

TAG_TYPE = "tag_type"
TAG_VALUE = "tag_value"
TAG_DETAIL = "tag_detail"  # sub-kind: country/city/demonym for places, alias for persons, ...
COUNTRY = "country_code"  # ISO 3166 alpha-2 where a place resolves to a country
SPAN_START = "span_start"  # offsets into the paragraph's normalised text
SPAN_END = "span_end"
SURFACE = "surface"  # the matched text
SCORE = "score"
TAGGER = "tagger"
TAGGER_VERSION = "tagger_version"
RULE = "rule"  # what set a file aside: "read:<reason>", "screen:<reason>" or "<suite>.<check>"
RECORD = "record"  # 1-based line of a record in a .jsonl file; null for one-article formats
FORMAT = "format"  # text | markdown | json | jsonl | html (transforms.formats)
TITLE_LINE = "title_line"  # the text's first line may be a title (transforms.split)
CONTENT_SHA256 = "content_sha256"  # sha256 of TEXT: an article version's content
URL = "url"
SOURCE = "source"  # the outlet
SOURCE_ORIGIN = "source_origin"  # metadata | folder | setting | landing (transforms.pipeline)
PUBLISHED_AT = "published_at"  # aware UTC
PUBLISHED_ORIGIN = "published_at_origin"  # metadata | path | mtime
AUTHOR = "author"
LANGUAGE_HINT = "language_hint"  # the language the record declares (not the detected one)
EXTERNAL_ID = "external_id"  # the record's own id
BODY_SHA256 = "body_sha256"  # sha256 of an article's paragraph hashes, in order, one per line
NEAR_DUP_OF = "near_dup_of"  # the canonical paragraph of a near-duplicate group
SIMILARITY = "similarity"  # Jaccard similarity to it (transforms.neardup)
ARTICLE_LANGUAGE = "article_language"  # language of the article a paragraph was first seen in

DATELINE = "dateline"  # the dateline as written: "GUILDERLAND, N.Y., March 16"
DATELINE_CITY = "dateline_city"  # its city as a name: "Guilderland"
DATELINE_REGION = "dateline_region"  # the state, province or country after the city, as written
DATELINE_COUNTRY = "dateline_country"  # ISO alpha-2 the city or region resolves to
DATELINE_DATE = "dateline_date"  # the date as written: "March 16"
DATELINE_AGENCY = "dateline_agency"  # "Reuters" from "(Reuters)"
DATELINE_PUBLISHED = "dateline_published"  # the date's day, only when it holds a year

# measured on each article for the gate (not stored in `articles`)
LETTER_SHARE = "letter_share"  # letters / characters in the first LETTER_SAMPLE_CHARS
MOJIBAKE_MARKS = "mojibake_marks"  # mis-decoded character pairs ('Ã©', 'â€') and U+FFFD
GARBAGE_MARKS = "garbage_marks"  # control (C1), private-use and unassigned characters
HAS_WORDS = "has_words"  # at least one letter anywhere in the text
TITLE_EXPECTED = "title_expected"  # blank-line layout, where a title line is the norm
ACTIVE_MARKS = "active_content_marks"  # scripts, event attributes, javascript: URLs (markup.py)

# --- vocabularies ---------------------------------------------------------------------------

KIND_FIRST = "first"  # first appearance anywhere
KIND_REPEAT = "repeat"  # repeat inside the same article
KIND_CORPUS = "corpus"  # already seen in an earlier article (this batch or the warehouse)
OCCURRENCE_KINDS = (KIND_FIRST, KIND_REPEAT, KIND_CORPUS)

TAG_TYPES = ("person", "place", "organisation", "topic", "language", "quality")
TICKER = r"<[A-Z0-9]{1,8}(?:\.[A-Z0-9]{1,4})?>"
"""An exchange symbol in angle brackets ("<BAC>", "<RTRS.L>"): a tag, and never markup."""
LIKELY_BOILERPLATE = "likely_boilerplate"  # quality: a sign-off by rule, or learnt per source
MARKUP = "markup"  # quality: the paragraph holds HTML elements (transforms.markup)
FREE_FORM_DETAILS = (
    "heuristic",
    "span_model",
    "capitalised",
    "results_line",
    "dateline",
    "ticker",
    "ticker_name",
)
"""TAG_DETAIL of entity tags read from the text itself (a name after a title, a span the
span model typed, a dateline's city, an exchange ticker and the company named before it; and,
from entities_v3 and before, a classified capitalised run and a team in a results line):
their value is the name as written, so no vocabulary holds it."""

SOURCE_METADATA = "metadata"  # the record's own
SOURCE_FOLDER = "folder"  # the first folder under the landing folder
SOURCE_SETTING = "setting"  # the default_source setting
SOURCE_LANDING = "landing"  # the landing folder's own name
SOURCE_ORIGINS = (SOURCE_METADATA, SOURCE_FOLDER, SOURCE_SETTING, SOURCE_LANDING)
"""SOURCE_ORIGIN values: every one but the first is inferred from where the file lies."""

FILE_NEW = "new"
FILE_DUPLICATE = "duplicate"  # same bytes as a file version already seen
FILE_QUARANTINED = "quarantined"
FILE_LOADED = "loaded"

REASONS = {
    "unreadable": "the file could not be read from disk",
    "empty": "the file holds no text after decoding and splitting",
    "binary": "the file holds NUL bytes or other control bytes: not a text article",
    "undecodable": "the bytes are neither UTF-8 nor clean cp1252 text",
    "mojibake": "the text decodes but looks like mis-decoded bytes",
    "oversized": "the file is larger than the max_file_bytes setting",
    "not_a_file": "a folder or special file named like an article",
    "outside_landing": "a symlink to a place outside the landing folder (not followed)",
    "paragraph_too_long": "a paragraph is longer than the max_paragraph_chars setting",
    "bad_json": "a .json file or .jsonl line that is not JSON",
    "not_an_object": "JSON that is not an article object (a list, a string, a number...)",
    "missing_body": "an article object without a body field (settings json_body_fields)",
    "bad_metadata": "a metadata field of the wrong type or an unparseable date (named in detail)",
    "bad_front_matter": "Markdown front matter that is not a YAML mapping",
    "format_mismatch": "the content is not the format its extension names",
}

# --- frame schemas --------------------------------------------------------------------------

FILES = pl.Schema({PATH: pl.String, SIZE: pl.Int64, MTIME: pl.Float64, SHA256: pl.String})
"""discover -> read: one row per file version found in the landing folder."""

ARTICLES = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        ARTICLE_KEY: pl.String,
        VERSION: pl.Int32,
        PATH: pl.String,
        SHA256: pl.String,
        TITLE: pl.String,
        ENCODING: pl.String,
        TEXT: pl.String,
        RECORD: pl.Int32,
        FORMAT: pl.String,
        TITLE_LINE: pl.Boolean,
        CONTENT_SHA256: pl.String,
        SOURCE: pl.String,
        SOURCE_ORIGIN: pl.String,
        URL: pl.String,
        PUBLISHED_AT: pl.Datetime("us", "UTC"),
        PUBLISHED_ORIGIN: pl.String,
        AUTHOR: pl.String,
        EXTERNAL_ID: pl.String,
        LANGUAGE_HINT: pl.String,
    }
)
"""read -> split: one row per article version with its decoded text (BOM dropped, LF newlines)."""

REJECTS = pl.Schema({PATH: pl.String, SHA256: pl.String, REASON: pl.String, DETAIL: pl.String})
"""Any step that sets a file aside returns its rows in this shape."""

SPLIT = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        POSITION: pl.Int32,
        CHAR_START: pl.Int64,
        CHAR_END: pl.Int64,
        RAW_TEXT: pl.String,
    }
)
"""split -> normalise: one row per paragraph position."""

NORMALISED = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        POSITION: pl.Int32,
        CHAR_START: pl.Int64,
        CHAR_END: pl.Int64,
        TEXT: pl.String,
        PARAGRAPH_HASH: pl.String,
    }
)
"""normalise -> dedupe: paragraphs with normalised text and its sha256 hex."""

OCCURRENCES = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        POSITION: pl.Int32,
        PARAGRAPH_HASH: pl.String,
        CHAR_START: pl.Int64,
        CHAR_END: pl.Int64,
        KIND: pl.String,
        REPEAT_OF: pl.Int32,
    }
)
"""dedupe -> publish: every place a paragraph appears."""

PARAGRAPHS = pl.Schema(
    {
        PARAGRAPH_HASH: pl.String,
        TEXT: pl.String,
        N_CHARS: pl.Int32,
        N_WORDS: pl.Int32,
        ARTICLE_ID: pl.String,  # the article it was first seen in (first_article_id in SQL)
        LANGUAGE: pl.String,
    }
)
"""dedupe/tag -> publish: paragraphs new to the warehouse, one row per distinct hash."""

TAGS = pl.Schema(
    {
        PARAGRAPH_HASH: pl.String,
        TAG_TYPE: pl.String,
        TAG_VALUE: pl.String,
        TAG_DETAIL: pl.String,
        COUNTRY: pl.String,
        SPAN_START: pl.Int32,
        SPAN_END: pl.Int32,
        SURFACE: pl.String,
        SCORE: pl.Float64,
        TAGGER: pl.String,
        TAGGER_VERSION: pl.String,
    }
)
"""tag -> publish: one row per tag on a paragraph; spans are null for whole-paragraph tags."""

TITLE_TAGS = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        **{name: dtype for name, dtype in TAGS.items() if name != PARAGRAPH_HASH},
    }
)
"""tag_titles: one row per tag on an article's title; spans are offsets into the title's
normalised text (transforms.normalise.normalise_text)."""

DATELINES = pl.Schema(
    {
        ARTICLE_ID: pl.String,
        DATELINE: pl.String,
        DATELINE_CITY: pl.String,
        DATELINE_REGION: pl.String,
        DATELINE_COUNTRY: pl.String,
        DATELINE_DATE: pl.String,
        DATELINE_AGENCY: pl.String,
        DATELINE_PUBLISHED: pl.Datetime("us", "UTC"),
    }
)
"""find_datelines: one row per article whose first paragraph opens with a dateline; a value
the dateline does not hold is null."""

STORED_PARAGRAPHS = pl.Schema(
    {PARAGRAPH_HASH: pl.String, TEXT: pl.String, LANGUAGE: pl.String, ARTICLE_LANGUAGE: pl.String}
)
"""warehouse -> re-tag: stored paragraphs with their stored language and that of the article
they were first seen in (warehouse.retag.read_paragraph_page)."""


def empty(schema: pl.Schema) -> pl.DataFrame:
    """An empty frame of the given schema."""
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select and cast `frame` to exactly `schema`'s columns, in order; a missing column raises."""
    missing = [name for name in schema.names() if name not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing} of its declared schema")
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
