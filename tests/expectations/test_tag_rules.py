"""The gate's tag checks without the gate: what `nutgraf retag` holds new tags to."""

from __future__ import annotations

import hashlib

import polars as pl

from expectations.tag_rules import CHECK, find_invalid_tags
from transforms import schema as S
from transforms.gazetteer import load_gazetteer, vocabulary
from transforms.tagging import tag_paragraphs

TEXT = (
    "President Xi Jinping met Vladimir Putin in Moscow on Tuesday as the Kremlin pressed "
    "for closer trade ties and new sanctions loomed over energy exports."
)


def test_the_suite_s_tag_checks_find_what_the_gate_would_refuse():
    gazetteer = load_gazetteer()
    paragraphs = pl.DataFrame(
        {S.PARAGRAPH_HASH: [hashlib.sha256(TEXT.encode()).hexdigest()], S.TEXT: [TEXT]}
    )
    good = tag_paragraphs(
        paragraphs.with_columns(pl.lit("en").alias(S.LANGUAGE)), gazetteer=gazetteer
    )
    assert good.height > 3
    assert find_invalid_tags(good, paragraphs, vocabulary=vocabulary(gazetteer)).is_empty()

    first = good.filter(pl.col(S.TAG_TYPE) == "person").row(0, named=True)
    bad = pl.DataFrame(
        [
            {
                **first,
                S.TAG_TYPE: "topic",
                S.TAG_VALUE: "not-a-topic",
                S.SPAN_START: None,
                S.SPAN_END: None,
            },
            {**first, S.SPAN_START: 0, S.SPAN_END: len(TEXT) + 1},
            {**first, S.TAG_TYPE: "mood"},
            {**first, S.PARAGRAPH_HASH: "0" * 64},
            {**first, S.TAGGER_VERSION: None},
            # a place read from the text itself needs no vocabulary
            {
                **first,
                S.TAG_TYPE: "place",
                S.TAG_VALUE: "Coney Street",
                S.TAG_DETAIL: S.FREE_FORM_DETAILS[0],
            },
        ],
        schema=S.TAGS,
    )
    found = find_invalid_tags(bad, paragraphs, vocabulary=vocabulary(gazetteer))
    checks = {
        (row[S.TAG_TYPE], row[S.PARAGRAPH_HASH][:1], row[CHECK].split(".", 1)[1])
        for row in found.iter_rows(named=True)
    }
    assert checks == {
        ("topic", paragraphs[S.PARAGRAPH_HASH][0][:1], "tag_value_in_vocabulary[topic]"),
        ("person", paragraphs[S.PARAGRAPH_HASH][0][:1], "span_inside_paragraph"),
        ("mood", paragraphs[S.PARAGRAPH_HASH][0][:1], "tag_type_in_set"),
        ("person", "0", "tag_paragraph_in_batch"),
        ("person", "0", "span_inside_paragraph"),
        ("person", paragraphs[S.PARAGRAPH_HASH][0][:1], "tagger_version_not_null"),
    }
    # The same tag twice breaks the tag key.
    twice = find_invalid_tags(pl.concat([good, good.head(1)]), paragraphs, vocabulary={})
    assert set(twice[CHECK]) == {"paragraphs_suite_v4.tag_key_unique"}
