"""The quality gate: run the versioned suites on one batch and say whether it may publish.

Frames arrive as Polars; the gate adds the derived boolean columns some checks need, hands each
frame once to Great Expectations as an arrow-backed pandas frame, and folds the validation
results into one ``dq_results`` row per check. ``great_expectations`` is imported lazily on the
first run (the import is slow) and one ephemeral context is kept per process.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from expectations import suites as q
from expectations.suites import Check, Suite
from transforms import schema as s

log = logging.getLogger(__name__)

DQ_RESULTS = pl.Schema(
    {
        "suite": pl.String,
        "expectation": pl.String,
        "column_name": pl.String,
        "severity": pl.String,
        "success": pl.Boolean,
        "observed": pl.String,  # JSON object
        "unexpected_count": pl.Int64,
        "examples": pl.String,  # JSON list of up to MAX_EXAMPLES examples
    }
)
"""One row per expectation evaluated in a run."""

QUARANTINED = pl.Schema(
    {s.ARTICLE_ID: pl.String, s.REASON: pl.String, s.RULE: pl.String, s.DETAIL: pl.String}
)
"""Articles a quarantine-severity check sets aside: the first failing check's reason each."""

MAX_EXAMPLES = 5
MAX_EXAMPLE_CHARS = 200  # article text can be long; an example only has to be recognisable


@dataclass(frozen=True)
class Thresholds:
    """Limits the suites check against (settings in the app; see flows/settings.py)."""

    min_paragraph_chars: int = 1
    max_paragraph_chars: int = 20_000
    max_quarantined_share: float = 0.5  # share of the batch's files quarantined; fail above
    max_duplicate_file_share: float = 0.9  # share of the batch's files already seen; warn above
    min_letter_share: float = 0.5  # article: fewer letters among its first characters: numeric
    max_numeric_share: float = 0.5  # share of the batch's articles that are numeric; warn above
    max_garbage_marks: int = 2  # article: control/private-use characters tolerated; quarantine
    max_markup_share: float = 0.1  # share of new paragraphs holding HTML elements; warn above
    min_article_chars: int = 1
    max_article_chars: int = 2_000_000
    max_mojibake_marks: int = 2  # article: mis-decoded pairs tolerated; quarantine above
    max_empty_share: float = 0.5  # share of new files with no paragraph; fail above
    max_mojibake_share: float = 0.2  # share of new files mis-decoded; fail above
    max_repeated_share: float = 0.8  # share of occurrences that repeat a known paragraph
    max_repeated_share_rise: float = 0.3  # ... above the history's share; fail above
    paragraph_length_ratio: tuple[float, float] = (0.5, 2.0)  # mean length / history's mean
    max_language_shift: float = 0.5  # total variation distance to the history; warn above
    min_history_batches: int = 3  # fewer published batches than this: no comparison
    min_shape_files: int = 10  # fewer new files than this: no share of them is judged


@dataclass(frozen=True)
class GateBatch:
    """Everything one batch would publish, plus the counts that describe its shape."""

    run_id: str
    articles: pl.DataFrame  # schema.ARTICLES without TEXT, plus LANGUAGE (nullable)
    occurrences: pl.DataFrame  # schema.OCCURRENCES of the batch's articles
    paragraphs: pl.DataFrame  # schema.PARAGRAPHS new to the warehouse
    tags: pl.DataFrame  # schema.TAGS of the new paragraphs
    n_files: int  # files considered: new + duplicate + quarantined
    n_quarantined: int
    n_duplicate_files: int
    n_new_files: int = 0  # files read as new (before any was set aside); 0: use n_files
    n_empty: int = 0  # new files already set aside with no paragraph
    n_mojibake: int = 0  # new files set aside as mis-decoded (undecodable, mojibake)
    history: pl.DataFrame | None = None  # metric, value, batches: means of published batches
    boilerplate: pl.Series | None = None  # paragraph hashes flagged boilerplate before the batch


