"""Tests for transforms.langid: the same verdicts as py3langid's own classify, and the cache."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.helpers import corpus
from transforms import langid
from transforms.gazetteer import language_codes
from transforms.langid import (
    cache_file,
    classify,
    load_model,
    load_py3langid,
)
from transforms.schema import LANGUAGE, SCORE
from transforms.tagging import identify_languages

BBC_FILES_STEP = 6  # every 6th BBC article: ~2,300 paragraphs from all five topics
CONFIDENCE_TOLERANCE = 1e-4

EDGE_CASES = [
    "",
    None,
    "PRIME MINISTER RESIGNS AFTER VOTE OF NO CONFIDENCE IN THE COMMONS",
    "ΟΔΟΣ ΑΘΗΝΑΣ ΚΑΙ ΠΕΙΡΑΙΩΣ",  # all caps, final sigma when lower-cased
    "İSTANBUL BELEDİYESİ",  # lower-casing İ makes the text longer in bytes
    "x",
    "é",
    "1234567890",
    "2000 GMT",
    "😀🎉👍🇫🇷",
    "Le\u200bgouvernement\u200ba\u200bannoncé\u200bde nouvelles mesures",
    "Cafe\u0301 de\u0301ja\u0300 vu, l'e\u0301te\u0301 a\u0300 Paris",  # decomposed: NFC changes it
    "   ",
    "\n\t",
    "ǅemal Bijedić",  # titlecase letter: not all upper
    ("Le gouvernement a annoncé de nouvelles mesures après les manifestations. " * 20)[:1000],
    ("中国和俄罗斯的关系在过去几年里不断加强，两国领导人多次会晤。" * 40)[:1000],
]


# Alphabets mixed at random by test_random_texts: scripts, cases, combining marks, ligatures.
ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz     ",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ   ",
    "àéèêëïîôùûçœæÀÉÈÇ  ",
    "αβγδεζηθικλμνξοπρστυφχψωΣΑΒΓΔ ",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД ",
    "中国和俄罗斯的关系在过去几年里不断加强",
    "ការប្រឆាំង\u200b",
    "0123456789.,;:!?-()\"' ",
    "\u0301\u0300\u0308\u0327",
    "ǅǈǋǲİıŞşĞğßẞ",
    "😀🎉👍🇫🇷ﬁﬂ㎏①Ⅻ",
    "אבגדהוזחטיכלמנסעפצקרשת ابتثجحخدذرزسشصضطظعغفقكلمنهوي ",
]


def _paragraphs(path: Path) -> list[str]:
    """Blocks separated by blank lines, stripped (as the BBC files lay out paragraphs)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


def assert_same_verdicts(texts: list[str | None]) -> None:
    """classify gives py3langid's code for every text, and its confidence within tolerance."""
    reference = load_py3langid()
    expected = [None if text is None else reference.classify(text) for text in texts]
    got = classify(pl.Series(texts, dtype=pl.String), load_model())
    assert got.columns == [LANGUAGE, SCORE] and got.height == len(texts)
    codes = got[LANGUAGE].to_list()
    mismatches = [
        (text, verdict, code)
        for text, verdict, code in zip(texts, expected, codes, strict=True)
        if (verdict[0] if verdict else None) != code
    ]
    assert mismatches == []
    scores = got[SCORE].to_list()
    assert [score is None for score in scores] == [verdict is None for verdict in expected]
    np.testing.assert_allclose(
        [score for score in scores if score is not None],
        [verdict[1] for verdict in expected if verdict is not None],
        rtol=0,
        atol=CONFIDENCE_TOLERANCE,
    )


# --- same verdicts -------------------------------------------------------------------------


def test_edge_cases():
    assert_same_verdicts(EDGE_CASES)


def test_bbc_paragraphs():
    files = sorted(corpus("bbc").glob("*/*.txt"))[::BBC_FILES_STEP]
    texts = [paragraph for path in files for paragraph in _paragraphs(path)]
    assert len(texts) > 1_500
    assert_same_verdicts(texts)


