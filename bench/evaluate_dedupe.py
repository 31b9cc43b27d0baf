"""bench/evaluate: how well nutgraf finds copied paragraphs, scored against known copies.

Usage: bench/evaluate [--articles N] [--seed S] [--out DIR] [--no-bbc] [--write]

1. **Generate** (fixed seed). N base articles (default 2,000) are built from distinct body
   paragraphs of the shared BBC corpus (NUTGRAF_CORPORA, default ../shared/corpora; read at run
   time, never copied into the repository), each paragraph used once, as
   ``outlet-x/YYYY/MM/DD/NNNNNN.txt`` files (title, blank line, paragraphs on blank lines) dated
   January-June 2024. Copies are injected into *new* articles dated July-December 2024 under
   another outlet's folder, each mixed with one or two fresh BBC paragraphs, so every original is
   older than its copy. Each original is copied once. The kinds of copy:

   - ``exact``: the paragraph verbatim;
   - ``normalisation``: a variant nutgraf's normal form folds back to the same text (curly
     quotes, en/em dashes, doubled spaces, a non-breaking space, a zero-width space at a word
     boundary, the ellipsis character, or all of them at once);
   - ``one_word``: one word replaced by another, in paragraphs of 40+ words;
   - ``one_word_mixed``, ``two_word``, ``punctuation``: one word, two words, or only
     punctuation (commas, full stops, quotes; the words stay) changed, in paragraphs drawn
     evenly from four lengths: 0-7, 8-18, 19-39 and 40+ words;
   - ``self_repeat``: a fresh paragraph written twice in the same article;
   - ``syndicated_article``: a whole base article copied under another outlet with a new title.

   Every injected (kind, copy text, original text, paths) is written to ``manifest.json``.

2. **Run** ``nutgraf run`` on the landing folder, in a fresh working folder (exit 0 or 4).

3. **Score** from the warehouse, opened read-only. Paragraph hashes are computed from the
   manifest texts with nutgraf's own ``normalise_text`` and sha256, so manifest rows map to
   warehouse rows.

   - Exact kinds (``exact``, ``normalisation``): found when the copy's article holds an
     occurrence of the original's hash of kind ``corpus`` or ``repeat``; ``self_repeat``: when
     the article holds it as ``repeat``; ``syndicated_article``: when ``syndication_pairs`` pairs
     the copy with its original over all of the original's paragraphs.
   - Near kinds: found when the copy's ``paragraphs.near_dup_of`` is the original, the original's
     is the copy (``wrong direction``: the canonical should be the older paragraph), or both
     point at the same canonical paragraph.
   - Precision per kind: of the links nutgraf reported that involve the kind's copies, the share
     that are true. Exact kinds: occurrences of kind ``corpus``/``repeat`` in the copy articles,
     true when the paragraph's ``first_article_id`` is the original's article (for a repeat, the
     article itself); near kinds: ``near_dup_of`` rows with a copy at either end, true when the
     other end is the original or the original's own canonical; syndicated articles:
     ``syndication_pairs`` rows of the copy, true when the first article is the original. Links
     that involve no injected copy are counted on a row of their own.
   - Threshold figures, on nutgraf's documented shingling (``transforms.neardup.jaccard``) and
     its ``near_dup_threshold`` (0.8): the recall over injected near pairs whose true Jaccard
     reaches the threshold (all of them, and those of at least ``near_dup_min_words`` words);
     the share of every reported near link (member -> canonical) whose true Jaccard, computed
     from the two texts in the warehouse, reaches it; the recall on one-word edits of 40+ word
     paragraphs; and recall by paragraph length.

4. **BBC** (``--bbc``, on when the corpus is there): nutgraf on the whole BBC folder (2,225
   files, a few minutes): duplicate files recorded (the corpus holds 98 byte-identical files),
   titles carried by two different texts (31), and its near links judged by true Jaccard.

The tables are printed as markdown; ``--write`` also writes them, with the command, date and
machine, to EVALUATION.md. Generated files and warehouses go to ``--out`` (default
bench/out/evaluate, git-ignored); only the folders this script makes there are replaced.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from flows.settings import load_settings
from transforms.neardup import jaccard
from transforms.normalise import hash_text, normalise_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
BBC_FILES, BBC_DUPLICATE_FILES, BBC_RETITLED = 2225, 98, 31  # known facts of the BBC corpus

SOURCES = ("outlet-a", "outlet-b", "outlet-c", "outlet-d", "outlet-e")
BASE_START, COPY_START, HALF_YEAR = date(2024, 1, 1), date(2024, 7, 1), 181
HASH_KINDS = ("exact", "normalisation", "self_repeat")
NEAR_KINDS = ("one_word", "one_word_mixed", "two_word", "punctuation")
MIXED_KINDS = ("one_word_mixed", "two_word", "punctuation")
KINDS = ("exact", "normalisation", *NEAR_KINDS, "self_repeat", "syndicated_article")
SHARE = {  # injected items per base article
    "exact": 0.1,
    "normalisation": 0.1,
    "one_word": 0.1,
    "one_word_mixed": 0.1,
    "two_word": 0.1,
    "punctuation": 0.1,
    "self_repeat": 0.05,
    "syndicated_article": 0.025,
}
DESCRIBE = {
    "exact": "same paragraph verbatim",
    "normalisation": "folds to the same normal form",
    "one_word": "one word replaced, 40+ words",
    "one_word_mixed": "one word replaced, mixed lengths",
    "two_word": "two words replaced, mixed lengths",
    "punctuation": "punctuation only, mixed lengths",
    "self_repeat": "repeated inside its article",
    "syndicated_article": "whole article, other outlet",
}
BUCKETS = ((0, 7), (8, 18), (19, 39), (40, 10**9))  # words of the original
MIN_WORDS_FALLBACK, THRESHOLD_FALLBACK = 8, 0.8

_STABLE = re.compile(r"[ -~£]+")  # text nutgraf's normal form leaves exactly as it is
_TOKEN = re.compile(r"[^\W_]+")  # letters and digits: nutgraf's tokens on this ASCII text
_WORD = re.compile(r"^([^A-Za-z0-9]*)([A-Za-z]+)([^A-Za-z0-9]*)$")  # a word with its punctuation


def bucket_of(words: int) -> str:
    low, high = next(b for b in BUCKETS if b[0] <= words <= b[1])
    return f"{low}+" if high >= 10**9 else f"{low}-{high}"


def bucket_expr(words: pl.Expr) -> pl.Expr:
    """bucket_of as an expression."""
    low = BUCKETS[-1][0]
    expr = pl.when(words >= low).then(pl.lit(bucket_of(low)))
    for low, high in BUCKETS[:-1]:
        expr = expr.when(words.is_between(low, high)).then(pl.lit(bucket_of(low)))
    return expr


def n_words(text: str) -> int:
    return len(_TOKEN.findall(text))


# ---------------------------------------------------------------------------------- generate


@dataclass
class Article:
    number: int
    source: str
    day: date
    title: str
    body: list[str]

    @property
    def path(self) -> str:
        """Relative to the landing folder: the outlet folder gives source, the date published_at."""
        return f"{self.source}/{self.day:%Y/%m/%d}/{self.number:06d}.txt"

    def text(self) -> str:
        return f"{self.title}\n\n" + "\n\n".join(self.body) + "\n"


@dataclass
class Item:
    """One injected copy: what nutgraf should link, and where."""

    kind: str
    variant: str
    copy: str
    original: str
    original_path: str
    copy_path: str = ""
    words: int = 0  # tokens of the original
    paragraphs: int = 1  # syndicated articles: distinct paragraphs shared


def load_pool(bbc: Path) -> list[str]:
    """Distinct BBC body paragraphs, whitespace collapsed, in a stable order.

    Only the first file of each title is read (the corpus holds byte-identical files and
    retitled rewrites whose paragraphs are near copies of each other), and only paragraphs the
    normal form leaves as they are (printable ASCII and the pound sign), so an original's text
    is its normalised text.
    """
    seen_titles: set[str] = set()
    paragraphs: dict[str, None] = {}
    for path in sorted(bbc.glob("*/*.txt")):
        blocks = [b.strip() for b in path.read_bytes().decode("utf-8", "replace").split("\n\n")]
        blocks = [b for b in blocks if b]
        if not blocks or blocks[0] in seen_titles:
            continue
        seen_titles.add(blocks[0])
        for block in blocks[1:]:
            text = " ".join(block.split())
            if _STABLE.fullmatch(text):
                paragraphs[text] = None
    return list(paragraphs)


class Edits:
    """The text transformations, each drawing from one seeded random generator."""

    NORMALISATION: dict[str, Callable[[str], bool]] = {
        "curly_quotes": lambda t: '"' in t or "'" in t,
        "dash": lambda t: "-" in t,
        "double_space": lambda t: " " in t,
        "nbsp": lambda t: " " in t,
        "zero_width": lambda t: " " in t,
        "ellipsis": lambda t: "..." in t,
        "combined": lambda t: " " in t,
    }

    def __init__(self, rng: random.Random, vocabulary: Sequence[str]) -> None:
        self.rng = rng
        self.vocabulary = vocabulary

    def normalisation(self, text: str, variant: str) -> str:
        rng = self.rng
        if variant == "curly_quotes":
            parts = text.split('"')
            text = "".join(p + ("\u201c" if i % 2 == 0 else "\u201d") for i, p in enumerate(parts))
            return text[:-1].replace("'", "\u2019")
        if variant == "dash":
            return "".join(rng.choice("\u2013\u2014") if c == "-" else c for c in text)
        if variant == "ellipsis":
            return text.replace("...", "\u2026")
        words = text.split(" ")
        if len(words) < 2:
            return text + "  "  # trailing whitespace is trimmed
        gaps = rng.sample(range(len(words) - 1), min(3, len(words) - 1))
        if variant == "double_space":
            return self._join(words, {g: "  " for g in gaps})
        if variant == "nbsp":
            return self._join(words, {gaps[0]: "\u00a0"})
        if variant == "zero_width":
            return self._join(words, {gaps[0]: "\u200b "})
        # combined: every fold that applies
        text = self._join(words, {gaps[-1]: "\u200b  ", gaps[0]: "\u00a0"})
        for other in ("curly_quotes", "dash", "ellipsis"):
            if self.NORMALISATION[other](text):
                text = self.normalisation(text, other)
        return text

    @staticmethod
    def _join(words: list[str], gaps: dict[int, str]) -> str:
        """Words joined by single spaces, except gap i (after word i) given by `gaps`."""
        return words[0] + "".join(gaps.get(i, " ") + w for i, w in enumerate(words[1:]))

    def replace_words(self, text: str, k: int) -> tuple[str, str]:
        """`k` words (letters only, punctuation around them kept) replaced by other words."""
        words = text.split(" ")
        slots = [i for i, w in enumerate(words) if _WORD.match(w)]
        changes = []
        for i in self.rng.sample(slots, k):
            before, core, after = _WORD.match(words[i]).groups()  # type: ignore[union-attr]
            new = core
            while new.lower() == core.lower():
                new = self.rng.choice(self.vocabulary)
            new = new.capitalize() if core[0].isupper() else new
            words[i] = before + new + after
            changes.append(f"{core}->{new}")
        return " ".join(words), ", ".join(changes)

    def punctuation(self, text: str) -> tuple[str, str]:
        """One or two edits of commas, full stops or quotes; the tokens stay the same."""
        rng = self.rng
        for _ in range(50):
            words, done, wanted = text.split(" "), [], rng.choice((1, 2))
            for op in rng.sample(self._PUNCTUATION, len(self._PUNCTUATION)):
                if op(self, words):
                    done.append(op.__name__.strip("_"))
                    if len(done) == wanted:
                        break
            copy = " ".join(words)
            if copy != text and _TOKEN.findall(copy.lower()) == _TOKEN.findall(text.lower()):
                return copy, "+".join(done)
        raise ValueError(f"no punctuation edit applies to {text!r}")

    def _add_comma(self, words: list[str]) -> bool:
        slots = [i for i, w in enumerate(words[:-1]) if w[-1:].isalnum()]
        if slots:
            words[self.rng.choice(slots)] += ","
        return bool(slots)

    def _drop_comma(self, words: list[str]) -> bool:
        slots = [i for i, w in enumerate(words) if w.endswith(",")]
        if slots:
            i = self.rng.choice(slots)
            words[i] = words[i][:-1]
        return bool(slots)

    def _stop_to_comma(self, words: list[str]) -> bool:
        slots = [i for i, w in enumerate(words[:-1]) if w.endswith(".") and w[-2:-1].isalpha()]
        if slots:
            i = self.rng.choice(slots)
            words[i] = words[i][:-1] + ","
        return bool(slots)

    def _final_stop(self, words: list[str]) -> bool:
        words[-1] = words[-1][:-1] if words[-1].endswith(".") else words[-1] + "."
        return True

    def _quote_word(self, words: list[str]) -> bool:
        slots = [i for i, w in enumerate(words) if w.isalpha()]
        if slots:
            i = self.rng.choice(slots)
            words[i] = f'"{words[i]}"'
        return bool(slots)

    def _drop_quotes(self, words: list[str]) -> bool:
        found = any('"' in w for w in words)
        words[:] = [w.replace('"', "") or w for w in words]
        return found

    _PUNCTUATION = [_add_comma, _drop_comma, _stop_to_comma, _final_stop, _quote_word, _drop_quotes]


class Originals:
    """Base-article paragraphs not yet copied, by length bucket, in a seeded order."""

    def __init__(self, articles: list[Article], rng: random.Random) -> None:
        self.by_bucket: dict[str, list[tuple[str, str]]] = {}
        for article in articles:
            for text in article.body:
                self.by_bucket.setdefault(bucket_of(n_words(text)), []).append((text, article.path))
        for texts in self.by_bucket.values():
            rng.shuffle(texts)

    def take(self, ok: Callable[[str], bool], buckets: Sequence[str]) -> tuple[str, str]:
        """The next unused (text, path) passing `ok`, from the first bucket that has one."""
        for name in [*buckets, *self.by_bucket]:
            texts = self.by_bucket.get(name, [])
            for i, (text, _) in enumerate(texts):
                if ok(text):
                    return texts.pop(i)
        raise SystemExit("not enough BBC paragraphs for this many articles: lower --articles")


class Fresh:
    """BBC paragraphs not used yet, in a seeded order: each one goes into one article."""

    def __init__(self, pool: list[str], n: int) -> None:
        self.left = iter(pool)
        self.size, self.n = len(pool), n

    def take(self, k: int) -> list[str]:
        got = [p for _, p in zip(range(k), self.left, strict=False)]
        if len(got) < k:
            raise SystemExit(
                f"the BBC corpus has {self.size:,} usable paragraphs, not enough for "
                f"{self.n:,} base articles: lower --articles"
            )
        return got


def inject(
    base: list[Article], count: dict[str, int], fresh: Fresh, edits: Edits, rng: random.Random
) -> list[Item]:
    """`count` paragraph copies of each kind but syndicated articles (their paths set later)."""
    originals = Originals(base, rng)
    items: list[Item] = []
    for _ in range(count["exact"]):
        text, path = originals.take(lambda t: True, [])
        items.append(Item("exact", "verbatim", text, text, path))
    variants = list(Edits.NORMALISATION)
    for i in range(count["normalisation"]):
        variant = variants[i % len(variants)]
        text, path = originals.take(Edits.NORMALISATION[variant], [])
        items.append(Item("normalisation", variant, edits.normalisation(text, variant), text, path))
    for kind in NEAR_KINDS:
        k = 2 if kind == "two_word" else 1
        for i in range(count[kind]):
            if kind == "one_word":
                text, path = originals.take(lambda t: n_words(t) >= 40, [bucket_of(40)])
            else:  # the four lengths in turn
                bucket = bucket_of(BUCKETS[i % len(BUCKETS)][0])
                ok = (
                    (lambda t: len(t.split(" ")) >= 2)
                    if kind == "punctuation"
                    else (lambda t, k=k: sum(bool(_WORD.match(w)) for w in t.split(" ")) >= k)
                )
                text, path = originals.take(ok, [bucket])
            if kind == "punctuation":
                copy, variant = edits.punctuation(text)
            else:
                copy, variant = edits.replace_words(text, k)
            items.append(Item(kind, variant, copy, text, path))
    for text in fresh.take(count["self_repeat"]):
        items.append(Item("self_repeat", "twice", text, text, ""))
    return items


def pack(
    items: list[Item], base: list[Article], fresh: Fresh, n_syndicated: int, rng: random.Random
) -> list[Article]:
    """New articles carrying the copies, about three each with one or two fresh paragraphs,
    under an outlet none of their originals came from, dated after every base article."""
    rng.shuffle(items)
    source_of = {a.path: a.source for a in base}
    chunks: list[list[Item]] = [[] for _ in range(max(1, len(items) // 3))]
    for i, item in enumerate(items):
        chunks[i % len(chunks)].append(item)
    total = len(chunks) + n_syndicated
    copies: list[Article] = []
    for chunk in chunks:
        number = len(base) + len(copies)
        taken = {source_of[item.original_path] for item in chunk if item.original_path}
        source = rng.choice([s for s in SOURCES if s not in taken])
        day = COPY_START + timedelta(days=len(copies) * HALF_YEAR // total)
        article = Article(number, source, day, f"Story {number}", fresh.take(rng.randint(1, 2)))
        for item in chunk:
            article.body.insert(rng.randint(0, len(article.body)), item.copy)
        for item in chunk:
            item.copy_path = article.path
            if item.kind == "self_repeat":  # the second time, somewhere after the first
                item.original_path = article.path
                first = article.body.index(item.copy)
                article.body.insert(rng.randint(first + 1, len(article.body)), item.copy)
        copies.append(article)
    return copies


def syndicate(
    originals: list[Article], first_number: int, first_day: int, total: int, rng: random.Random
) -> tuple[list[Article], list[Item]]:
    """Whole base articles run again by another outlet, under a new title, later."""
    copies, items = [], []
    for i, original in enumerate(originals):
        source = rng.choice([s for s in SOURCES if s != original.source])
        day = COPY_START + timedelta(days=(first_day + i) * HALF_YEAR // total)
        title = f"{original.title}, as run by {source}"
        copy = Article(first_number + i, source, day, title, list(original.body))
        text = "\n\n".join(original.body)
        items.append(
            Item("syndicated_article", "new title", text, text, original.path, copy.path,
                 paragraphs=len(original.body))
        )  # fmt: skip
        copies.append(copy)
    return copies, items


def generate(landing: Path, n: int, bbc: Path, seed: int) -> dict:
    """Write the landing folder and return the manifest (see the module docstring)."""
    rng = random.Random(seed)
    pool = load_pool(bbc)
    rng.shuffle(pool)
    fresh = Fresh(pool, n)
    vocabulary = sorted({w.lower() for p in pool for w in _TOKEN.findall(p) if w.isalpha()})
    edits = Edits(rng, [w for w in vocabulary if len(w) >= 3])
    base = [
        Article(i, rng.choice(SOURCES), BASE_START + timedelta(days=i * HALF_YEAR // n),
                f"Story {i}", fresh.take(rng.randint(2, 5)))
        for i in range(n)
    ]  # fmt: skip
    count = {kind: max(1, round(n * share)) for kind, share in SHARE.items()}
    syndicated = rng.sample(base, count["syndicated_article"])
    items = inject([a for a in base if a not in syndicated], count, fresh, edits, rng)
    copies = pack(items, base, fresh, len(syndicated), rng)
    total = len(copies) + len(syndicated)
    again, syndicated_items = syndicate(syndicated, n + len(copies), len(copies), total, rng)
    items += syndicated_items
    for article in base + copies + again:
        path = landing / article.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article.text(), encoding="utf-8")
    for item in items:
        item.words = n_words(item.original)
    return {
        "seed": seed,
        "base_articles": n,
        "copy_articles": len(copies),
        "syndicated_articles": len(again),
        "files": len(base) + len(copies) + len(again),
        "bbc_paragraphs_available": len(pool),
        "items": [asdict(item) for item in items],
    }


# --------------------------------------------------------------------------------------- run


@dataclass
class Run:
    warehouse: Path
    workdir: Path
    exit_code: int
    seconds: float
    summary: dict = field(default_factory=dict)


def run_nutgraf(landing: Path, workdir: Path) -> Run:
    """`nutgraf run` in a fresh working folder (its Prefect home and caches live there)."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    nutgraf = Path(sys.executable).with_name("nutgraf")
    warehouse = workdir / "nutgraf.duckdb"
    cmd = [str(nutgraf if nutgraf.exists() else shutil.which("nutgraf")), "run", "--json"]
    cmd += ["--landing", str(landing), "--warehouse", str(warehouse)]
    cmd += ["--reports", str(workdir / "reports")]
    print(f"running nutgraf on {landing} ...", file=sys.stderr)
    start = time.perf_counter()
    env = {**os.environ, "NUTGRAF_SETTLE_SECONDS": "0"}
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 4):
        sys.exit(f"nutgraf run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return Run(warehouse, workdir, done.returncode, seconds, json.loads(done.stdout))


def near_settings(workdir: Path) -> tuple[float, int]:
    """near_dup_threshold and near_dup_min_words as the run saw them (same folder, same
    environment); the documented defaults on code that has no such settings."""
    with contextlib.chdir(workdir):
        settings = load_settings()
    return (
        float(getattr(settings, "near_dup_threshold", THRESHOLD_FALLBACK)),
        int(getattr(settings, "near_dup_min_words", MIN_WORDS_FALLBACK)),
    )


# ------------------------------------------------------------------------------------- score


def items_frame(manifest: dict) -> pl.DataFrame:
    """The manifest's items with the hashes nutgraf gives their texts and their true Jaccard."""
    items = pl.DataFrame(manifest["items"]).with_row_index("item")
    items = items.with_columns(
        hash_text(normalise_text(pl.col("copy"))).alias("copy_hash"),
        hash_text(normalise_text(pl.col("original"))).alias("original_hash"),
    )
    near = pl.col("kind").is_in(NEAR_KINDS)
    true_j = [
        jaccard(c, o) if k in NEAR_KINDS else None
        for k, c, o in items.select("kind", "copy", "original").iter_rows()
    ]
    return items.with_columns(
        pl.Series("jaccard", true_j, dtype=pl.Float64),
        pl.when(near).then(bucket_expr(pl.col("words"))).alias("bucket"),
    ).drop("copy", "original")


FOUND_SQL = """
WITH occ AS (
    SELECT a.path, o.paragraph_hash, o.kind
    FROM occurrences o JOIN articles a USING (article_id)
)
SELECT i.item,
    CASE
        WHEN i.kind IN ('exact', 'normalisation') THEN EXISTS (
            SELECT 1 FROM occ WHERE occ.path = i.copy_path
              AND occ.paragraph_hash = i.original_hash AND occ.kind IN ('corpus', 'repeat'))
        WHEN i.kind = 'self_repeat' THEN EXISTS (
            SELECT 1 FROM occ WHERE occ.path = i.copy_path
              AND occ.paragraph_hash = i.original_hash AND occ.kind = 'repeat')
        WHEN i.kind = 'syndicated_article' THEN EXISTS (
            SELECT 1 FROM syndication_pairs s WHERE s.first_path = i.original_path
              AND s.copy_path = i.copy_path AND s.shared_paragraphs = i.paragraphs)
        ELSE coalesce(pc.near_dup_of = i.original_hash OR po.near_dup_of = i.copy_hash
                      OR pc.near_dup_of = po.near_dup_of, false)
    END AS found,
    coalesce(po.near_dup_of = i.copy_hash, false) AS wrong_direction
FROM items i
LEFT JOIN paragraphs pc ON pc.paragraph_hash = i.copy_hash
LEFT JOIN paragraphs po ON po.paragraph_hash = i.original_hash
"""

# Occurrences nutgraf marked as copies (corpus / repeat), each attributed to the injected item
# it belongs to (by article path and hash), or to none. Those of syndicated copies are judged
# as article pairs (next query), so they are left out here and not counted as 'not injected'.
HASH_LINKS_SQL = """
SELECT coalesce(i.kind, 'not injected') AS kind,
    coalesce(i.kind = 'self_repeat' AND o.kind = 'repeat'
             OR i.kind IN ('exact', 'normalisation') AND o.kind = 'corpus'
                AND fa.path = i.original_path, false) AS true_link
FROM occurrences o
JOIN articles a USING (article_id)
JOIN paragraphs p USING (paragraph_hash)
LEFT JOIN articles fa ON fa.article_id = p.first_article_id
LEFT JOIN items i ON i.copy_path = a.path
    AND (i.kind IN ('exact', 'normalisation', 'self_repeat') AND i.copy_hash = o.paragraph_hash
         OR i.kind = 'syndicated_article')
WHERE o.kind IN ('corpus', 'repeat')
    AND i.kind IS DISTINCT FROM 'syndicated_article'  -- judged on syndication_pairs below
"""

SYNDICATION_LINKS_SQL = """
SELECT 'syndicated_article' AS kind, s.first_path = i.original_path AS true_link
FROM syndication_pairs s JOIN items i ON i.copy_path = s.copy_path
WHERE i.kind = 'syndicated_article'
"""

# near_dup_of rows (member -> canonical) with an injected near copy at either end (a row per
# copy), or none; true when the other end is the original or the original's canonical.
NEAR_LINKS_SQL = """
WITH links AS (
    SELECT paragraph_hash AS member, near_dup_of AS canonical
    FROM paragraphs WHERE near_dup_of IS NOT NULL
), near AS (
    SELECT i.*, po.near_dup_of AS original_canonical
    FROM items i LEFT JOIN paragraphs po ON po.paragraph_hash = i.original_hash
    WHERE i.kind IN ({near})
)
SELECT coalesce(n.kind, 'not injected') AS kind,
    CASE WHEN n.kind IS NULL THEN false
         ELSE coalesce((CASE WHEN l.member = n.copy_hash THEN l.canonical ELSE l.member END)
                       IN (n.original_hash, n.original_canonical), false)
    END AS true_link
FROM links l LEFT JOIN near n ON n.copy_hash IN (l.member, l.canonical)
"""

REPORTED_NEAR_SQL = """
SELECT m.text AS member_text, c.text AS canonical_text, m.similarity
FROM paragraphs m LEFT JOIN paragraphs c ON c.paragraph_hash = m.near_dup_of
WHERE m.near_dup_of IS NOT NULL
"""


def pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def judge_links(con: duckdb.DuckDBPyConnection, threshold: float) -> dict[str, int]:
    """Every reported near link judged on its true Jaccard (texts from the warehouse)."""
    links = con.sql(REPORTED_NEAR_SQL).pl()
    out = dict.fromkeys(("links", "at_threshold", "dangling", "similarity_mismatch"), 0)
    for member, canonical, similarity in links.iter_rows():
        out["links"] += 1
        if canonical is None:
            out["dangling"] += 1
            continue
        true_j = jaccard(member, canonical)
        out["at_threshold"] += true_j >= threshold
        out["similarity_mismatch"] += similarity is None or abs(similarity - true_j) > 1e-9
    return out


def score(manifest: dict, run: Run) -> str:
    """The markdown tables of the synthetic corpus."""
    threshold, min_words = near_settings(run.workdir)
    items = items_frame(manifest)
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        con.register("items", items.to_arrow())
        items = items.join(con.sql(FOUND_SQL).pl(), on="item")
        near_sql = NEAR_LINKS_SQL.format(near=", ".join(f"'{k}'" for k in NEAR_KINDS))
        links = pl.concat(
            [con.sql(q).pl() for q in (HASH_LINKS_SQL, SYNDICATION_LINKS_SQL, near_sql)]
        )
        judged = judge_links(con, threshold)
    finally:
        con.close()
    by_kind = items.group_by("kind").agg(
        pl.len().alias("injected"),
        pl.col("found").sum().alias("found"),
        pl.col("wrong_direction").sum().alias("wrong_direction"),
    )
    reported = links.group_by("kind").agg(
        pl.len().alias("reported"), pl.col("true_link").sum().alias("true")
    )
    stats = {
        r["kind"]: r
        for r in by_kind.join(reported, on="kind", how="full", coalesce=True).to_dicts()
    }
    rows: list[list[object]] = []
    for kind in (*KINDS, "not injected"):
        s = stats.get(kind) or {}
        injected, found = s.get("injected") or 0, s.get("found") or 0
        rep, true = s.get("reported") or 0, s.get("true") or 0
        wrong = s.get("wrong_direction") or 0 if kind in NEAR_KINDS else "-"
        if kind == "not injected":
            rows.append(
                [kind, "links involving no injected copy", "-", "-", "-", rep, "-", "-", "-"]
            )
        else:
            rows.append(
                [
                    f"`{kind}`",
                    DESCRIBE[kind],
                    injected,
                    found,
                    pct(found, injected),
                    rep,
                    true,
                    pct(true, rep),
                    wrong,
                ]
            )
    kinds_table = table(
        [
            "kind",
            "copy",
            "injected",
            "found",
            "recall",
            "links reported",
            "true",
            "precision",
            "wrong direction",
        ],
        rows,
    )

    near = items.filter(pl.col("kind").is_in(NEAR_KINDS))
    at = near.filter(pl.col("jaccard") >= threshold)
    at_long = at.filter(pl.col("words") >= min_words)
    long_one = near.filter(
        pl.col("kind").is_in(("one_word", "one_word_mixed")), pl.col("words") >= 40
    )

    def recall_row(name: str, frame: pl.DataFrame) -> list[object]:
        found = int(frame["found"].sum())
        return [name, frame.height, found, pct(found, frame.height)]

    threshold_table = table(
        ["measure", "pairs", "found", "share"],
        [
            recall_row(f"injected near pairs with true Jaccard >= {threshold}: recall", at),
            recall_row(
                f"... of those, originals of >= {min_words} words (near_dup_min_words): recall",
                at_long,
            ),
            recall_row("one-word edits of 40+ word paragraphs: recall", long_one),
            [
                f"near links reported (member -> canonical): true Jaccard >= {threshold}",
                judged["links"],
                judged["at_threshold"],
                pct(judged["at_threshold"], judged["links"]),
            ],
            [
                "near links whose stored similarity is not the true Jaccard",
                judged["links"],
                judged["similarity_mismatch"],
                pct(judged["similarity_mismatch"], judged["links"]),
            ],
            [
                "near links whose canonical is not in `paragraphs`",
                judged["links"],
                judged["dangling"],
                pct(judged["dangling"], judged["links"]),
            ],
        ],
    )

    lengths = (
        near.filter(pl.col("kind").is_in(MIXED_KINDS))
        .group_by("bucket", "kind")
        .agg(
            pl.len().alias("injected"),
            (pl.col("jaccard") >= threshold).sum().alias("at_threshold"),
            pl.col("jaccard").mean().alias("mean_jaccard"),
            pl.col("found").sum().alias("found"),
        )
        .with_columns(pl.col("bucket").str.extract(r"^(\d+)").cast(pl.Int64).alias("_low"))
        .sort("_low", pl.col("kind").replace_strict({k: i for i, k in enumerate(MIXED_KINDS)}))
    )
    length_table = table(
        [
            "words",
            "kind",
            "injected",
            "mean true Jaccard",
            f"true Jaccard >= {threshold}",
            "found",
            "recall",
        ],
        [
            [
                r["bucket"],
                f"`{r['kind']}`",
                r["injected"],
                f"{r['mean_jaccard']:.2f}",
                r["at_threshold"],
                r["found"],
                pct(r["found"], r["injected"]),
            ]
            for r in lengths.iter_rows(named=True)
        ],
    )
    s = run.summary
    head = (
        f"Synthetic corpus (seed {manifest['seed']}): {manifest['files']:,} files = "
        f"{manifest['base_articles']:,} base articles of distinct BBC paragraphs, "
        f"{manifest['copy_articles']:,} articles carrying the copies and "
        f"{manifest['syndicated_articles']:,} syndicated articles. nutgraf run: exit "
        f"{run.exit_code}, {run.seconds:.0f} s, {s.get('articles', '?')} articles, "
        f"occurrences by kind {json.dumps(s.get('occurrences_by_kind', {}))}. "
        f"Near-duplicate threshold {threshold}, minimum words {min_words}."
    )
    notes = []
    no_bigrams = at.filter(pl.col("words") < 2).height
    if no_bigrams:
        notes.append(
            f"`jaccard()` gives 1.0 to two texts with no word bigram at all: {no_bigrams} "
            "injected pairs of one-word paragraphs count as reaching the threshold above "
            "although their words differ."
        )
    if judged["links"] == 0:
        notes.append(
            "`paragraphs.near_dup_of` is empty in this warehouse: nutgraf reported no "
            "near-duplicate links, so near-copy recall is 0."
        )
    return "\n\n".join(
        [
            "## Injected copies",
            head,
            kinds_table,
            "## Near duplicates at the threshold",
            threshold_table,
            "## Near-copy recall by paragraph length (words of the original)",
            length_table,
            *notes,
        ]
    )


# --------------------------------------------------------------------------------------- BBC

BBC_SQL = """
SELECT
    (SELECT count(*) FROM source_files) AS files_seen,
    (SELECT count(*) FROM source_files WHERE status = 'loaded') AS files_loaded,
    (SELECT count(*) FROM source_files WHERE status = 'duplicate') AS files_duplicate,
    (SELECT count(*) FROM source_files WHERE status = 'quarantined') AS files_quarantined,
    (SELECT count(*) FROM articles) AS articles,
    (SELECT count(*) FROM (SELECT title FROM articles GROUP BY title
                           HAVING count(DISTINCT content_sha256) > 1)) AS retitled,
    (SELECT count(*) FROM paragraphs) AS paragraphs,
    (SELECT count(*) FROM occurrences WHERE kind = 'corpus') AS corpus_occurrences,
    (SELECT count(*) FROM occurrences WHERE kind = 'repeat') AS repeat_occurrences
"""


def bbc_section(bbc: Path, workdir: Path) -> str:
    run = run_nutgraf(bbc, workdir)
    threshold, _ = near_settings(workdir)
    con = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        c = con.sql(BBC_SQL).pl().row(0, named=True)
        judged = judge_links(con, threshold)
    finally:
        con.close()
    rows = [
        ["files seen", c["files_seen"], f"{BBC_FILES:,}"],
        ["files loaded", c["files_loaded"], f"{BBC_FILES - BBC_DUPLICATE_FILES:,}"],
        [
            "duplicate files recorded (`source_files.status = 'duplicate'`)",
            c["files_duplicate"],
            BBC_DUPLICATE_FILES,
        ],
        ["files quarantined", c["files_quarantined"], 0],
        ["articles", c["articles"], f"{BBC_FILES - BBC_DUPLICATE_FILES:,}"],
        ["titles carried by two different texts", c["retitled"], BBC_RETITLED],
        ["distinct paragraphs", c["paragraphs"], "-"],
        [
            "occurrences of kind `corpus` / `repeat`",
            f"{c['corpus_occurrences']} / {c['repeat_occurrences']}",
            "-",
        ],
        ["near links reported", judged["links"], "-"],
        [f"... with true Jaccard >= {threshold}", judged["at_threshold"], judged["links"] or "-"],
        ["... whose stored similarity is not the true Jaccard", judged["similarity_mismatch"], 0],
    ]
    return "\n\n".join(
        [
            "## The BBC corpus",
            f"`nutgraf run` on all of `{bbc.name}/` ({BBC_FILES:,} files): exit "
            f"{run.exit_code}, {run.seconds:.0f} s.",
            table(["measure", "nutgraf", "expected"], rows),
        ]
    )


# -------------------------------------------------------------------------------------- main


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()} · {os.cpu_count()} cores · {memory:.0f} GB"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000, help="base articles (default 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "out" / "evaluate",
        help="folder for the corpus, manifest and warehouses",
    )
    parser.add_argument(
        "--bbc",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run nutgraf on the whole BBC corpus (default: when present)",
    )
    parser.add_argument("--write", action="store_true", help="write EVALUATION.md")
    args = parser.parse_args(argv)
    if args.articles < 40:
        parser.error("--articles must be at least 40 (one copy of each kind per 40)")
    bbc = CORPORA / "bbc"
    if not bbc.is_dir():
        print(f"{bbc} not found (set NUTGRAF_CORPORA to the corpora folder): nothing to evaluate")
        return
    out: Path = args.out.resolve()
    landing = out / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    print(f"generating {args.articles:,} base articles in {landing} ...", file=sys.stderr)
    manifest = generate(landing, args.articles, bbc, args.seed)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    sections = [score(manifest, run_nutgraf(landing, out / "run"))]
    if args.bbc is not False:
        sections.append(bbc_section(bbc, out / "bbc-run"))
    command = shlex.join(
        ["bench/evaluate_dedupe.py", *(argv if argv is not None else sys.argv[1:])]
    )
    text = "\n\n".join([f"{date.today()} · {machine()} · `{command}`", *sections])
    print(text)
    if args.write:
        (ROOT / "EVALUATION.md").write_text(
            "# Dedupe evaluation\n\nHow well nutgraf finds copied paragraphs: "
            "`bench/evaluate_dedupe.py` (see its docstring for the kinds of copy and the "
            "scoring).\n\n" + text + "\n"
        )
        print(f"\nwritten to {ROOT / 'EVALUATION.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