@dataclass(frozen=True)
class GateResult:
    """What the gate decided and why."""

    success: bool  # False iff any fail-severity check failed
    results: pl.DataFrame  # DQ_RESULTS
    failed: list[str]  # "suite.expectation" of failed fail-severity checks
    quarantine_article_ids: list[str]  # articles offending a quarantine-severity check
    quarantined: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINED))
    batch_shape: dict[str, float | None] | None = None  # the batch frame's one row


def build_suites(
    vocabulary: Mapping[str, frozenset[str] | None], thresholds: Thresholds
) -> tuple[Suite, ...]:
    """The current suite versions, configured with the run's vocabulary and thresholds."""
    t = thresholds
    return (
        q.articles_suite_v4(
            min_article_chars=t.min_article_chars,
            max_article_chars=t.max_article_chars,
            max_mojibake=t.max_mojibake_marks,
            max_garbage=t.max_garbage_marks,
        ),
        q.paragraphs_suite_v4(
            vocabulary=vocabulary,
            min_paragraph_chars=t.min_paragraph_chars,
            max_paragraph_chars=t.max_paragraph_chars,
        ),
        q.batch_suite_v4(
            max_quarantined_share=t.max_quarantined_share,
            max_numeric_share=t.max_numeric_share,
            max_markup_share=t.max_markup_share,
            max_duplicate_file_share=t.max_duplicate_file_share,
            max_empty_share=t.max_empty_share,
            max_mojibake_share=t.max_mojibake_share,
            max_repeated_share=t.max_repeated_share,
            max_repeated_share_rise=t.max_repeated_share_rise,
            paragraph_length_ratio=t.paragraph_length_ratio,
            max_language_shift=t.max_language_shift,
        ),
    )


def prepare_frames(
    batch: GateBatch,
    *,
    min_history_batches: int = 3,
    min_shape_files: int = 10,
    min_letter_share: float = 0.5,
) -> dict[str, pl.DataFrame]:
    """The batch's frames, the tags with their paragraph's length (and first article) joined
    on, and the one-row frame of batch metrics. Checks' own derived columns come later."""
    # Spans are offsets into the paragraph's text, so they are checked against its length;
    # a tag whose hash is not a paragraph of this batch has nothing to be inside of. The first
    # article lets a quarantine-severity tag check name the article to set aside.
    lengths = batch.paragraphs.select(
        s.PARAGRAPH_HASH,
        pl.col(s.N_CHARS).alias(q.PARAGRAPH_N_CHARS),
        pl.lit(True).alias(q.DERIVED_PARAGRAPH_IN_BATCH),
        s.ARTICLE_ID,
    ).unique(s.PARAGRAPH_HASH, keep="first")
    tags = (
        batch.tags.drop(
            q.PARAGRAPH_N_CHARS, q.DERIVED_PARAGRAPH_IN_BATCH, s.ARTICLE_ID, strict=False
        )
        .join(lengths, on=s.PARAGRAPH_HASH, how="left", maintain_order="left")
        .with_columns(pl.col(q.DERIVED_PARAGRAPH_IN_BATCH).fill_null(False))
    )
    shape = batch_shape(
        batch,
        min_history_batches=min_history_batches,
        min_shape_files=min_shape_files,
        min_letter_share=min_letter_share,
    )
    return {
        q.FRAME_ARTICLES: batch.articles,
        q.FRAME_OCCURRENCES: batch.occurrences,
        q.FRAME_PARAGRAPHS: batch.paragraphs,
        q.FRAME_TAGS: tags,
        q.FRAME_BATCH: shape,
    }


def language_shares(articles: pl.DataFrame) -> dict[str, float]:
    """Share of the batch's articles per language ("und" for none)."""
    if articles.is_empty():
        return {}
    counts = articles.group_by(pl.col(s.LANGUAGE).fill_null("und")).len()
    total = articles.height
    return {lang: n / total for lang, n in counts.sort(s.LANGUAGE).iter_rows()}


