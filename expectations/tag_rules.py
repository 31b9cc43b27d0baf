"""The gate's checks on tags, evaluated with Polars alone, for tags that never pass through the
gate: `nutgraf retag` adds tags to paragraphs stored long ago.

The checks are the paragraphs suite's own (:func:`expectations.suites.paragraphs_suite_v4`,
those on the tags frame that fail or quarantine), so a rule changed there holds here too. A
check is evaluated by its kind: values in a set (derived booleans included), values not null,
compound keys unique. A tags check of another kind raises, rather than pass unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from expectations import suites as q
from transforms import schema as s

CHECK = "check"  # the name of the check a tag fails


def find_invalid_tags(
    tags: pl.DataFrame,
    paragraphs: pl.DataFrame,
    *,
    vocabulary: Mapping[str, frozenset[str] | None],
) -> pl.DataFrame:
    """TAGS + the tagged paragraphs (PARAGRAPH_HASH, TEXT) -> PARAGRAPH_HASH, TAG_TYPE,
    TAG_VALUE, SPAN_START, SPAN_END, CHECK: one row per tag and check it fails."""
    lengths = paragraphs.select(
        s.PARAGRAPH_HASH,
        pl.col(s.TEXT).str.len_chars().alias(q.PARAGRAPH_N_CHARS),
        pl.lit(True).alias(q.DERIVED_PARAGRAPH_IN_BATCH),
    ).unique(s.PARAGRAPH_HASH)
    frame = tags.join(lengths, on=s.PARAGRAPH_HASH, how="left", maintain_order="left")
    frame = frame.with_columns(pl.col(q.DERIVED_PARAGRAPH_IN_BATCH).fill_null(False))
    # The length bounds are paragraph checks, not tag checks: any values do.
    suite = q.paragraphs_suite_v4(
        vocabulary=vocabulary, min_paragraph_chars=1, max_paragraph_chars=2
    )
    failed = [
        frame.filter(~_passes(check)).select(
            s.PARAGRAPH_HASH,
            s.TAG_TYPE,
            s.TAG_VALUE,
            s.SPAN_START,
            s.SPAN_END,
            pl.lit(f"{suite.name}.{check.name}").alias(CHECK),
        )
        for check in suite.checks
        if check.frame == q.FRAME_TAGS and check.severity != "warn"
    ]
    return pl.concat(failed)


def _passes(check: q.Check) -> pl.Expr:
    """True on the rows of the tags frame that meet `check`."""
    kwargs = check.kwargs
    if check.expectation == "ExpectColumnValuesToBeInSet":
        column = pl.col(kwargs["column"]) if check.derive is None else check.derive
        # Like GX, a null is not checked against the set (a not-null check catches it).
        return column.is_in(list(kwargs["value_set"])) | column.is_null()
    if check.expectation == "ExpectColumnValuesToNotBeNull":
        return pl.col(kwargs["column"]).is_not_null()
    raise NotImplementedError(
        f"check {check.name} ({check.expectation}) has no Polars form in expectations/tag_rules.py"
    )
