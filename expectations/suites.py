"""The data-quality suites, versioned and kept in code.

A suite is a named list of :class:`Check`: which frame of the batch it runs on, which Great
Expectations expectation (by class name, with its keyword arguments) and what a failure means
(``fail`` stops the publish, ``quarantine`` sets the offending articles aside, ``warn`` is only
recorded). This module stays free of ``great_expectations`` so importing it is cheap; the gate
turns checks into GX expectations when it runs.

Some checks need facts that span rows (positions contiguous per article) or other frames (a tag
span inside its paragraph). Such a check carries a Polars expression (``derive``) that the gate
evaluates into a boolean column before validation; GX then expects that column to be true. The
one cross-frame fact, the tagged paragraph's length, is joined on by the gate
(``PARAGRAPH_N_CHARS``, ``DERIVED_PARAGRAPH_IN_BATCH``). Closed vocabularies are checked the same
way: GX re-serialises an expectation's ``value_set`` over and over in a validation, so a
gazetteer-sized vocabulary would cost more than every other check together; Polars ``is_in``
is one hash lookup per row.

Changing a check's behaviour means a new suite version (``_v2``), so stored ``dq_results`` rows
stay interpretable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import polars as pl

from transforms import schema as s

Severity = Literal["fail", "quarantine", "warn"]
SEVERITIES: tuple[Severity, ...] = ("fail", "quarantine", "warn")

# --- frames a check can run on (the gate prepares one pandas batch per frame) ----------------

FRAME_ARTICLES = "articles"
FRAME_OCCURRENCES = "occurrences"
FRAME_PARAGRAPHS = "paragraphs"
FRAME_TAGS = "tags"
FRAME_BATCH = "batch"  # one row of batch-level metrics

# Columns that identify a row of each frame: shown as the examples of a failed check.
FRAME_KEYS: dict[str, tuple[str, ...]] = {
    FRAME_ARTICLES: (s.ARTICLE_ID, s.PATH),
    FRAME_OCCURRENCES: (s.ARTICLE_ID, s.POSITION),
    FRAME_PARAGRAPHS: (s.PARAGRAPH_HASH, s.ARTICLE_ID),
    FRAME_TAGS: (s.PARAGRAPH_HASH, s.TAG_TYPE, s.TAG_VALUE, s.SPAN_START),
    FRAME_BATCH: (),
}

# --- derived columns, computed with Polars before validation ---------------------------------

# occurrences: the article's positions are exactly 0..n-1
DERIVED_POSITIONS_CONTIGUOUS = "positions_contiguous"
# occurrences: a repeat names an earlier position of its article
DERIVED_REPEAT_POINTS_BACK = "repeat_points_back"
# tags: the tagged hash is one of the batch's new paragraphs (joined on by the gate)
DERIVED_PARAGRAPH_IN_BATCH = "paragraph_in_batch"
# tags: n_chars of the tagged paragraph, null when it is not in the batch (joined on by the gate)
PARAGRAPH_N_CHARS = "paragraph_n_chars"
# tags: 0 <= span_start < span_end <= n_chars, or no span at all (a whole-paragraph tag)
DERIVED_SPAN_INSIDE = "span_inside_paragraph"
DERIVED_TAG_KEY_UNIQUE = "tag_key_unique"
"""True where no other tag of the batch has the same paragraph, type, value, start and
tagger version."""

# paragraphs: the text is nothing but markup tags (a scraper's leftovers)
DERIVED_NOT_MARKUP = "not_pure_markup"
# paragraphs: language is null or a code the language tagger can emit
DERIVED_LANGUAGE_VALID = "language_code_valid"
# articles: a title where the layout has one
DERIVED_TITLE_WHERE_EXPECTED = "title_where_expected"
# articles: at least one letter in the text
DERIVED_HAS_WORDS = "has_words_checked"
DERIVED_PUBLISHED_NOT_AHEAD = "published_at_not_ahead"
PUBLISHED_AT_LEEWAY = timedelta(days=1)
"""How far ahead of the gate's clock a published_at may lie (time zones, embargoed copy)."""

