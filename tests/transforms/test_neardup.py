"""Near-duplicate search: the shingling, stable band signatures, candidates with verification,
and the canonical paragraph of each group."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import polars as pl
import pytest

from tests.helpers import corpus
from transforms import schema as S
from transforms.neardup import (
    BAND_COLUMNS,
    NEAR_DUP_OF,
    PAIR_A,
    PAIR_B,
    SEEN_AT,
    assign_canonicals,
    band_signatures,
    bigrams_in_chunks,
    candidate_pairs,
    jaccard,
    verify,
)

LONG = (
    "President Xi Jinping met Vladimir Putin in Beijing on Tuesday for talks on energy "
    "cooperation and trade between the two countries, officials in both capitals said after "
    "a meeting that lasted more than three hours and ended with a joint statement on gas "
    "supplies and a new pipeline."
)


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _frame(*texts: str) -> pl.DataFrame:
    return pl.DataFrame({S.PARAGRAPH_HASH: [_h(t) for t in texts], S.TEXT: list(texts)})


def test_shingling_ignores_case_and_punctuation_and_keeps_one_word_edits_close():
    assert jaccard(LONG, LONG.upper().replace(",", ";").replace(".", "!")) == 1.0
    edited = LONG.replace("Tuesday", "Wednesday")
    assert len(LONG.split()) >= 40
    assert jaccard(LONG, edited) >= 0.9
    assert jaccard(LONG, "Football results from the weekend, in full.") == 0.0


def test_band_signatures_are_stable_and_skip_short_paragraphs():
    bands = band_signatures(_frame(LONG, "Reuters reported it."), min_words=8)

    assert bands[S.PARAGRAPH_HASH].to_list() == [_h(LONG)]
    # Stored signatures must mean the same thing to every later process and version.
    assert bands.row(0)[1:3] == (13061686620513351198, 723240506398863324)
    again = band_signatures(_frame(LONG.replace(",", "")), min_words=8)
    assert again.select(BAND_COLUMNS).rows() == bands.select(BAND_COLUMNS).rows()


def test_candidates_are_verified_on_exact_shingle_sets():
    edited = LONG.replace("Tuesday", "Wednesday")
    unrelated = "Shares in London fell sharply on Monday as energy prices jumped after the news."
    new = band_signatures(_frame(edited, unrelated), min_words=8)
    stored = band_signatures(_frame(LONG), min_words=8)

    pairs = candidate_pairs(new, stored)
    verified = verify(pairs, _frame(LONG, edited, unrelated), threshold=0.8)

    assert verified.select(PAIR_A, PAIR_B).rows() == [(_h(edited), _h(LONG))]
    assert verified["similarity"][0] == jaccard(LONG, edited)


def test_bigrams_in_chunks_equal_bigrams_of_the_whole_column():
    from transforms.neardup import _bigrams

    texts = pl.Series([LONG, "", "Hello", LONG[:80], "one two", None, LONG.upper()] * 3)
    whole = _bigrams(texts)
    for chunk in (1, 2, 5, len(texts), 100):
        owner, ids = bigrams_in_chunks(texts, chunk=chunk)
        assert owner.tolist() == whole[0].tolist() and ids.tolist() == whole[1].tolist()
    assert [a.tolist() for a in bigrams_in_chunks(texts.head(0))] == [[], []]


@pytest.mark.parametrize("chunks", [None, (2, 3)], ids=["default-chunks", "texts-2-pairs-3"])
def test_verify_scores_every_pair_as_the_reference_jaccard_does(monkeypatch, chunks):
    """Also cut into chunks of 2 texts and 3 pairs: 20 pairs over 7 chunks, in order."""
    if chunks:
        monkeypatch.setattr("transforms.neardup.VERIFY_TEXTS", chunks[0])
        monkeypatch.setattr("transforms.neardup.VERIFY_CHUNK", chunks[1])
    texts = [
        LONG,
        LONG.replace("Tuesday", "Wednesday"),
        LONG[: len(LONG) // 2],
        "energy cooperation and trade between the two countries energy cooperation",
        "Hello",  # no bigram: an empty set, similarity 0 to any text with one
    ]
    frame = _frame(*texts)
    pairs = pl.DataFrame(
        [(_h(a), _h(b)) for a in texts for b in texts if a != b],
        schema=[PAIR_A, PAIR_B],
        orient="row",
    )

    scored = verify(pairs, frame, threshold=0.0)

    expected = {(_h(a), _h(b)): jaccard(a, b) for a in texts for b in texts if a != b}
    found = {(a, b): similarity for a, b, similarity in scored.iter_rows()}
    assert found == pytest.approx(expected)
    assert verify(pairs.head(0), frame, threshold=0.0).is_empty()
    hello = _frame("Hello", "Hello.")  # two empty sets: no similarity at all
    pair = pl.DataFrame({PAIR_A: [_h("Hello")], PAIR_B: [_h("Hello.")]})
    assert verify(pair, hello, threshold=0.0).is_empty()


def test_one_word_edits_of_long_bbc_paragraphs_are_found():
    paragraphs = []
    for path in sorted(corpus("bbc").glob("*/*.txt"))[:400]:
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs += [p.strip() for p in text.split("\n\n")[1:] if len(p.split()) >= 40]
    paragraphs = sorted(set(paragraphs))
    rng = random.Random(7)
    originals = rng.sample(paragraphs, 200)
    edits = []
    for original in originals:
        words = original.split()
        words[rng.randrange(len(words))] = "xylophone"
        edits.append(" ".join(words))

    stored = band_signatures(_frame(*paragraphs), min_words=8)
    new = band_signatures(_frame(*edits), min_words=8)
    verified = verify(candidate_pairs(new, stored), _frame(*paragraphs, *edits), threshold=0.8)

    found = set(verified.select(PAIR_A, PAIR_B).rows())
    hits = sum((_h(e), _h(o)) in found for o, e in zip(originals, edits, strict=True))
    assert hits / len(edits) >= 0.95
    assert (verified["similarity"] >= 0.8).all()


def _no_stored() -> pl.DataFrame:
    schema = {
        S.PARAGRAPH_HASH: pl.String,
        SEEN_AT: pl.Datetime("us", "UTC"),
        NEAR_DUP_OF: pl.String,
    }
    return pl.DataFrame(schema=schema)


def _at(day: int) -> datetime:
    return datetime(2026, 3, day, tzinfo=UTC)


def test_a_chain_of_new_paragraphs_takes_the_earliest_as_canonical():
    new = pl.DataFrame({S.PARAGRAPH_HASH: ["c", "a", "b"], SEEN_AT: [_at(3), _at(1), _at(2)]})
    pairs = pl.DataFrame({PAIR_A: ["c", "b"], PAIR_B: ["b", "a"]})
    stored = _no_stored()

    members, replaced = assign_canonicals(new, pairs, stored)

    assert dict(members.rows()) == {"a": "a", "b": "a", "c": "a"}
    assert replaced.is_empty()


def test_a_new_paragraph_seen_earlier_replaces_a_stored_canonical():
    new = pl.DataFrame({S.PARAGRAPH_HASH: ["z"], SEEN_AT: [_at(1)]})
    stored = pl.DataFrame(
        {
            S.PARAGRAPH_HASH: ["m", "k"],
            SEEN_AT: [_at(5), _at(4)],
            NEAR_DUP_OF: ["k", None],
        }
    )
    pairs = pl.DataFrame({PAIR_A: ["z"], PAIR_B: ["m"]})

    members, replaced = assign_canonicals(new, pairs, stored)

    assert dict(members.rows()) == {"z": "z"}
    assert dict(replaced.rows()) == {"k": "z"}


def test_ties_in_time_go_to_the_lowest_hash():
    new = pl.DataFrame({S.PARAGRAPH_HASH: ["q", "p"], SEEN_AT: [_at(2), _at(2)]})
    pairs = pl.DataFrame({PAIR_A: ["q"], PAIR_B: ["p"]})
    stored = _no_stored()

    members, _ = assign_canonicals(new, pairs, stored)

    assert dict(members.rows()) == {"p": "p", "q": "p"}


def test_texts_without_a_bigram_are_similar_only_when_their_words_are_equal():
    assert jaccard("Hill.", "Boo.") == 0.0
    assert jaccard("Reuters", "REUTERS!") == 1.0


def test_token_ids_tell_apart_words_that_share_their_ends():
    from transforms.neardup import _token_ids

    words = pl.Series(
        ["a", "ab", "abcdefgh", "abcdefghi", "abcdefgh-xyz-abcdefgh", "abcdefgh-xxx-abcdefgh", "a"]
    )
    ids = _token_ids(words).tolist()

    assert len(set(ids)) == 6 and ids[0] == ids[-1]
    assert _token_ids(pl.Series(["ab"])).tolist() == [ids[1]]  # whatever its neighbours
