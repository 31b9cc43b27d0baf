"""The span model: its candidates, its weights file and the check that guards it."""

from __future__ import annotations

import json

import polars as pl
import pytest

from transforms.errors import ModelMismatch
from transforms.gazetteer import load_gazetteer
from transforms.names import capitalised_runs, load_name_rules
from transforms.schema import SPAN_END, SPAN_START, SURFACE, TEXT
from transforms.tagging import PERSON_TITLES
from transforms.tagging.spans import (
    BUCKET,
    CLASSES,
    PROVENANCE_FILE,
    WEIGHTS_FILE,
    candidate_spans,
    classify_spans,
    load_span_model,
    span_features,
)


def frame(*paragraphs: str) -> pl.DataFrame:
    return pl.DataFrame({"_row": list(range(len(paragraphs))), TEXT: list(paragraphs)})


def test_candidates_are_the_runs_word_spans_with_their_offsets():
    text = "Then U.S. envoy Bank of England met Carl Icahn's men."
    runs = capitalised_runs(frame(text), load_name_rules(PERSON_TITLES))
    spans = candidate_spans(runs)
    surfaces = [text[start:end] for start, end in spans.select(SPAN_START, SPAN_END).iter_rows()]
    # spans start and end with a capitalised word; "Icahn's" loses its possessive
    assert sorted(surfaces) == sorted(
        ["U.S.", "Bank", "England", "Bank of England", "Carl", "Icahn", "Carl Icahn"]
    )


def test_every_span_has_every_feature_bucket():
    texts = frame("Leeds 2 Hull 1", "Mr Smith of Acme Corp said so.")
    rules = load_name_rules(PERSON_TITLES)
    spans = candidate_spans(capitalised_runs(texts, rules))
    features = span_features(spans, texts, rules, load_gazetteer())
    assert features.height == spans.height
    assert features.null_count().sum_horizontal().item() == 0  # absence is a bucket too


def test_the_weights_file_holds_numbers_only():
    weights = pl.read_parquet(WEIGHTS_FILE)
    assert weights.columns == [BUCKET, *CLASSES]
    assert all(dtype.is_numeric() for dtype in weights.dtypes)
    provenance = json.loads(PROVENANCE_FILE.read_text(encoding="utf-8"))
    assert provenance["trained_on"] == "CoNLL-2003 eng.train"


def test_weights_trained_with_another_hash_are_refused(tmp_path):
    provenance = json.loads(PROVENANCE_FILE.read_text(encoding="utf-8"))
    provenance["probes"] = [0, 1, 2]
    changed = tmp_path / "span_model.json"
    changed.write_text(json.dumps(provenance), encoding="utf-8")
    with pytest.raises(ModelMismatch, match="retrain"):
        load_span_model(WEIGHTS_FILE, changed)
    with pytest.raises(ModelMismatch, match="missing"):
        load_span_model(tmp_path / "absent.parquet", changed)


def test_overlapping_spans_keep_the_one_the_model_is_surest_of():
    texts = frame("U.S. President Bill Clinton spoke.")
    rules = load_name_rules(PERSON_TITLES)
    found = classify_spans(capitalised_runs(texts, rules), texts, rules, load_gazetteer())
    kept = found.sort(SPAN_START).select(SPAN_START, SPAN_END).rows()
    assert all(end <= start for (_, end), (start, _) in zip(kept, kept[1:], strict=False))
    assert "Bill Clinton" in found[SURFACE].to_list()


def test_paragraphs_without_capitals_give_no_spans():
    texts = frame("nothing capitalised here.", "")
    rules = load_name_rules(PERSON_TITLES)
    found = classify_spans(capitalised_runs(texts, rules), texts, rules, load_gazetteer())
    assert found.is_empty()
