"""A learned classifier of name spans: person, place, organisation, or none of them.

:mod:`transforms.names` finds *capitalised runs*; this module types every span a run may hold
("U.S. President Bill Clinton" holds "U.S." and "Bill Clinton") with a linear model:

- **candidates**: every stretch of one to MAX_WORDS whole words of a run that starts and ends
  with a capitalised word, a trailing possessive "'s" cut off;
- **features**: what a reader looks at: the span's words, shape and ending, the words
  around it, whether the gazetteer or the given-name list knows it or its first or last word,
  organisation, place and event words (data/names.toml), and whether the line is a headline
  or a results line. Each feature's value is hashed, with a seed of its own, into one of
  BUCKETS; a span lacking a feature gets that feature's bucket for null;
- **scores**: the per-class weights of a span's buckets summed, a sparse matrix product
  computed as one gather per feature from the dense weights; a span is kept when its best
  class is not "none" and no overlapping candidate of its run has a larger margin over
  "none". SCORE is the winning class's probability.

Every step is a Polars expression over all spans of all paragraphs at once (or a numpy gather
per feature column); the context around a run is read from its paragraph once per run.

The weights (data/span_model.parquet) are trained by ``bench/train_span_model.py`` on
CoNLL-2003 ``eng.train``; its provenance sits beside it in data/span_model.json. The file
holds hashed feature buckets and numbers only, no text from the training data. Polars' string
hash is stable within a Polars version only, so the provenance records the buckets of a few
probe strings and :func:`load_span_model` refuses weights whose probes hash elsewhere
(retrain after upgrading Polars).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from transforms.errors import ModelMismatch
from transforms.gazetteer import DATA_DIR, Gazetteer
from transforms.names import NameRules, within
from transforms.schema import SCORE, SPAN_END, SPAN_START, SURFACE, TAG_TYPE, TAG_VALUE, TEXT
from transforms.tagging.frames import ROW

WEIGHTS_FILE = DATA_DIR / "span_model.parquet"
PROVENANCE_FILE = DATA_DIR / "span_model.json"
BUCKETS = 1 << 20
HASH_SEED = 17
CLASSES = ("none", "person", "place", "organisation")
MAX_WORDS = 5
PROBES = ("", "london", "said")

SPAN = "_span"  # a candidate's id within one call
BUCKET = "_bucket"
_RUN_ID = "_run_id"
_WORDS = "_words"
_OFFSET = "_offset"
_INDEX = "_index"
_COUNT = "_count"
_FIRST = "_first"
_LAST = "_last"
_RUN_EDGES = "_run_edges"
_FIRST_WORD = "_first_word"  # index of the span's first word in its run
_LAST_WORD = "_last_word"
_WORD = "_word"
_PREVIOUS = "_previous"  # the word before a span, lower case
_PREVIOUS2 = "_previous2"  # the two words before it
_NEXT = "_next"
_NEXT2 = "_next2"
_RUN_START = "_run_start"
_RUN_END = "_run_end"
_RUN_SURFACE = "_run_surface"
_COUNT_IN_RUN = "_count_in_run"
_POSSESSIVE = "_possessive"  # a possessive was cut from the span's end
_BEFORE = "_before"
_AFTER = "_after"
_CONTEXT = 30  # characters read on each side of a span for its neighbouring words
_PUNCTUATION = ".,;:!?\"'()[]"


@dataclass(frozen=True, eq=False)
class SpanModel:
    """The weights: one row per bucket a trained feature fell in, a float per class."""

    weights: pl.DataFrame  # BUCKET (UInt32), one Float32 column per class in CLASSES
    version: str

    @functools.cached_property
    def dense(self) -> np.ndarray:
        """BUCKETS x classes: a bucket's weights at its index, zeros elsewhere."""
        table = np.zeros((BUCKETS, len(CLASSES)), dtype=np.float32)
        table[self.weights[BUCKET].to_numpy()] = self.weights.select(CLASSES).to_numpy()
        return table


@functools.cache
def load_span_model(weights: Path = WEIGHTS_FILE, provenance: Path = PROVENANCE_FILE) -> SpanModel:
    """The weights (cached), checked against the hashes they were trained with."""
    if not weights.is_file() or not provenance.is_file():
        raise ModelMismatch(
            f"the span model is missing ({weights.name}); run bench/train_span_model.py --write"
        )
    trained = json.loads(provenance.read_text(encoding="utf-8"))
    if trained.get("probes") != probe_buckets():
        raise ModelMismatch(
            f"{weights.name} was trained with another string hash (Polars "
            f"{trained.get('polars')}, this is {pl.__version__}); retrain it with "
            "bench/train_span_model.py --write"
        )
    return SpanModel(pl.read_parquet(weights), str(trained["version"]))