def batch_shape(
    batch: GateBatch,
    *,
    min_history_batches: int = 3,
    min_shape_files: int = 10,
    min_letter_share: float = 0.5,
) -> pl.DataFrame:
    """The one-row batch frame: this batch's metrics and, once at least `min_history_batches`
    batches were published, how far each moved from their mean (null before that). With
    fewer than `min_shape_files` files (new files), shares of them are null: one odd file in
    three is no trend."""
    n_files = max(batch.n_files, 0)
    n_new = batch.n_new_files or n_files
    kinds = batch.occurrences[s.KIND] if s.KIND in batch.occurrences.columns else pl.Series([])
    n_occ = kinds.len()
    # Boilerplate flagged by earlier batches, and sign-offs the quality tagger names in this
    # one (a "Reuter" under every story), are expected to repeat; a batch whose other
    # paragraphs newly turn into repeats still counts them.
    known = _sign_off_hashes(batch.tags)
    if batch.boilerplate is not None:
        known = pl.concat([known, batch.boilerplate.cast(pl.String)])
    established = (
        batch.occurrences[s.PARAGRAPH_HASH].is_in(known.implode())
        if n_occ
        else pl.repeat(False, n_occ, eager=True)
    )
    lengths = (
        batch.occurrences[s.CHAR_END] - batch.occurrences[s.CHAR_START]
        if n_occ
        else pl.Series([], dtype=pl.Int64)
    )
    metrics: dict[str, float | None] = {
        q.N_FILES: float(n_files),
        q.QUARANTINED_SHARE: batch.n_quarantined / n_files if n_files else 0.0,
        q.DUPLICATE_SHARE: batch.n_duplicate_files / n_files if n_files else 0.0,
        q.EMPTY_SHARE: (batch.n_empty + _count_empty(batch.articles)) / n_new if n_new else 0.0,
        q.MOJIBAKE_SHARE: (
            (batch.n_mojibake + _count_true(batch.articles, s.MOJIBAKE_MARKS)) / n_new
            if n_new
            else 0.0
        ),
        q.REPEATED_SHARE: (
            float((kinds.is_in([s.KIND_REPEAT, s.KIND_CORPUS]) & ~established).sum()) / n_occ
            if n_occ
            else 0.0
        ),
        q.MEAN_PARAGRAPH_CHARS: float(lengths.mean()) if n_occ else None,  # type: ignore[arg-type]
        q.NUMERIC_SHARE: _numeric_share(batch.articles, min_letter_share),
        q.MARKUP_SHARE: _markup_share(batch.paragraphs, batch.tags),
    }
    if n_files < min_shape_files:
        # A batch of a few files (the tail of a run, files released from quarantine) judged
        # by share would fail on one bad file, and every later run would re-read it and fail
        # again: each file is still judged, and set aside, on its own.
        metrics[q.QUARANTINED_SHARE] = metrics[q.DUPLICATE_SHARE] = None
    if n_new < min_shape_files:
        shares = (
            q.EMPTY_SHARE,
            q.MOJIBAKE_SHARE,
            q.REPEATED_SHARE,
            q.NUMERIC_SHARE,
            q.MARKUP_SHARE,
        )
        for name in shares:
            metrics[name] = None
    history = _history(batch.history, min_history_batches)
    rise = ratio = shift = None
    if history and n_occ and metrics[q.REPEATED_SHARE] is not None:
        rise = metrics[q.REPEATED_SHARE] - history.get(q.REPEATED_SHARE, 0.0)
        base_len = history.get(q.MEAN_PARAGRAPH_CHARS)
        if base_len:
            ratio = metrics[q.MEAN_PARAGRAPH_CHARS] / base_len  # type: ignore[operator]
    if history and not batch.articles.is_empty():
        now = language_shares(batch.articles)
        before = {
            k.removeprefix(q.LANGUAGE_SHARE_PREFIX): v
            for k, v in history.items()
            if k.startswith(q.LANGUAGE_SHARE_PREFIX)
        }
        if before:
            shift = 0.5 * sum(abs(now.get(k, 0.0) - before.get(k, 0.0)) for k in {*now, *before})
    compared = {
        q.REPEATED_SHARE_RISE: rise,
        q.PARAGRAPH_LENGTH_RATIO: ratio,
        q.LANGUAGE_SHIFT: shift,
    }
    baselines = {
        q.REPEATED_SHARE_RISE + q.BASELINE_SUFFIX: history.get(q.REPEATED_SHARE)
        if history
        else None,
        q.PARAGRAPH_LENGTH_RATIO + q.BASELINE_SUFFIX: (
            history.get(q.MEAN_PARAGRAPH_CHARS) if history else None
        ),
        "history_batches": history.get("_batches") if history else None,
    }
    row = {**metrics, **compared, **baselines}
    return pl.DataFrame({k: [v] for k, v in row.items()}, schema={k: pl.Float64 for k in row})


