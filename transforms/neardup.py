"""Near-duplicate paragraphs: MinHash over word bigrams, LSH bands, and exact verification.

The shingling, fixed as ``SHINGLING``:
1. tokens are the runs of letters and digits (``[\\p{L}\\p{N}]+``) of the normalised text,
   lower-cased: punctuation and spacing edits leave the tokens as they were;
2. a paragraph's shingles are the set of its consecutive token pairs (word bigrams). A one-word
   edit of an n-word paragraph changes at most two of its n-1 bigrams, so it keeps a Jaccard
   similarity of at least (n-3)/(n+1): 0.8 from 19 words on, 0.9 from 39 (3-word shingles need
   29 words for 0.8).

Similarity is the Jaccard index of two paragraphs' shingle sets. MinHash estimates it with
``N_HASHES`` = 72 hash functions ``h_k(x) = (a_k * x + c_k) >> 32`` over a 64-bit shingle id
(multiply-shift hashing, one multiply and one shift per shingle and function); the 72 minima are
cut into ``N_BANDS`` = 12 bands of ``ROWS`` = 6. Two paragraphs become candidates when any band
agrees: probability 1 - (1 - J^6)^12, i.e. 0.974 at J = 0.8, 0.9999 at J = 0.9, 0.17 at
J = 0.5, 0.009 at J = 0.3 (paragraphs sharing one sentence of three: 8 bands of 4 would pass
0.063 of those, seven times as many). The first 32 minima are stored with the bands; a
candidate whose MinHash estimate (the share of them both agree on) is below threshold -
ESTIMATE_MARGIN is dropped,
and every other pair is **verified** on its exact shingle sets, so a link is only ever made at
a true similarity at or above the threshold.

Paragraphs with fewer than ``min_words`` tokens (setting ``near_dup_min_words``, default 3) are
not matched: one or two words make at most one bigram, so their similarity is all or nothing.
Short paragraphs still match when only punctuation or case changed (similarity 1.0); a changed
word in a paragraph of fewer than 19 words moves it below 0.8 anyway.

Ids are stable across processes and library versions: a word's id mixes its UTF-8 bytes (exactly,
up to 16 bytes; longer words by their blake2b digest) with fixed 64-bit constants, and a
bigram's id mixes its two word ids. Band hashes
are stored in the warehouse (``paragraph_bands``), so a run compares only its new paragraphs
against them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

from transforms import schema as S
from transforms.langid import utf8_buffer

SHINGLING = "word-bigrams-lower-alnum_v1"
N_BANDS = 12
ROWS = 6
N_HASHES = N_BANDS * ROWS
SIGNATURE_HASHES = 32
"""The first minima kept with the bands, for the estimate that screens candidates."""
BAND_COLUMNS = tuple(f"band_{i}" for i in range(N_BANDS))
T = TypeVar("T")

_TOKEN = r"[\p{L}\p{N}]+"
_MIX1 = np.uint64(0x9E3779B97F4A7C15)
_MIX2 = np.uint64(0xBF58476D1CE4E5B9)
_MIX3 = np.uint64(0x94D049BB133111EB)
_rng = np.random.Generator(np.random.PCG64(20261128))
_A = (_rng.integers(1, 2**63, N_HASHES, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
_C = _rng.integers(0, 2**63, N_HASHES, dtype=np.uint64)
"""Odd multipliers and offsets of the hash functions: fixed by the seed, part of SHINGLING."""

SIGNATURE = "signature"  # the first 32 minima, little-endian uint32: 128 bytes
ESTIMATE_MARGIN = 0.2
"""Candidates whose MinHash estimate is below threshold - ESTIMATE_MARGIN are dropped before
exact verification: at J = 0.8 the estimate (32 minima, sd 0.07) falls under 0.6 for 0.35% of
pairs; at J = 0.5 four in five pairs go."""
PAIR_A = "paragraph_hash_a"  # the later paragraph of a pair
PAIR_B = "paragraph_hash_b"  # the earlier one
SIMILARITY = "similarity"
SHINGLE = "shingle"


def tokens(text: pl.Expr) -> pl.Expr:
    """A paragraph's tokens: lower-cased runs of letters and digits."""
    return text.str.to_lowercase().str.extract_all(_TOKEN)


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX2
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX3
    return x ^ (x >> np.uint64(31))