def feature_buckets(values: pl.Series | pl.Expr, feature: int) -> pl.Series | pl.Expr:
    """The values of the `feature`-th feature -> their buckets (UInt32). Each feature hashes
    with its own seed, so equal values of two features fall apart without building
    "name:value" strings. A null (a span without the feature) hashes like any value, into
    the feature's own bucket: its absence is evidence too."""
    return (values.hash(seed=HASH_SEED + feature) % BUCKETS).cast(pl.UInt32)


def probe_buckets() -> list[int]:
    """The buckets of PROBES (as features 0, 1, ...): what this install's hash gives."""
    return [feature_buckets(pl.Series([probe]), i).item() for i, probe in enumerate(PROBES)]


def candidate_spans(runs: pl.DataFrame) -> pl.DataFrame:
    """capitalised_runs rows (ROW, SURFACE, SPAN_START, SPAN_END) -> the candidate spans:
    SPAN, _RUN_ID, ROW, SPAN_START, SPAN_END, _FIRST and _LAST (its first and last words),
    _FIRST_WORD and _LAST_WORD (their indexes in the run), _COUNT (words) and _RUN_EDGES
    ("true" or "false": the span starts its run, then the same for its end)."""
    new_run = pl.col(_RUN_ID).ne_missing(pl.col(_RUN_ID).shift(1))
    word_length = pl.col(_WORDS).str.len_chars()
    words = (
        runs.lazy()
        .select(
            ROW,
            SPAN_START,
            pl.col(SPAN_START).alias(_RUN_START),
            pl.col(SPAN_END).alias(_RUN_END),
            pl.col(SURFACE).alias(_RUN_SURFACE),
            pl.col(SURFACE).str.split(" ").alias(_WORDS),
        )
        .with_row_index(_RUN_ID)
        .with_columns(pl.col(_WORDS).list.len().alias(_COUNT))
        .explode(_WORDS)
        # rows of a run are contiguous: offsets and indexes are running sums within it
        .with_columns(
            within(word_length + 1, new_run).alias(_OFFSET),
            within(pl.col(_RUN_ID).is_not_null().cast(pl.UInt32), new_run).alias(_INDEX),
        )
        .select(
            _RUN_ID,
            ROW,
            _RUN_START,
            _RUN_END,
            _RUN_SURFACE,
            _INDEX,
            _COUNT,
            pl.col(_WORDS),
            (pl.col(SPAN_START) + pl.col(_OFFSET)).alias(SPAN_START),
            (pl.col(SPAN_START) + pl.col(_OFFSET) + pl.col(_WORDS).str.len_chars()).alias(SPAN_END),
            pl.col(_WORDS).str.contains(r"^\p{Lu}").alias("_capital"),
        )
    )
    # The words around each word inside its run (the text around the run is read later,
    # once per run).
    word = pl.col(_WORDS)
    same_run = {k: pl.col(_RUN_ID) == pl.col(_RUN_ID).shift(k) for k in (2, 1, -1, -2)}
    words = words.with_columns(
        pl.when(same_run[k]).then(word.shift(k)).alias(name)
        for k, name in ((2, _PREVIOUS2), (1, _PREVIOUS), (-1, _NEXT), (-2, _NEXT2))
    )
    # The span of k + 1 words starting at a word ends at the word k rows below it, when
    # that is in the same run: MAX_WORDS shifted copies, however long a run is.
    spans = pl.concat(
        [
            words.select(
                _RUN_ID,
                ROW,
                _RUN_START,
                _RUN_END,
                _RUN_SURFACE,
                _COUNT,
                SPAN_START,
                _PREVIOUS,
                _PREVIOUS2,
                pl.col(_NEXT).shift(-k),
                pl.col(_NEXT2).shift(-k),
                pl.col(_INDEX).alias("_i"),
                word.alias(_FIRST),
                pl.col(_INDEX).shift(-k).alias("_j"),
                pl.col(SPAN_END).shift(-k),
                word.shift(-k).alias(_LAST),
                (pl.col("_capital") & pl.col("_capital").shift(-k)).alias("_capitals"),
                (pl.col(_RUN_ID) == pl.col(_RUN_ID).shift(-k)).alias("_same_run"),
            ).filter(pl.col("_capitals") & pl.col("_same_run"))
            for k in range(MAX_WORDS)
        ]
    )
    spans = (
        spans.drop("_capitals", "_same_run")
        .with_columns(
            pl.concat_str(
                (pl.col("_i") == 0).cast(pl.String),
                (pl.col("_j") == pl.col(_COUNT) - 1).cast(pl.String),
            ).alias(_RUN_EDGES),
            (pl.col("_j") - pl.col("_i") + 1).alias(_COUNT),
            pl.col(_COUNT).alias(_COUNT_IN_RUN),
            # a possessive is no part of the name: "Icahn's" -> "Icahn"
            pl.col(_LAST).str.contains(r"\p{L}['’]s$").alias(_POSSESSIVE),
        )
        .with_columns(
            (pl.col(SPAN_END) - pl.col(_POSSESSIVE).cast(pl.Int64) * 2).alias(SPAN_END),
            pl.col(_LAST).str.replace(r"(\p{L})['’]s$", "$1"),
        )
        .rename({"_i": _FIRST_WORD, "_j": _LAST_WORD})
    )
    return spans.collect().with_row_index(SPAN)


