"""Article formats: decoded file text -> article records with their metadata.

The format is chosen by the file's extension and checked against its content:

- ``.txt`` (and any other extension): the whole text is the article; no metadata.
- ``.md`` / ``.markdown``: an optional YAML front-matter block between ``---`` lines (keys as
  for JSON below), then Markdown. A first ``#`` heading is the title; inline markup (emphasis,
  links, images, code spans, heading and quote markers) is reduced to its text.
- ``.json``: one article object. ``.jsonl`` / ``.ndjson``: one article object per line; each
  line is its own record (RECORD = its 1-based line number) and a bad line is set aside alone.
- ``.html`` / ``.htm``: the main text extracted by trafilatura (navigation, headers, footers
  and other boilerplate removed), one paragraph per ``<p>``-like block; metadata from the
  page's ``<meta>`` tags, canonical link and ``<html lang>``.

Every record's TEXT is laid out as a plain-text article: the title (when the format gives one)
on the first line, a blank line, then the paragraphs on blank lines. The split step then treats
all formats alike, so one story delivered as .txt, .md, .json and .html gives the same
paragraphs; character offsets index this text.

Bad metadata is never guessed: a record whose JSON does not parse, is not an object, lacks a
body, or holds a field of the wrong type or an unparseable date is set aside with a reason code
(:data:`schema.REASONS`) and a detail that names the field.

Parsing is one loop per record (like decoding, one per file): JSON, YAML and HTML parsers are
the unit of work; nothing here loops over paragraphs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any

import polars as pl

from transforms import schema as S

FORMAT_TEXT = "text"
FORMAT_MARKDOWN = "markdown"
FORMAT_JSON = "json"
FORMAT_JSONL = "jsonl"
FORMAT_HTML = "html"

EXTENSIONS = {
    ".md": FORMAT_MARKDOWN,
    ".markdown": FORMAT_MARKDOWN,
    ".json": FORMAT_JSON,
    ".jsonl": FORMAT_JSONL,
    ".ndjson": FORMAT_JSONL,
    ".html": FORMAT_HTML,
    ".htm": FORMAT_HTML,
}
"""Extension (lower case) -> format; anything else is plain text."""

METADATA_FIELDS = ("title", "url", "source", "published_at", "author", "language", "id")
"""The metadata a record may carry, by nutgraf's own names."""

_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HTML_CONTENT = re.compile(r"<(?:!doctype\s+html|html|head|body|p|div|article|main)\b", re.I)


@dataclass(frozen=True)
class JsonFields:
    """Which JSON keys (and front-matter keys) hold each piece of an article.

    Settings ``json_title_field`` ... ``json_id_field``; the body is the first of
    ``body`` fields present.
    """

    title: str = "title"
    body: tuple[str, ...] = ("body", "text")
    url: str = "url"
    source: str = "source"
    published_at: str = "published_at"
    author: str = "author"
    language: str = "language"
    id: str = "id"


class RecordError(ValueError):
    """A record that cannot be loaded as written: `reason` is a code of schema.REASONS."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# --- the frame step ---------------------------------------------------------------------------

RECORDS = pl.Schema(
    {
        S.PATH: pl.String,
        S.SHA256: pl.String,
        S.RECORD: pl.Int32,
        S.FORMAT: pl.String,
        S.TEXT: pl.String,
        S.TITLE_LINE: pl.Boolean,
        S.URL: pl.String,
        S.SOURCE: pl.String,
        S.PUBLISHED_AT: pl.Datetime("us", "UTC"),
        S.AUTHOR: pl.String,
        S.LANGUAGE_HINT: pl.String,
        S.EXTERNAL_ID: pl.String,
        S.REASON: pl.String,
        S.DETAIL: pl.String,
    }
)
"""parse -> identify: one row per record; TEXT null and REASON set for a record set aside."""


def format_of(path: pl.Expr) -> pl.Expr:
    """The format a path's extension names (FORMAT_TEXT when none does)."""
    extension = path.str.extract(r"(\.[^./]+)$", 1).str.to_lowercase()
    return extension.replace_strict(EXTENSIONS, default=FORMAT_TEXT, return_dtype=pl.String)