def _token_ids(words: pl.Series) -> np.ndarray:
    """A stable 64-bit id per token, from its UTF-8 bytes.

    A token of up to 16 bytes (nearly every word) is read as two little-endian 64-bit words —
    its first 8 bytes and its last 8 — which with its length determine it exactly; they are
    mixed into the id with vectorised arithmetic. A longer token's id is the first 8 bytes of
    its blake2b digest (a few per batch). The same bytes give the same id in every process and
    version.
    """
    data, offsets = utf8_buffer(words)
    starts, lengths = offsets[:-1], np.diff(offsets)
    padded = np.zeros(len(data) + 16, dtype=np.uint8)
    padded[: len(data)] = data
    # every 8-byte window of the text, as one unaligned uint64 view (no copy)
    windows = np.ndarray((len(data) + 9,), dtype="<u8", buffer=padded.data, strides=(1,))
    short = np.minimum(lengths, 8).astype(np.uint64)
    keep = np.where(short == 8, ~np.uint64(0), (np.uint64(1) << (short * np.uint64(8))) - 1)
    head = windows[starts] & keep
    tail = np.where(lengths > 8, windows[np.maximum(starts + lengths - 8, 0)], np.uint64(0))
    with np.errstate(over="ignore"):
        ids = _splitmix(head ^ _splitmix(tail + lengths.astype(np.uint64) * _MIX1))
    long = np.flatnonzero(lengths > 16)
    if len(long):
        texts = words.gather(long).to_list()
        ids[long] = [
            int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            for t in texts
        ]
    return ids


def _bigrams(texts: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text index, bigram id) of every consecutive token pair of every text, duplicates kept."""
    found = texts.str.to_lowercase().str.extract_all(_TOKEN)
    counts = found.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = found.explode().drop_nulls()
    owner = np.repeat(np.arange(len(counts)), counts)
    ids = _token_ids(flat)
    same = np.zeros(len(ids), dtype=bool)
    same[:-1] = owner[:-1] == owner[1:]
    with np.errstate(over="ignore"):
        mixed = _splitmix(ids * _MIX1 + _splitmix(np.roll(ids, -1)))
    return owner[same], mixed[same]


def shingles(paragraphs: pl.DataFrame) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> PARAGRAPH_HASH, SHINGLE (UInt64): one row per distinct bigram."""
    owner, ids = _bigrams(paragraphs[S.TEXT])
    return (
        pl.DataFrame({"_owner": owner.astype(np.uint32), SHINGLE: ids})
        .unique()
        .join(paragraphs.select(S.PARAGRAPH_HASH).with_row_index("_owner"), on="_owner", how="left")
        .select(S.PARAGRAPH_HASH, SHINGLE)
    )


BAND_THREADS = min(2, os.cpu_count() or 1)
BAND_CHUNK = 10_000
"""Paragraphs banded together: their tokens and bigram arrays exist for one chunk at a time,
so working memory stays bounded whatever the batch size."""


def band_signatures(paragraphs: pl.DataFrame, *, min_words: int) -> pl.DataFrame:
    """PARAGRAPH_HASH, TEXT -> PARAGRAPH_HASH, band_0 .. band_11 (UInt64), SIGNATURE for the
    paragraphs of at least `min_words` tokens (and so at least one bigram), BAND_CHUNK
    paragraphs at a time."""
    parts = _in_chunks(
        lambda start, size: _band_chunk(paragraphs.slice(start, size), min_words=min_words),
        paragraphs.height,
        BAND_CHUNK,
    )
    return pl.concat(parts) if parts else _band_chunk(paragraphs, min_words=min_words)