def span_features(
    spans: pl.DataFrame, texts: pl.DataFrame, rules: NameRules, gazetteer: Gazetteer
) -> pl.DataFrame:
    """candidate_spans rows + the paragraphs (ROW, TEXT) -> SPAN and one UInt32 column per
    feature: the bucket of the feature's value for that span (a null value has a bucket too)."""
    text = pl.col(TEXT)
    # Per paragraph: a headline or a results table, where capitals say little.
    lines = texts.lazy().select(
        ROW,
        TEXT,
        (~text.str.contains(r"\p{Ll}{2}")).alias("_caps"),
        (~text.str.contains(r"(?:^|[^\p{L}])\p{Ll}{3,}") & text.str.contains(r"\d[^\d]+\d")).alias(
            "_tabular"
        ),
    )
    # Per run: the text around it, where a span at the run's edge looks.
    window = pl.max_horizontal(pl.col(_RUN_START) - _CONTEXT, pl.lit(0))
    around = (
        spans.lazy()
        .select(_RUN_ID, ROW, _RUN_START, _RUN_END)
        .unique(_RUN_ID)
        .join(lines, on=ROW, how="left")
        .select(
            _RUN_ID,
            "_caps",
            "_tabular",
            text.str.slice(window, pl.col(_RUN_START) - window).alias(_BEFORE),
            text.str.slice(pl.col(_RUN_END), _CONTEXT).alias(_AFTER),
            (pl.col(_RUN_START) < _CONTEXT).alias("_near_start"),
        )
    )
    before = pl.col(_BEFORE).str.to_lowercase().str.extract_groups(r"(?:(\S+)\s+)?(\S+)\s*$")
    after = pl.col(_AFTER).str.to_lowercase().str.extract_groups(r"^\s*(\S+)(?:\s+(\S+))?")
    around = around.select(
        _RUN_ID,
        "_caps",
        "_tabular",
        before.struct[1].alias("_run_previous"),
        before.struct[0].alias("_run_previous2"),
        after.struct[0].alias("_run_next"),
        after.struct[1].alias("_run_next2"),
        pl.col(_BEFORE).str.extract(r"([^\s\p{L}\p{N}])\s*$", 1).alias("_run_char_before"),
        pl.col(_AFTER).str.extract(r"^\s*([^\s\p{L}\p{N}])", 1).alias("_run_char_after"),
        (pl.col("_near_start") & ~pl.col(_BEFORE).str.contains(r"[\p{L}\p{N}]")).alias(
            "_run_at_start"
        ),
        pl.col(_AFTER).str.contains(r"^ \d").alias("_run_number_after"),
    )
    # A span inside its run reads its neighbours from the run's words; at the run's edge,
    # from the text. A possessive cut from the span's end is the word after it.
    first_word = pl.col(_FIRST_WORD)
    words_after = pl.col(_COUNT_IN_RUN) - 1 - pl.col(_LAST_WORD)
    possessive = pl.col(_POSSESSIVE)
    next_word = pl.col(_NEXT).str.to_lowercase()
    framed = (
        spans.lazy()
        .join(around, on=_RUN_ID, how="left")
        .with_columns(
            pl.col(_RUN_SURFACE)
            .str.slice(
                pl.col(SPAN_START) - pl.col(_RUN_START), pl.col(SPAN_END) - pl.col(SPAN_START)
            )
            .alias(SURFACE),
            pl.when(first_word > 0)
            .then(pl.col(_PREVIOUS).str.to_lowercase())
            .otherwise(pl.col("_run_previous"))
            .alias("_p1"),
            pl.when(first_word > 1)
            .then(pl.col(_PREVIOUS2).str.to_lowercase())
            .when(first_word == 1)
            .then(pl.col("_run_previous"))
            .otherwise(pl.col("_run_previous2"))
            .alias("_p2"),
            pl.when(possessive)
            .then(pl.lit("'s"))
            .when(words_after > 0)
            .then(next_word)
            .otherwise(pl.col("_run_next"))
            .alias("_n1"),
            pl.when(possessive)
            .then(pl.when(words_after > 0).then(next_word).otherwise(pl.col("_run_next")))
            .when(words_after > 1)
            .then(pl.col(_NEXT2).str.to_lowercase())
            .when(words_after == 1)
            .then(pl.col("_run_next"))
            .otherwise(pl.col("_run_next2"))
            .alias("_n2"),
            pl.when(first_word > 0)
            .then(pl.col(_PREVIOUS).str.extract(r"([^\p{L}\p{N}])$", 1))
            .otherwise(pl.col("_run_char_before"))
            .alias("_char_before"),
            pl.when(possessive)
            .then(pl.lit("'"))
            .when(words_after > 0)
            .then(pl.col(_NEXT).str.extract(r"^([^\p{L}\p{N}])", 1))
            .otherwise(pl.col("_run_char_after"))
            .alias("_char_after"),
            ((first_word == 0) & pl.col("_run_at_start")).alias("_at_start"),
            ((words_after == 0) & ~possessive & pl.col("_run_number_after")).alias("_number_after"),
        )
    )
    framed = framed.with_columns(
        pl.col("_p1").str.strip_chars(_PUNCTUATION).alias(_PREVIOUS),
        pl.col("_n1").alias(_NEXT),
        pl.concat_str("_p2", "_p1", separator=" ").alias(_PREVIOUS2),
        pl.concat_str("_n1", "_n2", separator=" ").alias(_NEXT2),
        word_shape(pl.col(SURFACE)).alias("_shape"),
    )
    surface = pl.col(SURFACE)
    lower = surface.str.to_lowercase()
    last = pl.col(_LAST)
    first = pl.col(_FIRST)
    shape = pl.col("_shape")
    entities = (
        gazetteer.entities.lazy()
        .select(
            SURFACE, pl.concat_str(pl.lit("g:"), TAG_TYPE, pl.lit("/"), "tag_detail").alias("_gaz")
        )
        .drop_nulls("_gaz")
    )
    framed = (
        framed.join(entities, on=SURFACE, how="left")
        .join(entities.rename({SURFACE: _FIRST, "_gaz": "_gaz_first"}), on=_FIRST, how="left")
        .join(entities.rename({SURFACE: _LAST, "_gaz": "_gaz_last"}), on=_LAST, how="left")
    ).join(
        entities.rename({SURFACE: "_upper", "_gaz": "_gaz_upper"})
        .with_columns(pl.col("_upper").str.to_uppercase())
        .unique("_upper"),
        left_on=SURFACE,
        right_on="_upper",
        how="left",
    )
    given = rules.given_name_series.implode()
    char_before = pl.col("_char_before")
    char_after = pl.col("_char_after")
    at_start = pl.col("_at_start")
    count = pl.col(_COUNT).clip(upper_bound=4).cast(pl.String)
    features = {
        "bias": pl.lit(""),
        "s:": lower,
        "f:": pl.when(pl.col(_COUNT) > 1).then(first.str.to_lowercase()),
        "l:": last.str.to_lowercase(),
        "n:": count,
        "sh:": shape,
        "x3:": last.str.slice(-3).str.to_lowercase(),
        "pw:": pl.col(_PREVIOUS),
        "nw:": pl.col(_NEXT).str.strip_chars(_PUNCTUATION),
        "pc:": char_before,
        "nc:": char_after,
        "run:": pl.col(_RUN_EDGES),
        "g:": pl.col("_gaz"),
        "gf:": pl.when(pl.col(_COUNT) > 1).then(pl.col("_gaz_first")),
        "gl:": pl.when(pl.col(_COUNT) > 1).then(pl.col("_gaz_last")),
        "pw2:": pl.col(_PREVIOUS2),
        "nw2:": pl.col(_NEXT2),
        "G:": pl.col("_gaz_upper"),
        "gn:": pl.when(first.is_in(given)).then(count),
        "os:": pl.when(last.is_in(list(rules.organisation_suffixes))).then(count),
        "ps:": pl.when(last.is_in(list(rules.place_suffixes))).then(count),
        "ev:": pl.when(last.is_in(list(rules.event_words))).then(count),
        "ca:": pl.when(surface.is_in(list(rules.common_acronyms))).then(pl.lit("")),
        "start:": pl.when(at_start).then(count),
        "caps:": pl.when(pl.col("_caps")).then(pl.lit("")),
        "tab:": pl.when(pl.col("_tabular") & pl.col("_number_after")).then(pl.lit("")),
    }
    # All in one select (shared sub-expressions computed once), each feature string hashed
    # where it is built: strings never leave this frame.
    return framed.select(
        SPAN,
        *(
            feature_buckets(value, i).alias(name)
            for i, (name, value) in enumerate(features.items())
        ),
    ).collect()