def parse_records(files: pl.DataFrame, fields: JsonFields | None = None) -> pl.DataFrame:
    """PATH, SHA256, TEXT (decoded) -> RECORDS.

    Plain-text files pass through as one record each without touching Python; every other
    format is parsed file by file.
    """
    fields = fields or JsonFields()
    typed = files.select(S.PATH, S.SHA256, S.TEXT).with_columns(
        format_of(pl.col(S.PATH)).alias(S.FORMAT)
    )
    plain = typed.filter(pl.col(S.FORMAT) == FORMAT_TEXT).with_columns(
        pl.lit(None, pl.Int32).alias(S.RECORD), pl.lit(True).alias(S.TITLE_LINE)
    )
    rows: list[dict[str, Any]] = []
    structured = typed.filter(pl.col(S.FORMAT) != FORMAT_TEXT)
    for path, sha, text, kind in structured.iter_rows():
        rows.extend(
            {S.PATH: path, S.SHA256: sha, S.FORMAT: kind, **record}
            for record in _parse(kind, text, fields)
        )
    parsed = pl.DataFrame(rows, schema={**RECORDS}, orient="row") if rows else S.empty(RECORDS)
    together = pl.concat([plain, parsed], how="diagonal_relaxed")
    return S.conform(together, RECORDS).sort(S.PATH, S.RECORD, nulls_last=False)


def _parse(kind: str, text: str, fields: JsonFields) -> Iterator[dict[str, Any]]:
    if kind == FORMAT_JSONL:
        yield from _parse_lines(text, fields)
        return
    try:
        if kind == FORMAT_JSON:
            record = _from_object(_load_json(text), fields)
        elif kind == FORMAT_MARKDOWN:
            record = _from_markdown(text, fields)
        else:
            record = _from_html(text)
    except RecordError as exc:
        yield {S.RECORD: None, S.REASON: exc.reason, S.DETAIL: exc.detail}
        return
    yield {S.RECORD: None, **record}


def _parse_lines(text: str, fields: JsonFields) -> Iterator[dict[str, Any]]:
    """One record per non-blank line, numbered from 1 as editors number lines."""
    found = False
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        found = True
        try:
            record = _from_object(_load_json(line, number), fields)
        except RecordError as exc:
            yield {S.RECORD: number, S.REASON: exc.reason, S.DETAIL: f"line {number}: {exc.detail}"}
            continue
        yield {S.RECORD: number, **record}
    if not found:
        yield {S.RECORD: None, **_article(None, "", {})}


def _load_json(text: str, line: int | None = None) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = (
            f"column {exc.colno}" if line is not None else f"line {exc.lineno} column {exc.colno}"
        )
        raise RecordError("bad_json", f"not JSON ({exc.msg} at {where})") from None
    except RecursionError:
        raise RecordError("bad_json", "JSON nested too deeply") from None


