"""The quality gate on literal micro-batches: real Great Expectations validations, no mocks."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from expectations.gate import DQ_RESULTS, GateBatch, GateResult, Thresholds, run_gate
from expectations.report import write_report
from expectations.suites import Check, Suite
from transforms import schema as s

SCRIPT = "<script>alert(1)</script>"
VOCABULARY: dict[str, frozenset[str] | None] = {
    "topic": frozenset({"politics", "economy"}),
    "language": frozenset({"en", "de"}),
    "person": None,  # open vocabulary: not checked
}
ARTICLE_COLUMNS = pl.Schema(
    {
        **{k: v for k, v in s.ARTICLES.items() if k != s.TEXT},
        s.LANGUAGE: pl.String,
        s.N_CHARS: pl.Int64,
        s.N_PARAGRAPHS: pl.Int32,
        s.LETTER_SHARE: pl.Float64,
        s.HAS_WORDS: pl.Boolean,
        s.MOJIBAKE_MARKS: pl.Int64,
        s.GARBAGE_MARKS: pl.Int64,
        s.ACTIVE_MARKS: pl.Int64,
        s.TITLE_EXPECTED: pl.Boolean,
    }
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


H1, H2, H3 = sha("Moscow said on Monday."), sha("Prices rose."), sha("Reuters")


def clean_batch() -> GateBatch:
    """Two articles: a1 has three paragraphs (the third repeats the first), a2 syndicates H2."""
    articles = pl.DataFrame(
        {
            s.ARTICLE_ID: ["a1", "a2"],
            s.ARTICLE_KEY: ["k1", "k2"],
            s.VERSION: [1, 1],
            s.PATH: ["one.txt", "two.txt"],
            s.SHA256: [sha("file one"), sha("file two")],
            s.TITLE: ["One", "Two"],
            s.ENCODING: ["utf-8", "cp1252"],
            s.LANGUAGE: ["en", "en"],
            s.N_CHARS: [60, 12],
            s.N_PARAGRAPHS: [3, 1],
            s.LETTER_SHARE: [0.8, 0.75],
            s.HAS_WORDS: [True, True],
            s.MOJIBAKE_MARKS: [0, 0],
            s.GARBAGE_MARKS: [0, 0],
            s.ACTIVE_MARKS: [0, 0],
            s.TITLE_EXPECTED: [True, True],
            s.PUBLISHED_AT: [datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)],
        }
    )
    articles = articles.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in ARTICLE_COLUMNS.items()
        if name not in articles.columns
    ).pipe(s.conform, ARTICLE_COLUMNS)
    occurrences = pl.DataFrame(
        {
            s.ARTICLE_ID: ["a1", "a1", "a1", "a2"],
            s.POSITION: [0, 1, 2, 0],
            s.PARAGRAPH_HASH: [H1, H2, H1, H2],
            s.CHAR_START: [0, 24, 38, 0],
            s.CHAR_END: [22, 36, 60, 12],
            s.KIND: [s.KIND_FIRST, s.KIND_FIRST, s.KIND_REPEAT, s.KIND_CORPUS],
            s.REPEAT_OF: [None, None, 0, None],
        },
        schema=s.OCCURRENCES,
    )
    paragraphs = pl.DataFrame(
        {
            s.PARAGRAPH_HASH: [H1, H2],
            s.TEXT: ["Moscow said on Monday.", "Prices rose."],
            s.N_CHARS: [22, 12],
            s.N_WORDS: [4, 2],
            s.ARTICLE_ID: ["a1", "a1"],
            s.LANGUAGE: ["en", "en"],
        },
        schema=s.PARAGRAPHS,
    )
    tags = pl.DataFrame(
        {
            s.PARAGRAPH_HASH: [H1, H1, H1, H2],
            s.TAG_TYPE: ["place", "topic", "language", "topic"],
            s.TAG_VALUE: ["Moscow", "politics", "en", "economy"],
            s.TAG_DETAIL: ["city", None, None, None],
            s.COUNTRY: ["RU", None, None, None],
            s.SPAN_START: [0, None, None, None],
            s.SPAN_END: [6, None, None, None],
            s.SURFACE: ["Moscow", None, None, None],
            s.SCORE: [1.0, 0.8, 0.99, 0.7],
            s.TAGGER: ["places", "topics", "language", "topics"],
            s.TAGGER_VERSION: ["places_v1", "topics_v1", "language_v1", "topics_v1"],
        },
        schema=s.TAGS,
    )
    return GateBatch(
        run_id="run-1",
        articles=articles,
        occurrences=occurrences,
        paragraphs=paragraphs,
        tags=tags,
        n_files=4,
        n_quarantined=1,
        n_duplicate_files=1,
    )


def with_frame(batch: GateBatch, name: str, edit: Callable[[pl.DataFrame], pl.DataFrame]):
    return dataclasses.replace(batch, **{name: edit(getattr(batch, name))})


def row_of(result: GateResult, expectation: str) -> dict:
    rows = result.results.filter(pl.col("expectation") == expectation).to_dicts()
    assert len(rows) == 1, f"expected one row for {expectation}, got {len(rows)}"
    return rows[0]


def test_clean_batch_passes():
    result = run_gate(clean_batch(), vocabulary=VOCABULARY)

    assert result.success, result.results.filter(~pl.col("success"))
    assert result.failed == []
    assert result.quarantine_article_ids == []
    assert result.results.schema == DQ_RESULTS
    assert result.results["success"].all()
    names = set(result.results["expectation"])
    # one vocabulary row per closed tag type, none for the open one
    assert {"tag_value_in_vocabulary[topic]", "tag_value_in_vocabulary[language]"} <= names
    assert not any("[person]" in n for n in names)
    assert set(result.results["suite"]) == {
        "articles_suite_v4",
        "paragraphs_suite_v4",
        "batch_suite_v4",
    }


VIOLATIONS = {
    "null article_id": (
        "articles",
        lambda f: f.with_columns(
            pl.when(pl.col(s.PATH) == "two.txt")
            .then(None)
            .otherwise(pl.col(s.ARTICLE_ID))
            .alias(s.ARTICLE_ID)
        ),
        {"articles_suite_v4.article_id_not_null"},
    ),
    "duplicate article_id": (
        "articles",
        lambda f: f.with_columns(pl.lit("a1").alias(s.ARTICLE_ID)),
        {"articles_suite_v4.article_id_unique"},
    ),
    "duplicate occurrence key": (
        "occurrences",
        lambda f: pl.concat([f, f.head(1)]),
        {"paragraphs_suite_v4.occurrence_key_unique", "paragraphs_suite_v4.positions_contiguous"},
    ),
    "non-contiguous positions": (
        "occurrences",
        lambda f: f.with_columns(
            pl.when(pl.col(s.POSITION) == 2).then(3).otherwise(pl.col(s.POSITION)).alias(s.POSITION)
        ),
        {"paragraphs_suite_v4.positions_contiguous"},
    ),
    "positions not from zero": (
        "occurrences",
        lambda f: f.with_columns(
            pl.when(pl.col(s.ARTICLE_ID) == "a2")
            .then(1)
            .otherwise(pl.col(s.POSITION))
            .alias(s.POSITION)
        ),
        {"paragraphs_suite_v4.positions_contiguous"},
    ),
    "char_start not before char_end": (
        "occurrences",
        lambda f: f.with_columns(pl.col(s.CHAR_START).alias(s.CHAR_END)),
        {"paragraphs_suite_v4.char_start_before_char_end"},
    ),
    "unknown occurrence kind": (
        "occurrences",
        lambda f: f.with_columns(pl.lit("near").alias(s.KIND)),
        {"paragraphs_suite_v4.kind_in_set"},
    ),
    "repeat pointing at a later position": (
        "occurrences",
        lambda f: f.with_columns(
            pl.when(pl.col(s.KIND) == s.KIND_REPEAT)
            .then(2)
            .otherwise(pl.col(s.REPEAT_OF))
            .alias(s.REPEAT_OF)
        ),
        {"paragraphs_suite_v4.repeat_points_back"},
    ),
    "null paragraph_hash": (
        "paragraphs",
        lambda f: f.with_columns(pl.lit(None, pl.String).alias(s.PARAGRAPH_HASH)),
        {
            "paragraphs_suite_v4.paragraph_hash_not_null",
            "paragraphs_suite_v4.tag_paragraph_in_batch",
            "paragraphs_suite_v4.span_inside_paragraph",
        },
    ),
    "duplicate paragraph_hash": (
        "paragraphs",
        lambda f: pl.concat([f, f.tail(1)]),
        {"paragraphs_suite_v4.paragraph_hash_unique"},
    ),
    "paragraph hash not sha256 hex": (
        "paragraphs",
        lambda f: f.with_columns(pl.col(s.PARAGRAPH_HASH).str.to_uppercase()),
        {
            "paragraphs_suite_v4.paragraph_hash_is_hex",
            "paragraphs_suite_v4.tag_paragraph_in_batch",
            "paragraphs_suite_v4.span_inside_paragraph",
        },
    ),
    "paragraph too long": (
        "paragraphs",
        lambda f: f.with_columns(pl.lit(20_001, pl.Int32).alias(s.N_CHARS)),
        {"paragraphs_suite_v4.paragraph_length_in_range"},
    ),
    "paragraph empty": (
        "paragraphs",
        lambda f: f.with_columns(pl.lit(0, pl.Int32).alias(s.N_CHARS), pl.lit("").alias(s.TEXT)),
        {
            "paragraphs_suite_v4.paragraph_length_in_range",
            "paragraphs_suite_v4.span_inside_paragraph",
        },
    ),
    "duplicate tag key (whole-paragraph tag)": (
        "tags",
        lambda f: pl.concat([f, f.tail(1)]),
        {"paragraphs_suite_v4.tag_key_unique"},
    ),
    "span past the paragraph end": (
        "tags",
        lambda f: f.with_columns(
            pl.when(pl.col(s.TAG_TYPE) == "place")
            .then(23)
            .otherwise(pl.col(s.SPAN_END))
            .alias(s.SPAN_END)
        ),
        {"paragraphs_suite_v4.span_inside_paragraph"},
    ),
    "span with only a start": (
        "tags",
        lambda f: f.with_columns(pl.lit(None, pl.Int32).alias(s.SPAN_END)),
        {"paragraphs_suite_v4.span_inside_paragraph"},
    ),
    "tag on a hash outside the batch": (
        "tags",
        lambda f: f.with_columns(pl.lit(H3).alias(s.PARAGRAPH_HASH)).head(1),
        {"paragraphs_suite_v4.tag_paragraph_in_batch", "paragraphs_suite_v4.span_inside_paragraph"},
    ),
    "unknown tag type": (
        "tags",
        lambda f: f.with_columns(pl.lit("mood").alias(s.TAG_TYPE)),
        {"paragraphs_suite_v4.tag_type_in_set"},
    ),
    "tag value outside its vocabulary": (
        "tags",
        lambda f: f.with_columns(
            pl.when(pl.col(s.TAG_VALUE) == "economy")
            .then(pl.lit(SCRIPT))
            .otherwise(pl.col(s.TAG_VALUE))
            .alias(s.TAG_VALUE)
        ),
        {"paragraphs_suite_v4.tag_value_in_vocabulary[topic]"},
    ),
}


@pytest.mark.parametrize("case", list(VIOLATIONS), ids=list(VIOLATIONS))
def test_violation_fails_the_right_expectation(case):
    frame, edit, expected = VIOLATIONS[case]

    result = run_gate(with_frame(clean_batch(), frame, edit), vocabulary=VOCABULARY)

    assert not result.success
    assert set(result.failed) == expected
    for name in expected:
        row = row_of(result, name.split(".", 1)[1])
        assert row["severity"] == "fail"
        assert row["success"] is False
        assert row["unexpected_count"] >= 1
        assert json.loads(row["examples"]), f"{name} failed without examples"


def test_names_read_from_the_text_are_outside_any_vocabulary_check():
    # a topic value no vocabulary holds passes only when its detail says it was read from
    # the text (as a capitalised place "Grace Road" is); the same value from a list fails
    def edit(detail):
        return lambda f: f.with_columns(
            pl.when(pl.col(s.TAG_VALUE) == "economy")
            .then(pl.lit("Grace Road"))
            .otherwise(pl.col(s.TAG_VALUE))
            .alias(s.TAG_VALUE),
            pl.when(pl.col(s.TAG_VALUE) == "economy")
            .then(pl.lit(detail))
            .otherwise(pl.col(s.TAG_DETAIL))
            .alias(s.TAG_DETAIL),
        )

    free = run_gate(with_frame(clean_batch(), "tags", edit("capitalised")), vocabulary=VOCABULARY)
    listed = run_gate(with_frame(clean_batch(), "tags", edit("gazetteer")), vocabulary=VOCABULARY)

    assert free.success
    assert listed.failed == ["paragraphs_suite_v4.tag_value_in_vocabulary[topic]"]


def test_examples_point_at_offending_rows():
    batch = with_frame(clean_batch(), "occurrences", VIOLATIONS["non-contiguous positions"][1])

    row = row_of(run_gate(batch, vocabulary=VOCABULARY), "positions_contiguous")

    examples = json.loads(row["examples"])
    assert row["unexpected_count"] == 3  # every row of the offending article a1
    assert {e[s.ARTICLE_ID] for e in examples} == {"a1"}
    assert json.loads(row["observed"])["element_count"] == 4


def test_gx_does_not_fingerprint_the_frames_it_validates():
    # GX hashes every cell of a batch under 1 GB only to label the result: off for the gate.
    import pandas as pd

    from expectations.gate import _gx

    _, definition = _gx()
    batch = definition.get_batch(batch_parameters={"dataframe": pd.DataFrame({"a": [1, 2]})})

    assert "pandas_data_fingerprint" not in batch.batch_markers
    assert "ge_load_time" in batch.batch_markers


def test_quarantined_share_above_max_fails_the_batch():
    batch = dataclasses.replace(clean_batch(), n_files=10, n_quarantined=6)
    thresholds = Thresholds(max_quarantined_share=0.5)

    result = run_gate(batch, vocabulary=VOCABULARY, thresholds=thresholds)

    assert result.failed == ["batch_suite_v4.quarantined_share_at_most_max"]
    assert json.loads(row_of(result, "quarantined_share_at_most_max")["observed"])["value"] == 0.6


@pytest.mark.parametrize(
    ("batch", "expectation"),
    [
        (
            with_frame(
                clean_batch(),
                "articles",
                lambda f: f.with_columns(pl.lit(None, pl.String).alias(s.LANGUAGE)),
            ),
            "language_present",
        ),
        (
            dataclasses.replace(clean_batch(), n_files=20, n_duplicate_files=19, n_quarantined=0),
            "duplicate_file_share_at_most_max",
        ),
        (
            with_frame(
                clean_batch(),
                "articles",
                lambda f: f.with_columns(
                    pl.lit(datetime.now(UTC) + timedelta(days=3)).alias(s.PUBLISHED_AT)
                ),
            ),
            "published_at_not_in_future",
        ),
    ],
    ids=["language missing", "mostly duplicate files", "dated ahead of the clock"],
)
def test_warn_failure_does_not_fail_the_gate(batch, expectation):
    result = run_gate(batch, vocabulary=VOCABULARY)

    assert result.success
    assert result.failed == []
    row = row_of(result, expectation)
    assert (row["severity"], row["success"]) == ("warn", False)


def test_empty_batch_passes():
    batch = clean_batch()
    empty = GateBatch(
        run_id="run-empty",
        articles=batch.articles.clear(),
        occurrences=batch.occurrences.clear(),
        paragraphs=batch.paragraphs.clear(),
        tags=batch.tags.clear(),
        n_files=0,
        n_quarantined=0,
        n_duplicate_files=0,
    )

    result = run_gate(empty, vocabulary=VOCABULARY)

    assert result.success, result.results.filter(~pl.col("success"))
    assert result.results.height > 0


def test_only_new_paragraphs_in_batch_passes():
    """Occurrences of corpus paragraphs, but no new paragraphs or tags: nothing to fail."""
    batch = clean_batch()
    batch = dataclasses.replace(batch, paragraphs=batch.paragraphs.clear(), tags=batch.tags.clear())

    assert run_gate(batch, vocabulary=VOCABULARY).success


def test_quarantine_check_names_offending_articles_and_publishes_the_rest():
    suite = Suite(
        "custom_suite_v1",
        (
            Check(
                "title_present",
                "articles",
                "ExpectColumnValuesToNotBeNull",
                "quarantine",
                {"column": s.TITLE},
            ),
        ),
    )
    batch = with_frame(
        clean_batch(),
        "articles",
        lambda f: f.with_columns(
            pl.when(pl.col(s.ARTICLE_ID) == "a2")
            .then(None)
            .otherwise(pl.col(s.TITLE))
            .alias(s.TITLE)
        ),
    )

    result = run_gate(batch, vocabulary=VOCABULARY, suites=[suite])

    assert result.success
    assert result.quarantine_article_ids == ["a2"]


def test_check_that_cannot_run_fails_with_the_error():
    suite = Suite(
        "custom_suite_v1",
        (
            Check(
                "no_such_column_present",
                "articles",
                "ExpectColumnValuesToNotBeNull",
                "fail",
                {"column": "no_such_column"},
            ),
        ),
    )

    result = run_gate(clean_batch(), vocabulary=VOCABULARY, suites=[suite])

    assert result.failed == ["custom_suite_v1.no_such_column_present"]
    observed = json.loads(row_of(result, "no_such_column_present")["observed"])
    assert "no_such_column" in observed["error"]


def test_report_lists_checks_and_escapes_data(tmp_path: Path):
    batch = with_frame(clean_batch(), "tags", VIOLATIONS["tag value outside its vocabulary"][1])
    result = run_gate(batch, vocabulary=VOCABULARY)
    summary = {
        "status": "gate_failed",
        "files_seen": 4,
        "articles": 2,
        "occurrences_by_kind": {"first": 2, "repeat": 1, "corpus": 1},
    }

    path = write_report(result, run_id="run-1", report_dir=tmp_path / "reports", summary=summary)

    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "reports" / "run-1.html"
    assert "GATE FAILED" in page
    for name in result.results["expectation"]:
        assert name in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    assert page.index("tag_value_in_vocabulary[topic]") < page.index("All checks")
    assert "http://" not in page and "https://" not in page  # self-contained
    twin = json.loads((tmp_path / "reports" / "run-1.json").read_text(encoding="utf-8"))
    assert twin["status"] == "gate_failed"
    assert twin["failed"] == ["paragraphs_suite_v4.tag_value_in_vocabulary[topic]"]
    assert len(twin["results"]) == result.results.height


def test_report_of_a_passing_run(tmp_path: Path):
    result = run_gate(clean_batch(), vocabulary=VOCABULARY)

    page = write_report(result, run_id="run-2", report_dir=tmp_path, summary={}).read_text()

    assert "PASSED" in page and "GATE FAILED" not in page


def test_gate_is_quiet_and_leaves_warnings_alone(capfd):
    run_gate(clean_batch(), vocabulary=VOCABULARY)  # the first call may pay for the import
    capfd.readouterr()

    run_gate(clean_batch(), vocabulary=VOCABULARY)

    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in err
    assert err == "" and out == ""
    # GX turns on logging.captureWarnings(True) at import, which would route every later warning
    # to the logging system; the gate turns it off again (logging keeps the hook in this attr).
    assert getattr(logging, "_warnings_showwarning", None) is None


def test_importing_the_package_does_not_import_great_expectations():
    code = (
        "import sys, expectations, expectations.gate, expectations.report, expectations.suites;"
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "False"


def _history(batches: int, **values: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "metric": list(values),
            "value": list(values.values()),
            "batches": [batches] * len(values),
        }
    )


def test_batch_shape_is_compared_with_the_last_published_batches():
    """Mean paragraph length (17 characters here) against a history of 170: fails; the
    language mix (all en) against a history of all fr: a warning only."""
    history = _history(
        5, mean_paragraph_chars=170.0, repeated_paragraph_share=0.5, **{"language_share:fr": 1.0}
    )
    batch = dataclasses.replace(clean_batch(), history=history)

    result = run_gate(batch, vocabulary=VOCABULARY, thresholds=Thresholds(min_shape_files=1))

    assert result.failed == ["batch_suite_v4.mean_paragraph_length_near_history"]
    ratio = json.loads(row_of(result, "mean_paragraph_length_near_history")["observed"])
    assert ratio["value"] == pytest.approx(17 / 170)
    assert ratio["baseline"] == 170.0
    shift = row_of(result, "language_mix_near_history")
    assert not shift["success"] and shift["severity"] == "warn"
    assert json.loads(shift["observed"])["value"] == pytest.approx(1.0)
    assert row_of(result, "repeated_paragraph_share_near_history")["success"]


def test_too_little_history_or_too_few_files_is_not_judged():
    history = _history(2, mean_paragraph_chars=170.0)  # fewer than min_history_batches
    batch = dataclasses.replace(clean_batch(), history=history)

    result = run_gate(batch, vocabulary=VOCABULARY)  # 4 files: under min_shape_files

    assert result.success
    for name in ("mean_paragraph_length_near_history", "repeated_paragraph_share_at_most_max"):
        observed = json.loads(row_of(result, name)["observed"])
        assert observed["value"] is None and "not judged" in observed["note"]


@pytest.mark.parametrize(
    ("column", "value", "reason", "rule"),
    [
        (s.MOJIBAKE_MARKS, 5, "dq_mojibake", "articles_suite_v4.decodes_cleanly"),
        (s.HAS_WORDS, False, "dq_no_words", "articles_suite_v4.has_words"),
        (s.GARBAGE_MARKS, 3, "dq_garbage", "articles_suite_v4.no_control_characters"),
        (s.ACTIVE_MARKS, 1, "dq_active_content", "articles_suite_v4.no_active_content"),
        (s.N_CHARS, 0, "dq_size_out_of_bounds", "articles_suite_v4.size_in_bounds"),
        (s.N_PARAGRAPHS, 0, "empty", "articles_suite_v4.not_empty_after_splitting"),
    ],
)
def test_article_checks_set_the_offending_article_aside(column, value, reason, rule):
    batch = with_frame(
        clean_batch(),
        "articles",
        lambda f: f.with_columns(
            pl.when(pl.col(s.ARTICLE_ID) == "a2")
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .cast(f.schema[column])
            .alias(column)
        ),
    )

    result = run_gate(batch, vocabulary=VOCABULARY, thresholds=Thresholds(min_article_chars=1))

    assert result.success
    assert result.quarantined.select(s.ARTICLE_ID, s.REASON, s.RULE).rows() == [
        ("a2", reason, rule)
    ]


def test_a_markup_paragraph_sets_aside_every_article_holding_it():
    batch = with_frame(
        clean_batch(),
        "paragraphs",
        lambda f: f.with_columns(
            pl.when(pl.col(s.PARAGRAPH_HASH) == H2)
            .then(pl.lit('<div class="ad"></div>'))
            .otherwise(pl.col(s.TEXT))
            .alias(s.TEXT)
        ),
    )

    result = run_gate(batch, vocabulary=VOCABULARY)

    assert result.success
    assert result.quarantine_article_ids == ["a1", "a2"]  # both hold H2
    assert set(result.quarantined[s.REASON]) == {"dq_pure_markup"}


def test_an_exchange_ticker_on_a_line_of_its_own_is_no_markup():
    batch = with_frame(
        clean_batch(),
        "paragraphs",
        lambda f: f.with_columns(
            pl.when(pl.col(s.PARAGRAPH_HASH) == H2)
            .then(pl.lit("<GREX.L> <BAC>"))
            .otherwise(pl.col(s.TEXT))
            .alias(s.TEXT)
        ),
    )

    result = run_gate(batch, vocabulary=VOCABULARY)

    assert result.success and result.quarantine_article_ids == []


def test_an_unknown_language_code_fails_the_batch():
    batch = with_frame(
        clean_batch(), "paragraphs", lambda f: f.with_columns(pl.lit("xx").alias(s.LANGUAGE))
    )

    result = run_gate(batch, vocabulary=VOCABULARY)

    assert result.failed == ["paragraphs_suite_v4.language_code_valid"]


def test_a_sharp_rise_in_repeated_paragraphs_fails_the_batch():
    """The clean batch repeats 2 of its 4 occurrences; history repeated none."""
    batch = dataclasses.replace(
        clean_batch(), history=_history(5, repeated_paragraph_share=0.0, mean_paragraph_chars=17.0)
    )

    result = run_gate(batch, vocabulary=VOCABULARY, thresholds=Thresholds(min_shape_files=1))

    assert result.failed == ["batch_suite_v4.repeated_paragraph_share_near_history"]
    observed = json.loads(row_of(result, "repeated_paragraph_share_near_history")["observed"])
    assert observed["value"] == pytest.approx(0.5) and observed["baseline"] == 0.0


def test_an_article_of_numbers_is_news_counted_not_set_aside():
    # An earnings table or an index report: few letters, every one of them real text.
    numeric = with_frame(
        clean_batch(), "articles", lambda f: f.with_columns(pl.lit(0.1).alias(s.LETTER_SHARE))
    )

    result = run_gate(numeric, vocabulary=VOCABULARY, thresholds=Thresholds(min_shape_files=1))

    assert result.success
    assert result.quarantined.is_empty()
    assert result.batch_shape is not None
    assert result.batch_shape["numeric_article_share"] == 1.0
    flagged = row_of(result, "numeric_article_share_at_most_max")
    assert flagged["severity"] == "warn" and not flagged["success"]
    half = with_frame(
        numeric,
        "articles",
        lambda f: f.with_columns(
            pl.when(pl.col(s.ARTICLE_ID) == "a1").then(0.9).otherwise(0.1).alias(s.LETTER_SHARE)
        ),
    )
    shape = run_gate(half, vocabulary=VOCABULARY, thresholds=Thresholds(min_shape_files=1))
    assert shape.batch_shape is not None and shape.batch_shape["numeric_article_share"] == 0.5
    assert row_of(shape, "numeric_article_share_at_most_max")["success"]


def _markup_tag(paragraph_hash: str, element: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            s.PARAGRAPH_HASH: [paragraph_hash],
            s.TAG_TYPE: ["quality"],
            s.TAG_VALUE: [s.MARKUP],
            s.TAG_DETAIL: [element],
            s.TAGGER: ["quality"],
            s.TAGGER_VERSION: ["quality_v3"],
        }
    ).pipe(lambda f: f.with_columns(pl.lit(None).alias(n) for n in s.TAGS if n not in f.columns))


def test_paragraphs_with_inline_markup_are_counted_and_flagged_not_set_aside():
    # H2 holds an inline element: it loads as written, its tag counts in the batch's shape.
    batch = with_frame(
        with_frame(
            clean_batch(),
            "paragraphs",
            lambda f: f.with_columns(
                pl.when(pl.col(s.PARAGRAPH_HASH) == H2)
                .then(pl.lit("Prices <b>rose</b>."))
                .otherwise(pl.col(s.TEXT))
                .alias(s.TEXT)
            ),
        ),
        "tags",
        lambda f: pl.concat([f, _markup_tag(H2, "b").pipe(s.conform, s.TAGS)]),
    )

    result = run_gate(batch, vocabulary=VOCABULARY, thresholds=Thresholds(min_shape_files=1))

    assert result.success
    assert result.quarantined.is_empty()
    assert result.batch_shape is not None
    assert result.batch_shape["markup_paragraph_share"] == 0.5  # one of two new paragraphs
    flagged = row_of(result, "markup_paragraph_share_at_most_max")
    assert flagged["severity"] == "warn" and not flagged["success"]
    assert row_of(
        run_gate(clean_batch(), vocabulary=VOCABULARY), "markup_paragraph_share_at_most_max"
    )["success"]


def test_a_batch_of_a_few_files_is_not_failed_by_their_share():
    # Three files, all set aside (a run's tail, or files released and still bad): each file is
    # judged alone; a share of three is no trend, and failing it would hold them for ever.
    batch = dataclasses.replace(clean_batch(), n_files=3, n_quarantined=3, n_duplicate_files=0)

    result = run_gate(batch, vocabulary=VOCABULARY)

    assert result.success
    observed = json.loads(row_of(result, "quarantined_share_at_most_max")["observed"])
    assert observed["value"] is None and "not judged" in observed["note"]