def word_shape(words: pl.Expr) -> pl.Expr:
    """Capitals as X, lower-case letters as x, digits as d, each run once: "McDonald's" ->
    "XxXx'x"."""
    return (
        words.str.replace_all(r"\p{Lu}+", "X")
        .str.replace_all(r"\p{Ll}+", "x")
        .str.replace_all(r"\d+", "d")
    )


def score_spans(features: pl.DataFrame, model: SpanModel) -> np.ndarray:
    """span_features rows -> an array of scores, one row per span and one column per class in
    CLASSES: the sum of the weights of the span's buckets (a sparse matrix product, gathered
    from the dense weights)."""
    buckets = features.drop(SPAN).to_numpy(order="fortran")
    scores = np.zeros((features.height, len(CLASSES)), dtype=np.float32)
    # One feature column at a time: each gather reads a few rows of the table, where one
    # gather of every column at once builds a spans x features x classes array first.
    for column in range(buckets.shape[1]):
        scores += model.dense[buckets[:, column]]
    return scores


def classify_spans(
    runs: pl.DataFrame,
    texts: pl.DataFrame,
    rules: NameRules,
    gazetteer: Gazetteer,
    model: SpanModel | None = None,
) -> pl.DataFrame:
    """capitalised_runs rows + paragraphs -> the spans the model types: ROW, SPAN_START,
    SPAN_END, SURFACE, TAG_TYPE, SCORE (the winning class's probability), non-overlapping."""
    model = model or load_span_model()
    spans = candidate_spans(runs)
    features = span_features(spans, texts, rules, gazetteer)
    scores = pl.DataFrame(score_spans(features, model), schema=list(CLASSES)).with_columns(
        features[SPAN]
    )
    named = CLASSES[1:]
    best = pl.max_horizontal(named)
    total = pl.sum_horizontal((pl.col(name) - best).exp() for name in CLASSES)
    typed = (
        spans.join(scores, on=SPAN, how="inner")
        .with_columns(
            (best - pl.col("none")).alias("_margin"),
            (1 / total).alias(SCORE),
            pl.coalesce(pl.when(pl.col(name) == best).then(pl.lit(name)) for name in named).alias(
                TAG_TYPE
            ),
        )
        .filter(pl.col("_margin") > 0)
    )
    # A span loses to an overlapping one of its run that the model is surer of. Spans overlap
    # where they share a word, and a word lies in at most MAX_WORDS * (MAX_WORDS + 1) / 2
    # spans: pairing spans by shared word stays small however long a run is.
    covered = typed.select(
        SPAN,
        _RUN_ID,
        "_margin",
        pl.int_ranges(_FIRST_WORD, pl.col(_LAST_WORD) + 1).alias(_WORD),
    ).explode(_WORD)
    beaten = (
        covered.join(covered, on=[_RUN_ID, _WORD], suffix="_rival")
        .filter(
            (pl.col("_margin_rival") > pl.col("_margin"))
            | (
                (pl.col("_margin_rival") == pl.col("_margin"))
                & (pl.col(f"{SPAN}_rival") < pl.col(SPAN))
            )
        )
        .select(SPAN)
        .unique()
    )
    kept = typed.join(beaten, on=SPAN, how="anti").join(texts.select(ROW, TEXT), on=ROW)
    return kept.select(
        ROW,
        SPAN_START,
        SPAN_END,
        pl.col(TEXT).str.slice(SPAN_START, pl.col(SPAN_END) - pl.col(SPAN_START)).alias(SURFACE),
        TAG_TYPE,
        SCORE,
    ).with_columns(pl.col(SURFACE).alias(TAG_VALUE))