def _kind_of(value: object) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", int: "a number"}
    names |= {float: "a number", str: "a string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _from_object(value: object, fields: JsonFields) -> dict[str, Any]:
    """A JSON object (or front matter) -> record columns; RecordError naming the bad field."""
    if not isinstance(value, dict):
        raise RecordError("not_an_object", f"{_kind_of(value)}, not an article object")
    body_key = next((key for key in fields.body if key in value), None)
    if body_key is None:
        names = " or ".join(repr(key) for key in fields.body)
        raise RecordError("missing_body", f"no {names} field")
    body = value[body_key]
    if not isinstance(body, str):
        raise RecordError("bad_metadata", f"field {body_key!r} is {_kind_of(body)}, not a string")
    return _article(_string(value, fields.title), body, _metadata(value, fields))


def _metadata(value: Mapping[str, object], fields: JsonFields) -> dict[str, Any]:
    """The metadata columns of an object; a present field of the wrong type raises."""
    out: dict[str, Any] = {}
    for column, key in (
        (S.URL, fields.url),
        (S.SOURCE, fields.source),
        (S.AUTHOR, fields.author),
    ):
        out[column] = _string(value, key)
    identifier = value.get(fields.id)
    if isinstance(identifier, bool) or not isinstance(identifier, str | int | type(None)):
        raise RecordError(
            "bad_metadata", f"field {fields.id!r} is {_kind_of(identifier)}, not a string"
        )
    out[S.EXTERNAL_ID] = None if identifier is None else str(identifier).strip() or None
    language = _string(value, fields.language)
    if language is not None and not _LANGUAGE_CODE.match(language):
        raise RecordError(
            "bad_metadata", f"field {fields.language!r}: {language[:40]!r} is not a language code"
        )
    out[S.LANGUAGE_HINT] = None if language is None else language.lower().replace("_", "-")
    out[S.PUBLISHED_AT] = parse_timestamp(value.get(fields.published_at), fields.published_at)
    return out


def _string(value: Mapping[str, object], key: str) -> str | None:
    found = value.get(key)
    if found is None:
        return None
    if not isinstance(found, str):
        raise RecordError("bad_metadata", f"field {key!r} is {_kind_of(found)}, not a string")
    return found.strip() or None


def parse_timestamp(value: object, key: str = "published_at") -> datetime | None:
    """ISO 8601 (a date alone is midnight) or RFC 2822 -> aware UTC datetime; a time without
    an offset is read as UTC. Anything else raises RecordError naming `key`."""
    if value is None:
        return None
    if isinstance(value, datetime):  # YAML front matter parses timestamps itself
        stamp = value
    elif isinstance(value, date):
        stamp = datetime.combine(value, time())
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            try:
                stamp = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                raise RecordError(
                    "bad_metadata",
                    f"field {key!r}: {text[:40]!r} is not a date (ISO 8601 or RFC 2822)",
                ) from None
    else:
        raise RecordError("bad_metadata", f"field {key!r} is {_kind_of(value)}, not a date")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def _article(title: str | None, body: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Lay a title and body out as a plain-text article (see the module's docstring)."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    title = " ".join(title.split()) if title else None
    lines = body.split("\n", 1)
    if title and lines and _plain_heading(lines[0]) == title:
        body = lines[1].lstrip("\n") if len(lines) > 1 else ""  # the title repeated as a heading
    if not body.strip():
        text = ""  # no body: an empty article (the gate sets it aside), not a title paragraph
    elif title:
        text = f"{title}\n\n{body}"
    else:
        text = body
    return {S.TEXT: text, S.TITLE_LINE: title is not None, **metadata}


def _plain_heading(line: str) -> str:
    return " ".join(re.sub(r"^[ \t]{0,3}#{1,6}\s+|\s+#+\s*$", "", line).split())


# --- Markdown -------------------------------------------------------------------------------

_MD_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> their text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"(?m)^[ \t]{0,3}\[[^\]]+\]:[ \t]+\S+.*$"), ""),  # link definitions
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # code spans
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"(?m)^[ \t]{0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+[ \t]*)?$"), r"\1"),  # ATX headings
    (re.compile(r"(?m)^[ \t]{0,3}>[ \t]?"), ""),  # block quotes
    (re.compile(r"(?m)^[ \t]{0,3}(?:[-*_][ \t]*){3,}$"), ""),  # rules
    (re.compile(r"(?m) {2,}$"), ""),  # hard line breaks
]


def markdown_to_text(markdown: str) -> str:
    """Markdown -> its text: inline markup reduced to the words it marks up."""
    for pattern, replacement in _MD_INLINE:
        markdown = pattern.sub(replacement, markdown)
    return markdown