# batch frame columns: metrics of this batch ...
QUARANTINED_SHARE = "quarantined_file_share"
DUPLICATE_SHARE = "duplicate_file_share"
N_FILES = "n_files"
EMPTY_SHARE = "empty_article_share"
MOJIBAKE_SHARE = "mojibake_file_share"
REPEATED_SHARE = "repeated_paragraph_share"
MEAN_PARAGRAPH_CHARS = "mean_paragraph_chars"
NUMERIC_SHARE = "numeric_article_share"  # articles mostly digits (tables, results), loaded
MARKUP_SHARE = "markup_paragraph_share"  # new paragraphs tagged quality markup, loaded
# ... and comparisons with the last published batches (null until there is enough history)
REPEATED_SHARE_RISE = "repeated_paragraph_share_rise"
PARAGRAPH_LENGTH_RATIO = "mean_paragraph_chars_ratio"
LANGUAGE_SHIFT = "language_mix_shift"
LANGUAGE_SHARE_PREFIX = "language_share:"  # one metric per language in the stored history
BASELINE_SUFFIX = "_baseline"  # batch frame: the history's value a comparison was made against
HISTORY_METRICS = (
    N_FILES,
    QUARANTINED_SHARE,
    DUPLICATE_SHARE,
    EMPTY_SHARE,
    MOJIBAKE_SHARE,
    REPEATED_SHARE,
    MEAN_PARAGRAPH_CHARS,
    NUMERIC_SHARE,
    MARKUP_SHARE,
)
"""Metrics stored per published batch (table batch_metrics), with the language shares."""

PURE_MARKUP = r"^\s*(?:<[^<>]*>\s*)+$"
TICKERS_ONLY = rf"^\s*(?:{s.TICKER}\s*)+$"  # "<GREX.L>" on a line of its own is no markup


HEX64 = r"^[0-9a-f]{64}$"  # sha256 hex, the identity of files and paragraphs