def _sign_off_hashes(tags: pl.DataFrame) -> pl.Series:
    """Hashes of the batch's paragraphs tagged likely_boilerplate by the quality tagger."""
    if tags.is_empty() or s.TAG_VALUE not in tags.columns:
        return pl.Series(s.PARAGRAPH_HASH, [], dtype=pl.String)
    signed = (pl.col(s.TAG_TYPE) == "quality") & (pl.col(s.TAG_VALUE) == s.LIKELY_BOILERPLATE)
    return tags.filter(signed)[s.PARAGRAPH_HASH]


def _numeric_share(articles: pl.DataFrame, min_letter_share: float) -> float:
    """Share of the batch's articles with words whose first characters are mostly not letters
    (tables, results, index levels); 0 without articles."""
    if s.LETTER_SHARE not in articles.columns or articles.is_empty():
        return 0.0
    with_words = pl.col(s.HAS_WORDS) if s.HAS_WORDS in articles.columns else pl.lit(True)
    numeric = with_words & (pl.col(s.LETTER_SHARE) < min_letter_share)
    return float(articles.select(numeric.fill_null(False).mean()).item())


def _markup_share(paragraphs: pl.DataFrame, tags: pl.DataFrame) -> float:
    """Share of the batch's new paragraphs the quality tagger tagged markup; 0 without any."""
    if paragraphs.is_empty() or tags.is_empty() or s.TAG_VALUE not in tags.columns:
        return 0.0
    tagged = tags.filter((pl.col(s.TAG_TYPE) == "quality") & (pl.col(s.TAG_VALUE) == s.MARKUP))
    hashes = tagged[s.PARAGRAPH_HASH].implode()
    marked = paragraphs[s.PARAGRAPH_HASH].is_in(hashes).fill_null(False)  # a null hash: none
    return float(marked.mean())  # type: ignore[arg-type]


def _count_empty(articles: pl.DataFrame) -> int:
    """Articles of the batch with no paragraph (not yet set aside)."""
    if s.N_PARAGRAPHS not in articles.columns:
        return 0
    return int((articles[s.N_PARAGRAPHS].fill_null(0) == 0).sum())


def _count_true(frame: pl.DataFrame, column: str) -> int:
    """Rows where the count in `column` is above zero (0 when the column is absent)."""
    if column not in frame.columns:
        return 0
    return int((frame[column].fill_null(0) > 0).sum())


def _history(history: pl.DataFrame | None, min_batches: int) -> dict[str, float]:
    """metric -> mean over the history's batches, plus "_batches"; {} when too few."""
    if history is None or history.is_empty():
        return {}
    batches = int(history["batches"].max())
    if batches < min_batches:
        return {}
    values = dict(zip(history["metric"], history["value"], strict=True))
    return {**values, "_batches": float(batches)}