def bigrams_in_chunks(
    texts: pl.Series, *, chunk: int = BAND_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """_bigrams of `texts`, `chunk` texts at a time: the same arrays in the same order, in
    less time (BAND_THREADS chunks at once) and with bounded working memory."""
    parts = _in_chunks(lambda start, size: _bigrams(texts.slice(start, size)), len(texts), chunk)
    if not parts:
        return _bigrams(texts)
    starts = range(0, len(texts), chunk)
    owner = np.concatenate([o + start for (o, _), start in zip(parts, starts, strict=True)])
    return owner, np.concatenate([ids for _, ids in parts])


def _in_chunks(work: Callable[[int, int], T], n: int, chunk: int) -> list[T]:
    """work(start, chunk) for each chunk of `n` rows, in order; Polars and numpy release the
    GIL, so BAND_THREADS chunks at once use both cores."""
    with ThreadPoolExecutor(max_workers=BAND_THREADS) as pool:
        return list(pool.map(lambda start: work(start, chunk), range(0, n, chunk)))


def _band_chunk(paragraphs: pl.DataFrame, *, min_words: int) -> pl.DataFrame:
    schema = {
        S.PARAGRAPH_HASH: pl.String,
        **{c: pl.UInt64 for c in BAND_COLUMNS},
        SIGNATURE: pl.Binary,
    }
    owner, values = _bigrams(paragraphs[S.TEXT])
    n_bigrams = np.bincount(owner, minlength=paragraphs.height)
    keep = n_bigrams >= max(min_words - 1, 1)
    chosen = keep[owner]
    owner, values = owner[chosen], values[chosen]
    if len(owner) == 0:
        return pl.DataFrame(schema=schema)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    minima = np.empty((N_HASHES, len(starts)), dtype=np.uint64)
    hashed = np.empty_like(values)
    with np.errstate(over="ignore"):
        for k in range(N_HASHES):
            np.multiply(values, _A[k], out=hashed)
            np.add(hashed, _C[k], out=hashed)
            minima[k] = np.minimum.reduceat(hashed, starts)
        # The shift keeps order, so the minima can take it instead of every bigram: the same
        # values for a fraction of the shifts.
        minima >>= np.uint64(32)
        bands = {}
        for band in range(N_BANDS):
            combined = np.full(len(starts), np.uint64(band), dtype=np.uint64)
            for row in minima[band * ROWS : (band + 1) * ROWS]:
                combined = _splitmix(combined * _MIX1 + row)
            bands[BAND_COLUMNS[band]] = combined
    keys = paragraphs[S.PARAGRAPH_HASH].gather(owner[starts])
    signatures = np.ascontiguousarray(minima[:SIGNATURE_HASHES].T.astype("<u4"))
    return pl.DataFrame(
        {S.PARAGRAPH_HASH: keys, **bands, SIGNATURE: _as_binary(signatures)}, schema=schema
    )


def _as_binary(rows: np.ndarray) -> pl.Series:
    """uint32 [row, hash] -> one Binary value of 4 bytes per hash per row, without copying
    row by row."""
    n, width = rows.shape[0], rows.shape[1] * 4
    offsets = np.arange(n + 1, dtype=np.int64) * width
    array = pa.Array.from_buffers(
        pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(rows.tobytes())]
    )
    return pl.Series(SIGNATURE, array, dtype=pl.Binary)


