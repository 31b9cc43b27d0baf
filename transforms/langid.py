"""Language identification: py3langid's classifier run over a whole column at once.

Same model and same verdicts as ``LanguageIdentifier.classify`` built the way nutgraf uses it
(``norm_probs=True``, restricted to the two-letter codes; :func:`load_py3langid`), without
py3langid's Python loop over every byte of every text:

1. encode as py3langid's ``_encode`` does, with Polars expressions: a text whose cased
   characters are all upper case is lower-cased (``str.isupper`` through the Unicode
   Uppercase / Lowercase / Lt properties, ``str.lower`` through Rust's full case mapping, final
   sigma included), then NFC;
2. walk the byte DFA for all texts together: texts sorted by byte length, one numpy step per
   byte position advances every text still that long;
3. count (text, feature) pairs in a sparse matrix; score = log1p(counts) @ nb_ptc + nb_pc, then
   py3langid's temperature 1/sqrt(bytes), softmax and alias folding, in float32 as py3langid.

The sums run in another order than py3langid's BLAS call, so confidences differ in the last
float32 bits (by at most 3e-6 on the shared corpora, 2e-5 on random text); a verdict can only
differ where two languages tie to that precision (none did on 35,000 texts).

Work and memory are bounded per chunk of texts (SLICE_TEXTS, CHUNK_CELLS, CHUNK_TEXTS); a chunk
takes one numpy step per byte of its longest text, so callers cut long texts short
(:mod:`transforms.tagging.language` reads the first characters only).

The model is py3langid's LZMA file turned into plain arrays; given a cache folder,
:func:`load_model` keeps them there as an uncompressed ``.npz`` that later processes load in
a fraction of the time.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import tempfile
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import scipy.sparse as sp
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from transforms.schema import LANGUAGE, SCORE

LOGGER = logging.getLogger(__name__)

PY3LANGID_VERSION = importlib.metadata.version("py3langid")
"""The py3langid whose model is used; part of the cache file's name."""
CACHE_LAYOUT = 1
"""Version of the arrays' layout in the cache file; a file of another layout is rebuilt."""
SLICE_TEXTS = 20_000
"""Texts encoded and sorted together: bounds the copies of the text (~3x its UTF-8 size)."""
SLICE_THREADS = min(2, os.cpu_count() or 1)
"""Slices classified at once, each in its own thread (and its own working memory)."""
CHUNK_CELLS = 1 << 22
"""Texts are walked in chunks of at most this many (longest text's bytes x texts) cells, about
30 bytes of working memory each: ~120 MB whatever the batch size."""
CHUNK_TEXTS = 2048
"""At most this many texts per chunk: their score rows (464 bytes each) stay in a 1 MB L2 cache
while the sparse product adds feature rows into them (2x faster than 12,000 texts at once)."""

_TEXT = "_text"
_ROW = 256  # one DFA row per state: the next move for each byte value
_NFC_STABLE = r"^[\x00-\x{2FF}]*$"  # below U+0300 every character is NFC and composes with none


@dataclass(frozen=True, eq=False)
class LanguageModel:
    """py3langid's model as plain arrays, restricted to its two-letter languages.

    py3langid moves ``state = nextmove[rowbase[state] + byte]`` and reads ``output[state]``;
    here those three tables are joined ahead of time into ``moves``, indexed by ``row start +
    byte``, so a step is one addition and one 8-byte look-up.
    """

    start: int
    """Where the start state's row begins (``rowbase[0]``)."""
    moves: np.ndarray
    """int32 [row start + byte, 2] -> (where the next state's row begins, the feature the next
    state completes or -1)."""
    nb_ptc: np.ndarray
    """float32 [feature, class]: log P(feature | class) less its mean over the classes."""
    nb_pc: np.ndarray
    """float32 [class]: log P(class)."""
    classes: np.ndarray
    """str [class]: the language code of each column; aliases (sr, uz) appear twice."""
    alias_pairs: np.ndarray
    """int64 [pair, 2]: (first, duplicate) columns of a repeated code, folded after softmax."""

    @property
    def labels(self) -> list[str]:
        """Distinct codes the model can emit, in column order (py3langid's ``labels``)."""
        return list(dict.fromkeys(self.classes.tolist()))