def run_gate(
    batch: GateBatch,
    *,
    vocabulary: Mapping[str, frozenset[str] | None],
    thresholds: Thresholds = Thresholds(),  # noqa: B008 - frozen, so a shared default is safe
    suites: Sequence[Suite] | None = None,
) -> GateResult:
    """Validate the batch against the suites (default: :func:`build_suites`); never raises on
    bad data, only reports it."""
    suites = tuple(suites) if suites is not None else build_suites(vocabulary, thresholds)
    frames = prepare_frames(
        batch,
        min_history_batches=thresholds.min_history_batches,
        min_shape_files=thresholds.min_shape_files,
        min_letter_share=thresholds.min_letter_share,
    )
    planned = [(suite, check) for suite in suites for check in suite.checks]
    outcomes: dict[int, dict[str, Any]] = {}
    for frame_name in dict.fromkeys(check.frame for _, check in planned):
        numbered = [(i, check) for i, (_, check) in enumerate(planned) if check.frame == frame_name]
        outcomes.update(_validate_frame(frames.get(frame_name), numbered))

    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    quarantined: dict[str, tuple[str, str, str]] = {}  # article id -> reason, rule, detail
    for i, (suite, check) in enumerate(planned):
        outcome = outcomes[i]
        rows.append(
            {
                "suite": suite.name,
                "expectation": check.name,
                "column_name": check.column_name,
                "severity": check.severity,
                "success": outcome["success"],
                "observed": _to_json(outcome["observed"]),
                "unexpected_count": outcome["unexpected_count"],
                "examples": _to_json(outcome["examples"]),
            }
        )
        if not outcome["success"]:
            if check.severity == "fail":
                failed.append(f"{suite.name}.{check.name}")
            elif check.severity == "quarantine":
                ids = outcome["article_ids"]
                if check.frame == q.FRAME_PARAGRAPHS:
                    ids = _articles_with(batch.occurrences, outcome["hashes"]) or ids
                why = (check.reason_code, f"{suite.name}.{check.name}", check.description)
                for article_id in ids:
                    quarantined.setdefault(article_id, why)
    results = pl.DataFrame(rows, schema=DQ_RESULTS) if rows else pl.DataFrame(schema=DQ_RESULTS)
    aside = pl.DataFrame(
        [(k, *v) for k, v in quarantined.items()], schema=QUARANTINED, orient="row"
    )
    return GateResult(
        success=not failed,
        results=results,
        failed=failed,
        quarantine_article_ids=list(quarantined),
        quarantined=aside,
        batch_shape=frames[q.FRAME_BATCH].to_dicts()[0],
    )


def _articles_with(occurrences: pl.DataFrame, hashes: list[str]) -> list[str]:
    """Every article of the batch holding one of the paragraphs, in order of appearance: a
    paragraph that must not load takes all its articles with it."""
    if not hashes:
        return []
    found = occurrences.filter(pl.col(s.PARAGRAPH_HASH).is_in(pl.Series(hashes).implode()))
    return found[s.ARTICLE_ID].unique(maintain_order=True).to_list()


# --- Great Expectations plumbing ----------------------------------------------------------------

_GX_LOCK = threading.Lock()  # the GX context is not thread-safe; one validation at a time


def warm_up() -> None:
    """Import Great Expectations and build its context now (slow work), e.g. in a thread
    while Prefect's server starts, so the gate does not pay for it later."""
    with _GX_LOCK:
        _gx()


@functools.cache
def _gx() -> tuple[Any, Any]:
    """(gx module, pandas batch definition) of the process's one ephemeral context."""
    # `import great_expectations` turns on logging.captureWarnings(True) (every later warning
    # would vanish into the log) and trips over -W error::DeprecationWarning: shield both.
    was_capturing = getattr(logging, "_warnings_showwarning", None) is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )
    if not was_capturing:
        logging.captureWarnings(False)
    # GX fingerprints every pandas batch under this many bytes (an md5 over
    # pandas.util.hash_pandas_object of every cell) only to label the result's batch markers,
    # which nutgraf never reads; that hashing is a large share of the gate's time, for nothing.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        # tqdm "Calculating Metrics" bars would go to stderr on every validation.
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    definition = (
        context.data_sources.add_pandas("nutgraf")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
    )
    return gx, definition