@dataclass(frozen=True)
class Check:
    """One expectation of a suite: what is checked, on which frame, and what a failure means."""

    name: str  # stable, unique within the suite; stored in dq_results.expectation
    frame: str  # one of the FRAME_* names
    expectation: str  # GX expectation class name, e.g. "ExpectColumnValuesToBeUnique"
    severity: Severity
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    # Polars expression producing the checked column (named as kwargs["column"]) when it is
    # not a column of the frame itself.
    derive: pl.Expr | None = field(default=None, compare=False)
    # What a failure means, in words: the detail of a quarantined file and the report's text.
    description: str = ""
    # Reason code of the articles a quarantine-severity check sets aside (default dq_<name>).
    reason: str | None = None

    @property
    def reason_code(self) -> str:
        """The quarantine reason code this check gives the articles it sets aside."""
        return self.reason or f"dq_{self.name}"

    @property
    def column_name(self) -> str:
        """The checked column(s), comma-separated, for dq_results.column_name."""
        if "column" in self.kwargs:
            return str(self.kwargs["column"])
        if "column_list" in self.kwargs:
            return ",".join(self.kwargs["column_list"])
        if "column_A" in self.kwargs:
            return f"{self.kwargs['column_A']},{self.kwargs['column_B']}"
        return ""

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the check reads (for selecting what to hand to GX)."""
        return tuple(c for c in self.column_name.split(",") if c)


@dataclass(frozen=True)
class Suite:
    """A versioned, named list of checks."""

    name: str
    checks: tuple[Check, ...]


def _not_null(name: str, frame: str, column: str, severity: Severity = "fail") -> Check:
    return Check(name, frame, "ExpectColumnValuesToNotBeNull", severity, {"column": column})


def _is_true(
    name: str,
    frame: str,
    column: str,
    derive: pl.Expr | None,
    severity: Severity = "fail",
    *,
    description: str = "",
    reason: str | None = None,
) -> Check:
    # Derived booleans are filled with False where undefined, so "in {True}" is exact.
    return Check(
        name,
        frame,
        "ExpectColumnValuesToBeInSet",
        severity,
        {"column": column, "value_set": [True]},
        derive=derive,
        description=description,
        reason=reason,
    )


def _positions_contiguous() -> pl.Expr:
    # Every row of an article is flagged, so the examples show the whole article's problem.
    position, n = pl.col(s.POSITION), pl.len().over(s.ARTICLE_ID)
    return (
        (position.min().over(s.ARTICLE_ID) == 0)
        & (position.max().over(s.ARTICLE_ID) == n - 1)
        & (position.n_unique().over(s.ARTICLE_ID) == n)
    ).fill_null(False)


def _repeat_points_back() -> pl.Expr:
    repeat_of = pl.col(s.REPEAT_OF)
    return (
        (pl.col(s.KIND) != s.KIND_REPEAT) | ((repeat_of >= 0) & (repeat_of < pl.col(s.POSITION)))
    ).fill_null(False)


def _span_inside_paragraph() -> pl.Expr:
    start, end = pl.col(s.SPAN_START), pl.col(s.SPAN_END)
    whole_paragraph = start.is_null() & end.is_null()
    inside = ((start >= 0) & (start < end) & (end <= pl.col(PARAGRAPH_N_CHARS))).fill_null(False)
    return pl.col(DERIVED_PARAGRAPH_IN_BATCH) & (whole_paragraph | inside)


def _in_vocabulary(tag_type: str, values: frozenset[str]) -> pl.Expr:
    """Tags of `tag_type` hold a value of the vocabulary, unless read from the text itself
    (s.FREE_FORM_DETAILS: "Grace Road" is a place no list holds)."""
    allowed = pl.Series(sorted(values), dtype=pl.String).implode()  # one list: membership
    free_form = pl.col(s.TAG_DETAIL).is_in(list(s.FREE_FORM_DETAILS)).fill_null(False)
    return (
        pl.col(s.TAG_TYPE).ne_missing(tag_type) | free_form | pl.col(s.TAG_VALUE).is_in(allowed)
    ).fill_null(False)


def _language_valid(codes: frozenset[str] | None) -> pl.Expr:
    if codes is None:
        return pl.lit(True)
    allowed = pl.Series(sorted(codes), dtype=pl.String).implode()
    return (pl.col(s.LANGUAGE).is_null() | pl.col(s.LANGUAGE).is_in(allowed)).fill_null(False)


def articles_suite_v4(
    *, min_article_chars: int, max_article_chars: int, max_mojibake: int, max_garbage: int
) -> Suite:
    """Each article: keys and hashes (fail); holds words, decodes cleanly, no control or
    private-use characters, no active content (scripts, event attributes, javascript: URLs),
    size in bounds (quarantine: the article is set aside, the rest publish); language and a
    title where the layout has one (warn).

    Text that is mostly digits is news (earnings, results, index levels, market tables): it
    loads, its paragraphs are tagged ``numeric_table`` and the batch counts it
    (NUMERIC_SHARE). Only text that is broken is set aside."""
    a = FRAME_ARTICLES
    return Suite(
        "articles_suite_v4",
        (
            _not_null("article_id_not_null", a, s.ARTICLE_ID),
            Check(
                "article_id_unique",
                a,
                "ExpectColumnValuesToBeUnique",
                "fail",
                {"column": s.ARTICLE_ID},
            ),
            _not_null("article_key_not_null", a, s.ARTICLE_KEY),
            _not_null("path_not_null", a, s.PATH),
            Check(
                "sha256_is_hex",
                a,
                "ExpectColumnValuesToMatchRegex",
                "fail",
                {"column": s.SHA256, "regex": HEX64},
            ),
            _not_null("sha256_not_null", a, s.SHA256),
            Check(
                "not_empty_after_splitting",
                a,
                "ExpectColumnValuesToBeBetween",
                "quarantine",
                {"column": s.N_PARAGRAPHS, "min_value": 1},
                description=s.REASONS["empty"],
                reason="empty",
            ),
            Check(
                "decodes_cleanly",
                a,
                "ExpectColumnValuesToBeBetween",
                "quarantine",
                {"column": s.MOJIBAKE_MARKS, "min_value": 0, "max_value": max_mojibake},
                description=(
                    f"more than {max_mojibake} mis-decoded character pairs ('Ã©', 'â€') or "
                    "replacement characters: the text was decoded wrongly upstream"
                ),
                reason="dq_mojibake",
            ),
            _is_true(
                "has_words",
                a,
                DERIVED_HAS_WORDS,
                pl.col(s.HAS_WORDS).fill_null(False),
                "quarantine",
                description=(
                    "not one letter in the text: a date, a number or symbols alone, no article"
                ),
                reason="dq_no_words",
            ),
            Check(
                "no_control_characters",
                a,
                "ExpectColumnValuesToBeBetween",
                "quarantine",
                {"column": s.GARBAGE_MARKS, "min_value": 0, "max_value": max_garbage},
                description=(
                    f"more than {max_garbage} control, private-use or unassigned characters: "
                    "bytes that are not text, or text decoded with the wrong encoding"
                ),
                reason="dq_garbage",
            ),
            Check(
                "no_active_content",
                a,
                "ExpectColumnValuesToBeBetween",
                "quarantine",
                {"column": s.ACTIVE_MARKS, "min_value": 0, "max_value": 0},
                description=(
                    # No angle brackets: descriptions reach markdown and terminals as written.
                    "the text holds active content (a script, style or iframe element, an "
                    "on...= event attribute or a javascript: URL): markup a browser would run, "
                    "never news"
                ),
                reason="dq_active_content",
            ),
            Check(
                "size_in_bounds",
                a,
                "ExpectColumnValuesToBeBetween",
                "quarantine",
                {
                    "column": s.N_CHARS,
                    "min_value": min_article_chars,
                    "max_value": max_article_chars,
                },
                description=(
                    f"the article is shorter than {min_article_chars} or longer than "
                    f"{max_article_chars} characters"
                ),
                reason="dq_size_out_of_bounds",
            ),
            # A missing language is worth seeing on the report but not worth stopping a load.
            _not_null("language_present", a, s.LANGUAGE, "warn"),
            _is_true(
                "title_where_layout_has_one",
                a,
                DERIVED_TITLE_WHERE_EXPECTED,
                (pl.col(s.TITLE).is_not_null() | ~pl.col(s.TITLE_EXPECTED)).fill_null(True),
                "warn",
            ),
            # Every article has one: its own, its path's date or its file's mtime.
            _not_null("published_at_present", a, s.PUBLISHED_AT),
            # A feed dated ahead of time has a time-zone or clock fault worth seeing.
            _is_true(
                "published_at_not_in_future",
                a,
                DERIVED_PUBLISHED_NOT_AHEAD,
                (
                    pl.col(s.PUBLISHED_AT)
                    <= pl.lit(datetime.now(UTC) + PUBLISHED_AT_LEEWAY, pl.Datetime("us", "UTC"))
                ).fill_null(True),
                "warn",
            ),
        ),
    )


def paragraphs_suite_v4(
    *,
    vocabulary: Mapping[str, frozenset[str] | None],
    min_paragraph_chars: int,
    max_paragraph_chars: int,
) -> Suite:
    """Occurrences, new paragraphs and their tags: keys, offsets, spans, vocabularies, language
    codes; a paragraph of pure markup sets its articles aside (an exchange ticker alone, "<BAC>",
    is none)."""
    o, p, t = FRAME_OCCURRENCES, FRAME_PARAGRAPHS, FRAME_TAGS
    checks = [
        # occurrences
        _not_null("occurrence_article_id_not_null", o, s.ARTICLE_ID),
        _not_null("occurrence_position_not_null", o, s.POSITION),
        Check(
            "occurrence_key_unique",
            o,
            "ExpectCompoundColumnsToBeUnique",
            "fail",
            {"column_list": [s.ARTICLE_ID, s.POSITION]},
        ),
        _is_true("positions_contiguous", o, DERIVED_POSITIONS_CONTIGUOUS, _positions_contiguous()),
        _not_null("occurrence_hash_not_null", o, s.PARAGRAPH_HASH),
        _not_null("char_start_not_null", o, s.CHAR_START),
        _not_null("char_end_not_null", o, s.CHAR_END),
        Check(
            "char_start_not_negative",
            o,
            "ExpectColumnValuesToBeBetween",
            "fail",
            {"column": s.CHAR_START, "min_value": 0},
        ),
        Check(
            "char_start_before_char_end",
            o,
            "ExpectColumnPairValuesAToBeGreaterThanB",
            "fail",
            {
                "column_A": s.CHAR_END,
                "column_B": s.CHAR_START,
                "or_equal": False,
                "ignore_row_if": "either_value_is_missing",
            },
        ),
        Check(
            "kind_in_set",
            o,
            "ExpectColumnValuesToBeInSet",
            "fail",
            {"column": s.KIND, "value_set": list(s.OCCURRENCE_KINDS)},
        ),
        _not_null("kind_not_null", o, s.KIND),
        _is_true("repeat_points_back", o, DERIVED_REPEAT_POINTS_BACK, _repeat_points_back()),
        # paragraphs (new to the warehouse)
        _not_null("paragraph_hash_not_null", p, s.PARAGRAPH_HASH),
        Check(
            "paragraph_hash_unique",
            p,
            "ExpectColumnValuesToBeUnique",
            "fail",
            {"column": s.PARAGRAPH_HASH},
        ),
        Check(
            "paragraph_hash_is_hex",
            p,
            "ExpectColumnValuesToMatchRegex",
            "fail",
            {"column": s.PARAGRAPH_HASH, "regex": HEX64},
        ),
        _not_null("paragraph_n_chars_not_null", p, s.N_CHARS),
        Check(
            "paragraph_length_in_range",
            p,
            "ExpectColumnValuesToBeBetween",
            "fail",
            {
                "column": s.N_CHARS,
                "min_value": min_paragraph_chars,
                "max_value": max_paragraph_chars,
            },
        ),
        _not_null("paragraph_first_article_not_null", p, s.ARTICLE_ID),
        _is_true(
            "language_code_valid",
            p,
            DERIVED_LANGUAGE_VALID,
            _language_valid(vocabulary.get("language")),
        ),
        Check(
            "not_pure_markup",
            p,
            "ExpectColumnValuesToBeInSet",
            "quarantine",
            {"column": DERIVED_NOT_MARKUP, "value_set": [True]},
            derive=~(
                pl.col(s.TEXT).str.contains(PURE_MARKUP)
                & ~pl.col(s.TEXT).str.contains(TICKERS_ONLY)
            ).fill_null(False),
            description="a paragraph is nothing but markup tags (HTML left in the text)",
            reason="dq_pure_markup",
        ),
        # tags (of the new paragraphs)
        _not_null("tag_hash_not_null", t, s.PARAGRAPH_HASH),
        _not_null("tag_value_not_null", t, s.TAG_VALUE),
        _not_null("tagger_version_not_null", t, s.TAGGER_VERSION),
        # Derived in Polars: GX's compound uniqueness over a batch's million tag rows costs
        # twice as long (see BENCHMARKS.md); the rows it fails are the same, every copy.
        _is_true(
            "tag_key_unique",
            t,
            DERIVED_TAG_KEY_UNIQUE,
            ~pl.struct(
                s.PARAGRAPH_HASH, s.TAG_TYPE, s.TAG_VALUE, s.SPAN_START, s.TAGGER_VERSION
            ).is_duplicated(),
        ),
        Check(
            "tag_type_in_set",
            t,
            "ExpectColumnValuesToBeInSet",
            "fail",
            {"column": s.TAG_TYPE, "value_set": list(s.TAG_TYPES)},
        ),
        _not_null("tag_type_not_null", t, s.TAG_TYPE),
        _is_true("tag_paragraph_in_batch", t, DERIVED_PARAGRAPH_IN_BATCH, None),
        _is_true("span_inside_paragraph", t, DERIVED_SPAN_INSIDE, _span_inside_paragraph()),
    ]
    # One check per tag type, so a failure's name says which vocabulary was left.
    known = [tt for tt in s.TAG_TYPES if tt in vocabulary]
    extra = sorted(tt for tt in vocabulary if tt not in s.TAG_TYPES)
    for tag_type in known + extra:
        values = vocabulary[tag_type]
        if values is None:  # open vocabulary (persons, say): nothing to check against
            continue
        checks.append(
            _is_true(
                f"tag_value_in_vocabulary[{tag_type}]",
                t,
                f"in_vocabulary[{tag_type}]",
                _in_vocabulary(tag_type, values),
            )
        )
    return Suite("paragraphs_suite_v4", tuple(checks))


def batch_suite_v4(
    *,
    max_quarantined_share: float,
    max_numeric_share: float,
    max_markup_share: float,
    max_duplicate_file_share: float,
    max_empty_share: float,
    max_mojibake_share: float,
    max_repeated_share: float,
    max_repeated_share_rise: float,
    paragraph_length_ratio: tuple[float, float],
    max_language_shift: float,
) -> Suite:
    """Shape of the batch, alone and against the last published batches: a feed that turns to
    garbage, boilerplate or repeats fails the batch, with the metric that moved named; one
    that turns to tables or to HTML is flagged."""
    b = FRAME_BATCH

    def at_most(name: str, column: str, limit: float, severity: Severity, what: str) -> Check:
        return Check(
            name,
            b,
            "ExpectColumnValuesToBeBetween",
            severity,
            {"column": column, "min_value": 0.0, "max_value": limit},
            description=what,
        )

    low, high = paragraph_length_ratio
    return Suite(
        "batch_suite_v4",
        (
            at_most(
                "quarantined_share_at_most_max",
                QUARANTINED_SHARE,
                max_quarantined_share,
                "fail",
                "too many of the batch's files were set aside (unreadable, undecodable, empty, "
                "failed an article check)",
            ),
            at_most(
                "numeric_article_share_at_most_max",
                NUMERIC_SHARE,
                max_numeric_share,
                "warn",
                "most articles of the batch are mostly digits (tables, results, market "
                "reports): loaded and tagged numeric_table, but a feed of prose that turns to "
                "numbers is worth a look",
            ),
            # warn, not fail: paragraphs with inline elements load unchanged and are tagged
            # markup, and the runnable kind is set aside by articles' no_active_content.
            at_most(
                "markup_paragraph_share_at_most_max",
                MARKUP_SHARE,
                max_markup_share,
                "warn",
                "many new paragraphs hold HTML elements (bold, links, closing p tags): loaded "
                "and tagged markup, but a feed of plain text that turns to HTML is worth a look",
            ),
            at_most(
                "duplicate_file_share_at_most_max",
                DUPLICATE_SHARE,
                max_duplicate_file_share,
                "warn",
                "most files of the batch are byte-for-byte copies of files already seen",
            ),
            at_most(
                "empty_article_share_at_most_max",
                EMPTY_SHARE,
                max_empty_share,
                "fail",
                "too many new files hold no paragraph at all: the feed delivers empty pages",
            ),
            at_most(
                "mojibake_share_at_most_max",
                MOJIBAKE_SHARE,
                max_mojibake_share,
                "fail",
                "too many new files are mis-decoded text (mojibake): the feed's encoding changed",
            ),
            at_most(
                "repeated_paragraph_share_at_most_max",
                REPEATED_SHARE,
                max_repeated_share,
                "fail",
                "most paragraphs of the batch repeat paragraphs already seen: the feed delivers "
                "boilerplate",
            ),
            Check(
                "repeated_paragraph_share_near_history",
                b,
                "ExpectColumnValuesToBeBetween",
                "fail",
                {"column": REPEATED_SHARE_RISE, "max_value": max_repeated_share_rise},
                description=(
                    "the share of repeated paragraphs rose sharply against the last published "
                    "batches: boilerplate or a feed replaying old stories"
                ),
            ),
            Check(
                "mean_paragraph_length_near_history",
                b,
                "ExpectColumnValuesToBeBetween",
                "fail",
                {"column": PARAGRAPH_LENGTH_RATIO, "min_value": low, "max_value": high},
                description=(
                    "mean paragraph length moved far from the last published batches "
                    "(ratio to their mean): the splitting or the feed changed"
                ),
            ),
            Check(
                "language_mix_near_history",
                b,
                "ExpectColumnValuesToBeBetween",
                "warn",
                {"column": LANGUAGE_SHIFT, "min_value": 0.0, "max_value": max_language_shift},
                description=(
                    "the mix of article languages differs from the last published batches "
                    "(total variation distance of the language shares)"
                ),
            ),
        ),
    )