# --- loading -------------------------------------------------------------------------------


@functools.cache
def load_py3langid() -> LanguageIdentifier:
    """py3langid's own identifier as nutgraf configures it: the reference (slow to load)."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # The model also holds ISO 639-3 codes (yue, wuu, arz, ...); restricting to two-letter codes
    # folds those texts into their macro-language (zh, ar) so LANGUAGE stays ISO 639-1.
    identifier.set_languages([code for code in identifier.labels if len(code) == 2])
    return identifier


def cache_file(cache_dir: Path) -> Path:
    """Where :func:`load_model` keeps the arrays of this py3langid version."""
    return Path(cache_dir) / f"py3langid-{PY3LANGID_VERSION}-iso639-1.npz"


def load_model(cache_dir: Path | None = None) -> LanguageModel:
    """The model, from ``cache_dir``'s npz when it holds a good one, else built from py3langid
    (and then saved there). No ``cache_dir``: built in every process, nothing written.
    Loaded once per process and folder."""
    return _cached_model(None if cache_dir is None else Path(cache_dir))


@functools.cache
def _cached_model(cache_dir: Path | None) -> LanguageModel:
    return _read_or_build(cache_dir)


def _read_or_build(cache_dir: Path | None) -> LanguageModel:
    """:func:`load_model` without the in-process cache."""
    if cache_dir is None:
        return _model_from_py3langid()
    path = cache_file(cache_dir)
    if path.exists():
        try:
            return _read_model(path)
        except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            LOGGER.warning("language model cache %s unreadable (%s); rebuilding it", path, exc)
    model = _model_from_py3langid()
    try:
        _write_model(model, path)
    except OSError as exc:
        LOGGER.warning("cannot write language model cache %s (%s); continuing without", path, exc)
    return model


@functools.cache
def _model_from_py3langid() -> LanguageModel:
    """Convert :func:`load_py3langid`'s tables; checked against it in the tests."""
    identifier = load_py3langid()
    nextmove = np.frombuffer(identifier.tk_nextmove, dtype=f"u{identifier.tk_nextmove.itemsize}")
    rowbase = np.asarray(identifier._rowbase, dtype=np.int32)
    output = np.asarray(identifier.tk_output, dtype=np.int32)
    # Softmax ignores a constant added to all of a text's scores, so each feature's row can lose
    # its mean: the float32 sums then stay small and round off 5x less (less than py3langid's).
    nb_ptc = np.asarray(identifier.nb_ptc, dtype=np.float64)
    nb_ptc -= nb_ptc.mean(axis=1, keepdims=True)
    return LanguageModel(
        start=int(rowbase[0]),
        moves=np.stack([rowbase[nextmove], output[nextmove]], axis=1),
        nb_ptc=np.ascontiguousarray(nb_ptc, dtype=np.float32),
        nb_pc=np.asarray(identifier.nb_pc, dtype=np.float32),
        classes=np.array(identifier.nb_classes),
        alias_pairs=np.array(identifier._alias_pairs, dtype=np.int64).reshape(-1, 2),
    )