def _validate_frame(
    frame: pl.DataFrame | None, numbered: list[tuple[int, Check]]
) -> dict[int, dict[str, Any]]:
    """Run the checks of one frame in one GX validation; an outcome per check index."""
    if frame is None:
        frame = pl.DataFrame()
    keys = q.FRAME_KEYS.get(numbered[0][1].frame, ())
    derived = [
        check.derive.alias(check.column_name) for _, check in numbered if check.derive is not None
    ]
    if derived:
        frame = frame.with_columns(derived)
    wanted = [*keys, *(c for _, check in numbered for c in check.columns)]
    if any(check.severity == "quarantine" for _, check in numbered):
        wanted.append(s.ARTICLE_ID)
    if numbered[0][1].frame == q.FRAME_BATCH:
        wanted = list(frame.columns)  # one row: keep the baselines for the observed values
    # Hand GX only the columns it reads: conversion and GX's fingerprint of the frame cost
    # time per byte, and paragraph text is most of the bytes.
    frame = frame.select([c for c in dict.fromkeys(wanted) if c in frame.columns])
    # SUMMARY gives the first 20 offending row indices; quarantine needs every offending row.
    complete = any(check.severity == "quarantine" for _, check in numbered)
    result_format = {"result_format": "COMPLETE" if complete else "SUMMARY"}

    with _GX_LOCK:
        gx, definition = _gx()
        suite = gx.ExpectationSuite(name=f"nutgraf_{numbered[0][1].frame}")
        for index, check in numbered:
            # GX returns results in its own order, not the suite's: the meta tag maps back.
            cls = getattr(gx.expectations, check.expectation)
            suite.add_expectation(cls(**check.kwargs, meta={"nutgraf_check": index}))
        raw = _validate(
            definition, suite, frame.to_pandas(use_pyarrow_extension_array=True), result_format
        )
        if any(_exception_message(r) for r in raw.values()):
            # Some expectation may not handle arrow-backed dtypes: retry the frame with numpy
            # dtypes and keep that answer (a genuine error raises again and is reported).
            log.debug(
                "GX raised on arrow-backed %s frame; retrying with numpy dtypes",
                numbered[0][1].frame,
            )
            raw = _validate(definition, suite, frame.to_pandas(), result_format)

    return {index: _outcome(check, raw.get(index), frame, keys) for index, check in numbered}


def _validate(definition: Any, suite: Any, df: Any, result_format: dict) -> dict[int, Any]:
    batch = definition.get_batch(batch_parameters={"dataframe": df})
    validation = batch.validate(suite, result_format=result_format)
    return {r.expectation_config.meta["nutgraf_check"]: r for r in validation.results}