def _from_markdown(text: str, fields: JsonFields) -> dict[str, Any]:
    found = _FRONT_MATTER.match(text)
    meta: dict[str, Any] = {}
    title = None
    body = text
    if found:
        import yaml  # only Markdown with front matter pays for the import

        try:
            loaded = yaml.safe_load(found.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise RecordError("bad_front_matter", f"front matter{where}: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise RecordError(
                "bad_front_matter", f"front matter is {_kind_of(loaded)}, not a mapping"
            )
        loaded = {str(key): value for key, value in loaded.items()}
        title = _string(loaded, fields.title)
        meta = _metadata(loaded, fields)
        body = text[found.end() :]
    body = body.strip("\n")
    first, _, rest = body.partition("\n")
    if title is None and re.match(r"[ \t]{0,3}#\s", first):
        title, body = _plain_heading(first), rest  # a leading level-1 heading is the title
    return _article(title, markdown_to_text(body), meta)


# --- HTML -----------------------------------------------------------------------------------

_META_KEYS = {
    S.URL: ("og:url",),
    S.SOURCE: ("og:site_name", "application-name"),
    S.AUTHOR: ("author", "article:author", "dc.creator", "byl"),
    S.PUBLISHED_AT: (
        "article:published_time",
        "og:article:published_time",
        "datepublished",
        "dc.date.issued",
        "dc.date",
        "date",
        "pubdate",
        "publishdate",
    ),
}


def _from_html(text: str) -> dict[str, Any]:
    if not _HTML_CONTENT.search(text[:100_000]):
        raise RecordError("format_mismatch", "named .html but holds no HTML markup")
    import lxml.html  # loaded with the extractor, only when a batch holds HTML
    import trafilatura

    try:
        # Bytes, since lxml refuses a str that declares its encoding; the text is already
        # decoded, so they are UTF-8 whatever a <meta charset> says (or when none does).
        tree = lxml.html.document_fromstring(
            text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8")
        )
    except (ValueError, lxml.etree.ParserError) as exc:
        raise RecordError("format_mismatch", f"HTML that does not parse ({exc})") from None
    meta = _html_metadata(tree)
    extracted = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    body = "" if extracted is None else extracted.text or ""
    title = meta.pop(S.TITLE, None) or (None if extracted is None else extracted.title)
    paragraphs = "\n\n".join(line.strip() for line in body.split("\n") if line.strip())
    return _article(title, paragraphs, meta)


def _html_metadata(tree: Any) -> dict[str, Any]:
    """Metadata from <meta> tags, <link rel=canonical>, <time datetime> and <html lang>."""
    tags: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = (
            element.get("property") or element.get("name") or element.get("itemprop") or ""
        ).lower()
        content = element.get("content")
        if key and content and content.strip() and key not in tags:
            tags[key] = content.strip()
    meta: dict[str, Any] = {}
    for column, keys in _META_KEYS.items():
        meta[column] = next((tags[key] for key in keys if key in tags), None)
    canonical = next(
        (
            link.get("href")
            for link in tree.iter("link")
            if "canonical" in (link.get("rel") or "").lower().split() and link.get("href")
        ),
        None,
    )
    meta[S.URL] = canonical or meta[S.URL]
    date_key = next((key for key in _META_KEYS[S.PUBLISHED_AT] if key in tags), None)
    if date_key is None:
        stamp = next((t.get("datetime") for t in tree.iter("time") if t.get("datetime")), None)
        date_key = "time datetime"
    else:
        stamp = tags[date_key]
    meta[S.PUBLISHED_AT] = parse_timestamp(stamp, date_key)
    language = (tree.get("lang") or "").strip()
    meta[S.LANGUAGE_HINT] = (
        language.lower().replace("_", "-") if _LANGUAGE_CODE.match(language) else None
    )
    meta[S.EXTERNAL_ID] = None
    title = tags.get("og:title")
    if title:
        meta[S.TITLE] = title
    return meta