def _write_model(model: LanguageModel, path: Path) -> None:
    """Save uncompressed, through a temporary file so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "layout": np.array(CACHE_LAYOUT),
        "start": np.array(model.start),
        "moves": model.moves,
        "nb_ptc": model.nb_ptc,
        "nb_pc": model.nb_pc,
        "classes": model.classes,
        "alias_pairs": model.alias_pairs,
    }
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as tmp:
        try:
            np.savez(tmp, **arrays)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)


def _read_model(path: Path) -> LanguageModel:
    """Load a cache file; ValueError when it is not one this code wrote."""
    with np.load(path, allow_pickle=False) as data:
        if int(data["layout"]) != CACHE_LAYOUT:
            raise ValueError(f"layout {int(data['layout'])}, expected {CACHE_LAYOUT}")
        model = LanguageModel(
            start=int(data["start"]),
            moves=data["moves"],
            nb_ptc=data["nb_ptc"],
            nb_pc=data["nb_pc"],
            classes=data["classes"],
            alias_pairs=data["alias_pairs"],
        )
    n_cells = model.moves.shape[0]
    n_features, n_classes = model.nb_ptc.shape
    if (
        model.moves.shape != (n_cells, 2)
        or model.moves.dtype != np.int32
        or not model.moves.flags.c_contiguous
        or n_cells % _ROW
        or model.nb_ptc.dtype != np.float32
        or model.nb_pc.dtype != np.float32
        or model.nb_pc.shape != (n_classes,)
        or model.classes.shape != (n_classes,)
        or model.alias_pairs.shape[1:] != (2,)
        or not 0 <= model.start < n_cells
        or model.start % _ROW
        or int(model.moves[:, 0].max(initial=0)) > n_cells - _ROW  # 1-D max: 30x faster
        or int(model.moves[:, 1].max(initial=-1)) >= n_features
    ):
        raise ValueError("arrays of unexpected shape, type or range")
    return model


# --- classifying ---------------------------------------------------------------------------


def classify(texts: pl.Series, model: LanguageModel) -> pl.DataFrame:
    """String series -> LANGUAGE (code), SCORE (confidence), one row per text, in order.

    What py3langid's ``classify`` returns for each text; both null for a null text. A text
    with no feature of the model gets py3langid's uniform scores (LANGUAGE "sr", the first
    aliased code, at 2/116).
    """
    texts = texts.cast(pl.String)
    starts = range(0, texts.len(), SLICE_TEXTS)
    # numpy's steps and scipy's product release the GIL: two slices at once take ~0.7x the
    # time of one after the other on two cores (bench: 0.79 s -> 0.57 s on 30,000 texts)
    with ThreadPoolExecutor(max_workers=SLICE_THREADS) as pool:
        verdicts = list(
            pool.map(lambda start: _classify_slice(texts.slice(start, SLICE_TEXTS), model), starts)
        )
    best = np.concatenate([b for b, _ in verdicts]) if verdicts else np.zeros(0, np.int64)
    confidence = np.concatenate([c for _, c in verdicts]) if verdicts else np.zeros(0, np.float32)
    return pl.DataFrame(
        {
            LANGUAGE: pl.Series(model.classes[best], dtype=pl.String),
            SCORE: pl.Series(confidence, dtype=pl.Float64),
        }
    ).with_columns(pl.when(texts.is_not_null()).then(pl.all()))


def _classify_slice(texts: pl.Series, model: LanguageModel) -> tuple[np.ndarray, np.ndarray]:
    """Best class and its probability for each text (null counts as empty)."""
    encoded = _encode(texts.fill_null(""))
    lengths = encoded.str.len_bytes().to_numpy().astype(np.int64)
    order = np.argsort(-lengths, kind="stable")  # longest first
    buffer, offsets = utf8_buffer(encoded.gather(order))
    ranked_lengths = lengths[order]
    best = np.empty(len(order), np.int64)
    confidence = np.empty(len(order), np.float32)
    for start, stop in _chunks(ranked_lengths):
        chunk = buffer[offsets[start] : offsets[stop]]
        scores = _probabilities(chunk, ranked_lengths[start:stop], model)
        best[start:stop] = scores.argmax(axis=1)
        confidence[start:stop] = np.take_along_axis(scores, best[start:stop, None], 1)[:, 0]
    unranked = np.empty_like(order)
    unranked[order] = np.arange(len(order))
    return best[unranked], confidence[unranked]


def _encode(texts: pl.Series) -> pl.Series:
    """py3langid's ``_encode`` on str: all-upper text lower-cased, then NFC.

    The Polars regex and case tables may know a newer Unicode than Python's ``unicodedata``;
    they can disagree only on characters added since.
    """
    text = pl.col(_TEXT)
    all_upper = text.str.contains(r"\p{Uppercase}") & ~text.str.contains(r"[\p{Lowercase}\p{Lt}]")
    lowered = (
        texts.alias(_TEXT)
        .to_frame()
        .select(pl.when(all_upper).then(text.str.to_lowercase()).otherwise(text))
        .to_series()
    )
    # nutgraf's paragraphs are NFKC already; only a character from U+0300 up can change.
    maybe_not_nfc = (~lowered.str.contains(_NFC_STABLE)).arg_true()
    if maybe_not_nfc.len():
        lowered = lowered.scatter(maybe_not_nfc, _nfc_batch(lowered.gather(maybe_not_nfc)))
    return lowered


def _nfc_batch(texts: pl.Series) -> pl.Series:
    """NFC with Python's unicodedata, py3langid's own (quick-checks and skips NFC text)."""
    return pl.Series([unicodedata.normalize("NFC", text) for text in texts.to_list()])


def utf8_buffer(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The texts' UTF-8 bytes back to back (uint8) and each text's start, plus the end (int64):
    views of the Arrow large_string buffers, not copies."""
    array = texts.to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer else np.zeros(0, np.uint8)
    return data[offsets[0] : offsets[-1]], offsets - offsets[0]