def test_multilingual_paragraphs():
    """Every non-blank line, as it stands (not normalised: zero-width spaces and all)."""
    files = sorted(corpus("multilingual").glob("*/*.txt"))
    texts = [
        line.strip()
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert {path.parent.name[:2] for path in files} == {"es", "fr", "km", "zh"}
    assert_same_verdicts(texts)


def test_random_texts():
    """Random mixes of alphabets, a fifth of them upper-cased: the encoding rules' corners."""
    rng = random.Random(20261128)
    texts = []
    for _ in range(600):
        alphabets = rng.sample(ALPHABETS, rng.randint(1, 3))
        length = rng.choice([0, 1, 2, 5, 20, 100, 300])
        text = "".join(rng.choice(rng.choice(alphabets)) for _ in range(length))
        texts.append(text.upper() if rng.random() < 0.2 else text)
    assert_same_verdicts(texts)


def test_texts_spanning_several_slices_and_chunks(monkeypatch):
    monkeypatch.setattr(langid, "SLICE_TEXTS", 7)
    monkeypatch.setattr(langid, "CHUNK_TEXTS", 3)
    monkeypatch.setattr(langid, "CHUNK_CELLS", 64)
    assert_same_verdicts(EDGE_CASES * 2)


def test_empty_and_all_null_series():
    model = load_model()
    empty = classify(pl.Series([], dtype=pl.String), model)
    assert empty.schema == pl.Schema({LANGUAGE: pl.String, SCORE: pl.Float64})
    assert empty.height == 0
    nulls = classify(pl.Series([None, None]), model)
    assert nulls.rows() == [(None, None), (None, None)]


def test_characters_below_u0300_never_change_under_nfc():
    """_encode only normalises texts with a character from U+0300 up; this is why."""
    below = [chr(code) for code in range(1, 0x300)]
    assert all(unicodedata.combining(char) == 0 for char in below)
    assert all(unicodedata.is_normalized("NFC", char) for char in below)
    assert unicodedata.is_normalized("NFC", "".join(below))


def test_labels_are_py3langids():
    assert load_model().labels == load_py3langid().labels
    assert language_codes() == load_py3langid().labels


# --- cache ---------------------------------------------------------------------------------


def _no_rebuild() -> None:
    raise AssertionError("the model was rebuilt from py3langid instead of read from the cache")


def _assert_same_model(a: langid.LanguageModel, b: langid.LanguageModel) -> None:
    assert a.start == b.start
    for name in ("moves", "nb_ptc", "nb_pc", "classes", "alias_pairs"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_cache_is_written_then_reused(tmp_path, monkeypatch):
    path = cache_file(tmp_path)
    assert path.name == f"py3langid-{langid.PY3LANGID_VERSION}-iso639-1.npz"
    built = load_model(tmp_path)
    assert path.is_file()
    assert load_model(tmp_path) is built  # in-process cache
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    monkeypatch.setattr(langid, "_model_from_py3langid", _no_rebuild)
    read = langid._read_or_build(tmp_path)  # as a new process would: from the file only
    _assert_same_model(read, built)
    assert read.moves.flags.c_contiguous and read.nb_ptc.dtype == np.float32


@pytest.fixture(scope="module")
def good_cache(tmp_path_factory) -> bytes:
    """The bytes of a cache file as load_model writes it."""
    folder = tmp_path_factory.mktemp("cache")
    langid._read_or_build(folder)
    return cache_file(folder).read_bytes()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "old_layout", "inconsistent"])
def test_damaged_cache_is_rebuilt(tmp_path, good_cache, damage):
    path = cache_file(tmp_path)
    if damage == "garbage":
        path.write_bytes(b"not a zip file")
    elif damage == "truncated":
        path.write_bytes(good_cache[: len(good_cache) // 2])
    elif damage == "old_layout":
        np.savez(path, layout=np.array(langid.CACHE_LAYOUT - 1))
    else:
        moves = np.zeros((langid._ROW, 2), dtype=np.int32)
        arrays = {name: np.zeros(3) for name in ("start", "nb_ptc", "nb_pc", "classes")}
        np.savez(path, layout=np.array(langid.CACHE_LAYOUT), moves=moves, **arrays)

    rebuilt = langid._read_or_build(tmp_path)
    _assert_same_model(rebuilt, load_model())
    assert path.read_bytes() == good_cache


def test_unwritable_cache_folder_is_not_fatal(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    model = langid._read_or_build(blocker / "cache")
    _assert_same_model(model, load_model())


def test_the_language_tagger_keeps_the_model_in_the_folder_it_is_given(tmp_path):
    texts = pl.Series(["Le chat dort sur la table de la cuisine depuis ce matin."])
    assert identify_languages(texts, cache_dir=tmp_path / "cache").to_list() == ["fr"]
    assert cache_file(tmp_path / "cache").is_file()
    assert identify_languages(texts).to_list() == ["fr"]  # no folder: nothing written