def candidate_pairs(new: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Band signatures of new paragraphs and of stored ones -> PAIR_A (new), PAIR_B: every pair
    that agrees on a band, new against stored and new against new (each unordered pair once)."""
    found = []
    for column in BAND_COLUMNS:
        found.append(
            new.select(pl.col(S.PARAGRAPH_HASH).alias("_a"), column)
            .join(stored.select(S.PARAGRAPH_HASH, column), on=column, how="inner")
            .select(pl.col("_a").alias(PAIR_A), pl.col(S.PARAGRAPH_HASH).alias(PAIR_B))
        )
        inside = new.select(S.PARAGRAPH_HASH, column)
        found.append(
            inside.join(inside, on=column, how="inner", suffix="_other")
            .filter(pl.col(S.PARAGRAPH_HASH) < pl.col(f"{S.PARAGRAPH_HASH}_other"))
            .select(
                pl.col(S.PARAGRAPH_HASH).alias(PAIR_A),
                pl.col(f"{S.PARAGRAPH_HASH}_other").alias(PAIR_B),
            )
        )
    return pl.concat(found).unique()


def estimate(pairs: pl.DataFrame, signatures: pl.DataFrame) -> pl.Series:
    """MinHash estimate of each pair's similarity: the share of the 32 minima both agree on.

    `pairs`: PAIR_A, PAIR_B, and SIGNATURE_A / SIGNATURE_B columns (Binary) when given;
    `signatures`: PARAGRAPH_HASH, SIGNATURE to look the missing sides up in.
    """
    lookup = signatures.select(S.PARAGRAPH_HASH, SIGNATURE)
    filled = pairs
    for side, key in (("_sig_a", PAIR_A), ("_sig_b", PAIR_B)):
        filled = filled.join(
            lookup.rename({S.PARAGRAPH_HASH: key, SIGNATURE: side}), on=key, how="left"
        )
    if filled.is_empty():
        return pl.Series(SIMILARITY, [], dtype=pl.Float64)
    a = _signature_matrix(filled["_sig_a"])
    b = _signature_matrix(filled["_sig_b"])
    return pl.Series(SIMILARITY, (a == b).mean(axis=1), dtype=pl.Float64)


def _signature_matrix(blobs: pl.Series) -> np.ndarray:
    """Binary signatures (4 x SIGNATURE_HASHES bytes each; a missing one reads as zeros) -> uint32
    [row, hash], read from the Arrow buffers."""
    blank = bytes(4 * SIGNATURE_HASHES)
    array = blobs.fill_null(blank).to_arrow()
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_binary())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[
        array.offset : array.offset + len(array) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    if len(data) != len(array) * 4 * SIGNATURE_HASHES:
        raise ValueError("signatures of unexpected length")
    return data.view("<u4").reshape(len(array), SIGNATURE_HASHES)


def prefilter(pairs: pl.DataFrame, signatures: pl.DataFrame, *, threshold: float) -> pl.DataFrame:
    """The candidate pairs whose MinHash estimate reaches threshold - ESTIMATE_MARGIN."""
    if pairs.is_empty():
        return pairs
    kept = pairs.with_columns(estimate(pairs, signatures).alias("_estimate"))
    return kept.filter(pl.col("_estimate") >= threshold - ESTIMATE_MARGIN).drop("_estimate")


VERIFY_TEXTS = 5_000
"""Texts cut into bigrams together for verification: smaller than BAND_CHUNK, which is both
slower and heavier here (see BENCHMARKS.md)."""
VERIFY_CHUNK = 20_000
"""Candidate pairs measured together: each gathers a copy of its two bigram sets, so all pairs
at once would hold a copy per pair; chunks bound that memory without costing time (see
BENCHMARKS.md)."""


def verify(pairs: pl.DataFrame, texts: pl.DataFrame, *, threshold: float) -> pl.DataFrame:
    """PAIR_A, PAIR_B + texts (PARAGRAPH_HASH, TEXT of both sides) -> the pairs whose exact
    Jaccard similarity of shingle sets is at least `threshold`, with SIMILARITY.

    Each text's bigram ids become one list (offsets straight from the bigram owners, no
    grouping), and each pair's intersection is a list operation on the two gathered lists:
    no join on (paragraph, shingle) rows, which would make a row per shingle per pair and
    cost far more.
    """
    if pairs.is_empty():
        return pairs.with_columns(pl.lit(None, pl.Float64).alias(SIMILARITY))
    involved = pl.concat([pairs[PAIR_A], pairs[PAIR_B]]).unique().implode()
    frame = (
        texts.filter(pl.col(S.PARAGRAPH_HASH).is_in(involved))
        .unique(S.PARAGRAPH_HASH)
        .with_row_index("_i")
    )
    owner, ids = bigrams_in_chunks(frame[S.TEXT], chunk=VERIFY_TEXTS)  # in text order
    offsets = np.zeros(frame.height + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=frame.height), out=offsets[1:])
    sets = pl.Series(
        pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(ids, type=pa.uint64()))
    )
    index = frame.select(S.PARAGRAPH_HASH, "_i")
    located = pairs.select(PAIR_A, PAIR_B)
    for key, position in ((PAIR_A, "_ia"), (PAIR_B, "_ib")):
        located = located.join(
            index.rename({S.PARAGRAPH_HASH: key, "_i": position}),
            on=key,
            how="left",
            maintain_order="left",
        )
    sets = sets.list.unique()  # once per text, not once per pair

    def measure(start: int, size: int) -> pl.DataFrame:
        part = located.slice(start, size)
        both = pl.DataFrame({"_a": sets.gather(part["_ia"]), "_b": sets.gather(part["_ib"])})
        return both.select(
            common=pl.col("_a").list.set_intersection("_b").list.len(),
            both=pl.col("_a").list.len() + pl.col("_b").list.len(),
        )

    # Each pair gathers a copy of both its sets: VERIFY_CHUNK pairs at a time bounds them.
    sizes = pl.concat(_in_chunks(measure, located.height, VERIFY_CHUNK))
    # A text without a bigram has an empty set: no similarity (0 / 0), not a match.
    similarity = sizes.select(
        (pl.col("common") / (pl.col("both") - pl.col("common"))).fill_nan(None).alias(SIMILARITY)
    ).to_series()
    return (
        located.select(PAIR_A, PAIR_B)
        .with_columns(similarity)
        .filter(pl.col(SIMILARITY) >= threshold)
    )


def jaccard(a: str, b: str) -> float:
    """The similarity of two texts on nutgraf's shingling (for evaluation and tests).

    Texts without a bigram (fewer than two tokens) are 1.0 when their tokens are equal and 0.0
    otherwise."""
    frame = pl.DataFrame({S.PARAGRAPH_HASH: ["a", "b"], S.TEXT: [a, b]})
    sets = shingles(frame)
    left = set(sets.filter(pl.col(S.PARAGRAPH_HASH) == "a")[SHINGLE].to_list())
    right = set(sets.filter(pl.col(S.PARAGRAPH_HASH) == "b")[SHINGLE].to_list())
    union = left | right
    if not union:
        words = frame.select(tokens(pl.col(S.TEXT)))[S.TEXT].to_list()
        return 1.0 if words[0] == words[1] else 0.0
    return len(left & right) / len(union)


# --- groups and their canonical paragraph ----------------------------------------------------

SEEN_AT = "seen_at"  # published_at of the article a paragraph was first seen in
NEAR_DUP_OF = "near_dup_of"
CANONICAL = "canonical"


def assign_canonicals(
    new: pl.DataFrame, pairs: pl.DataFrame, stored: pl.DataFrame, *, max_rounds: int = 50
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Group paragraphs linked by verified pairs and give each group its canonical paragraph:
    the earliest seen (SEEN_AT, nulls last), then the lowest hash.

    - `new`: PARAGRAPH_HASH, SEEN_AT of the batch's new paragraphs;
    - `pairs`: PAIR_A (new), PAIR_B (new or stored) verified at the threshold;
    - `stored`: PARAGRAPH_HASH, SEEN_AT, NEAR_DUP_OF of the stored paragraphs the pairs reach
      and of their canonicals.

    -> (PARAGRAPH_HASH, CANONICAL of every new paragraph in a group; PARAGRAPH_HASH (a stored
    canonical), CANONICAL (the new paragraph, seen earlier, that replaces it)). Labels spread
    along the links until nothing changes, so a chain a~b~c lands in one group.
    """
    stored_canon = stored.with_columns(pl.coalesce(NEAR_DUP_OF, S.PARAGRAPH_HASH).alias("_canon"))
    nodes = pl.concat(
        [
            new.select(S.PARAGRAPH_HASH, SEEN_AT, pl.col(S.PARAGRAPH_HASH).alias("_canon")),
            stored_canon.select(S.PARAGRAPH_HASH, SEEN_AT, "_canon"),
        ]
    ).unique(S.PARAGRAPH_HASH, keep="first")
    ranked = nodes.sort(SEEN_AT, S.PARAGRAPH_HASH, nulls_last=True).with_row_index("_rank")
    rank_of = ranked.select(S.PARAGRAPH_HASH, "_rank")
    labels = ranked.join(
        rank_of.rename({S.PARAGRAPH_HASH: "_canon", "_rank": "_label"}), on="_canon", how="left"
    ).select(S.PARAGRAPH_HASH, pl.col("_label").fill_null(pl.col("_rank")).alias("_label"))
    # links: the verified pairs, and each stored paragraph to its stored canonical
    edges = pl.concat(
        [
            pairs.select(pl.col(PAIR_A).alias("_x"), pl.col(PAIR_B).alias("_y")),
            stored_canon.filter(pl.col("_canon") != pl.col(S.PARAGRAPH_HASH)).select(
                pl.col(S.PARAGRAPH_HASH).alias("_x"), pl.col("_canon").alias("_y")
            ),
        ]
    ).filter(pl.col("_y").is_in(nodes[S.PARAGRAPH_HASH].implode()))
    both = pl.concat([edges, edges.select(pl.col("_y").alias("_x"), pl.col("_x").alias("_y"))])
    for _ in range(max_rounds):
        spread = (
            both.join(labels.rename({S.PARAGRAPH_HASH: "_y"}), on="_y")
            .group_by("_x")
            .agg(pl.col("_label").min().alias("_offered"))
        )
        updated = labels.join(
            spread.rename({"_x": S.PARAGRAPH_HASH}), on=S.PARAGRAPH_HASH, how="left"
        ).select(
            S.PARAGRAPH_HASH,
            pl.min_horizontal("_label", pl.col("_offered").fill_null(pl.col("_label"))).alias(
                "_label"
            ),
        )
        changed = updated.join(labels, on=S.PARAGRAPH_HASH).filter(
            pl.col("_label") != pl.col("_label_right")
        )
        labels = updated
        if changed.is_empty():
            break
    named = labels.join(
        rank_of.rename({S.PARAGRAPH_HASH: CANONICAL, "_rank": "_label"}), on="_label"
    ).select(S.PARAGRAPH_HASH, CANONICAL)
    in_groups = both.select(pl.col("_x").alias(S.PARAGRAPH_HASH)).unique()
    new_members = (
        named.join(new.select(S.PARAGRAPH_HASH), on=S.PARAGRAPH_HASH)
        .join(in_groups, on=S.PARAGRAPH_HASH)
        .sort(S.PARAGRAPH_HASH)
    )
    replaced = (
        named.join(
            stored_canon.filter(pl.col("_canon") == pl.col(S.PARAGRAPH_HASH)).select(
                S.PARAGRAPH_HASH
            ),
            on=S.PARAGRAPH_HASH,
        )
        .filter(pl.col(CANONICAL) != pl.col(S.PARAGRAPH_HASH))
        .sort(S.PARAGRAPH_HASH)
    )
    return new_members, replaced


LINKS = pl.Schema({S.PARAGRAPH_HASH: pl.String, NEAR_DUP_OF: pl.String, SIMILARITY: pl.Float64})
"""A near-duplicate link: the paragraph, its group's canonical and how alike they are."""


def link_similarities(pairs: pl.DataFrame, texts: pl.DataFrame) -> pl.DataFrame:
    """PAIR_A (member), PAIR_B (its canonical) -> PARAGRAPH_HASH, NEAR_DUP_OF, SIMILARITY."""
    scored = verify(pairs, texts, threshold=0.0)
    return (
        pairs.join(scored, on=[PAIR_A, PAIR_B], how="left")
        .select(
            pl.col(PAIR_A).alias(S.PARAGRAPH_HASH),
            pl.col(PAIR_B).alias(NEAR_DUP_OF),
            pl.col(SIMILARITY).fill_null(0.0),
        )
        .pipe(S.conform, LINKS)
        .sort(S.PARAGRAPH_HASH)
    )