def _chunks(ranked_lengths: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) ranges of texts, longest first, each within CHUNK_CELLS and CHUNK_TEXTS."""
    ranges, start, n = [], 0, len(ranked_lengths)
    while start < n:
        size = min(CHUNK_TEXTS, max(1, CHUNK_CELLS // max(int(ranked_lengths[start]), 1)))
        stop = min(n, start + size)
        ranges.append((start, stop))
        start = stop
    return ranges


def _probabilities(data: np.ndarray, lengths: np.ndarray, model: LanguageModel) -> np.ndarray:
    """float32 [text, class] probabilities after alias folding, as py3langid's ``_decide``."""
    counts, featureless = _feature_counts(data, lengths, model)
    counts.data = np.log1p(counts.data)
    scores = np.asarray(counts @ model.nb_ptc, dtype=np.float32)
    scores += model.nb_pc
    # a text without features scores 0 for every class (uniform), not the prior
    scores[featureless] = 0.0
    scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    for first, duplicate in model.alias_pairs.tolist():
        scores[:, first] += scores[:, duplicate]
        scores[:, duplicate] = 0.0
    return scores


def _feature_counts(
    data: np.ndarray, lengths: np.ndarray, model: LanguageModel
) -> tuple[sp.csc_array, np.ndarray]:
    """How often each feature occurs in each text (float32 texts x features, CSC), and which
    texts have none.

    ``data`` holds the texts' bytes back to back, longest text first. The bytes are laid out
    position by position, so step p reads byte p of the texts still that long as one slice.
    """
    n_texts, width = len(lengths), int(lengths[0]) if len(lengths) else 0
    n_features = model.nb_ptc.shape[0]
    if width == 0:
        return sp.csc_array((n_texts, n_features), dtype=np.float32), np.ones(n_texts, bool)
    inside = np.arange(width)[None, :] < lengths[:, None]  # [text, position]
    grid = np.zeros((width, n_texts), dtype=np.uint8)  # [position, text]
    grid.T[inside] = data
    # texts still walking at each position: a prefix, since the longest come first
    walking = np.searchsorted(-lengths, -np.arange(width), side="left").tolist()
    # found[position, text] = (row start of the state reached, feature completed or -1); the
    # int64 view moves both halves with one look-up
    found = np.full((width + 1, n_texts, 2), -1, dtype=np.int32)
    found[0, :, 0] = model.start
    moves, reached = model.moves.view(np.int64)[:, 0], found.view(np.int64)[..., 0]
    cell = np.empty(n_texts, dtype=np.int32)
    for position, n in enumerate(walking):
        np.add(found[position, :n, 0], grid[position, :n], out=cell[:n])
        np.take(moves, cell[:n], out=reached[position + 1, :n], mode="clip")
    found = found[1:, :, 1]
    by_text = found.T
    hits = by_text >= 0
    per_text = hits.sum(axis=1)
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(per_text, out=indptr[1:])
    features = by_text[hits]
    pairs = sp.csr_array(
        (np.ones(len(features), dtype=np.float32), features, indptr), shape=(n_texts, n_features)
    )
    # CSR -> CSC keeps each feature's texts in order, so summing duplicates needs no sort
    counts = pairs.tocsc()
    counts.sum_duplicates()
    return counts, per_text == 0