def _outcome(
    check: Check, result: Any | None, frame: pl.DataFrame, keys: Sequence[str]
) -> dict[str, Any]:
    """success, observed, unexpected_count, examples and offending article ids of one check."""
    if result is None:  # GX gave no result for it: a check that was not evaluated did not pass
        return {
            "success": False,
            "observed": {"error": "no result from Great Expectations"},
            "unexpected_count": None,
            "examples": [],
            "article_ids": [],
            "hashes": [],
        }
    info = result.result or {}
    observed = {
        k: info[k]
        for k in (
            "element_count",
            "unexpected_count",
            "unexpected_percent",
            "missing_count",
            "observed_value",
        )
        if k in info
    }
    if check.frame == q.FRAME_BATCH and check.column_name in frame.columns and frame.height:
        # A batch metric is one number: show it and its allowed range, not row counts.
        observed = {"value": frame[check.column_name][0]} | {
            k: check.kwargs[k] for k in ("min_value", "max_value") if k in check.kwargs
        }
        baseline = check.column_name + q.BASELINE_SUFFIX
        if baseline in frame.columns:
            observed["baseline"] = frame[baseline][0]
        if frame[check.column_name][0] is None:
            observed["note"] = "not judged: too few new files or published batches so far"
    error = _exception_message(result)
    if error:
        observed["error"] = error
    unexpected = info.get("unexpected_count")

    indices = info.get("unexpected_index_list") or info.get("partial_unexpected_index_list")
    shown = [c for c in dict.fromkeys([*keys, *check.columns]) if c in frame.columns]
    if indices and not isinstance(indices[0], int):
        indices = None  # GX gives dicts here when index columns are named; not used by us
    if indices:
        examples = frame[indices[:MAX_EXAMPLES]].select(shown).to_dicts()
    else:
        examples = list(info.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]
    article_ids: list[str] = []
    hashes: list[str] = []
    if check.severity == "quarantine" and indices and s.ARTICLE_ID in frame.columns:
        offending = frame[indices][s.ARTICLE_ID].drop_nulls()
        article_ids = offending.unique(maintain_order=True).to_list()
    if check.severity == "quarantine" and indices and check.frame == q.FRAME_PARAGRAPHS:
        hashes = frame[indices][s.PARAGRAPH_HASH].drop_nulls().to_list()
    return {
        "success": bool(result.success),
        "observed": observed,
        "unexpected_count": int(unexpected) if unexpected is not None else None,
        "examples": [_shorten(e) for e in examples],
        "article_ids": article_ids,
        "hashes": hashes,
    }


def _exception_message(result: Any) -> str | None:
    """The error an expectation raised, if any. GX reports it either flat or, when a metric
    failed to resolve, as one entry per metric."""
    info = result.exception_info or {}
    entries = [info] if "raised_exception" in info else list(info.values())
    messages = [
        str(e.get("exception_message") or "exception without message")
        for e in entries
        if isinstance(e, dict) and e.get("raised_exception")
    ]
    return "; ".join(dict.fromkeys(messages)) or None


def _shorten(value: Any) -> Any:
    """Cut long strings inside an example so a row of dq_results stays small."""
    if isinstance(value, str) and len(value) > MAX_EXAMPLE_CHARS:
        return value[:MAX_EXAMPLE_CHARS] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shorten(v) for v in value]
    return value


def _to_json(value: Any) -> str:
    """JSON text of observed values and examples; numpy/pandas scalars and NA become text."""
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    if str(value) in ("<NA>", "nan", "NaT"):
        return None
    return str(value)


def batch_metrics(articles: pl.DataFrame, shape: dict[str, float | None] | None) -> pl.DataFrame:
    """metric, value rows of a published batch: its shape and its articles' language shares."""
    rows = [(k, shape.get(k)) for k in q.HISTORY_METRICS if shape and shape.get(k) is not None]
    if shape is not None:
        shares = language_shares(articles)
        rows += [(q.LANGUAGE_SHARE_PREFIX + k, v) for k, v in shares.items()]
    return pl.DataFrame(rows, schema={"metric": pl.String, "value": pl.Float64}, orient="row")


def merge_rounds(rounds: list[pl.DataFrame]) -> pl.DataFrame:
    """One dq row per check of a batch gated in several rounds: the last round's row, except
    that a quarantine check keeps the row of the round it set articles aside in (its count
    and examples say what was set aside; after the set-aside it passes)."""
    last = rounds[-1]
    key = ["suite", "expectation"]
    earlier = (
        pl.concat(rounds[:-1])
        .filter((pl.col("severity") == "quarantine") & ~pl.col("success"))
        .unique(key, keep="first", maintain_order=True)
        if len(rounds) > 1
        else last.clear()
    )
    kept = last.join(earlier.select(key), on=key, how="anti")
    order = last.select(key).with_row_index("_order")
    return pl.concat([kept, earlier]).join(order, on=key, how="left").sort("_order").drop("_order")
