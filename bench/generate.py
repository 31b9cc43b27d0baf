"""Build a benchmark corpus of N article files from real BBC text, with known copies.

The BBC corpus is read at generation time from the shared corpora (never committed). Most
paragraphs are new combinations of 2-4 real BBC sentences, so nearly every paragraph is unique
as in a real feed; 10% are whole BBC paragraphs drawn from a shared pool (syndication). With a
fixed seed the same N gives the same files. Injected, by share of articles: exact duplicate
files 1%, a self-repeated paragraph 1%, a near-copy (one word of a pool paragraph changed) 1%,
cp1252 files 1%, CRLF files 1%, empty files 0.2%. Files go into nested date folders,
YYYY/MM/DD/NNNNNNN.txt. `generate` returns (and main writes) a manifest of what nutgraf must
find: files, duplicate and empty files, occurrences, distinct paragraphs, self-repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

SYNDICATED_SHARE = 0.10
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# Text nutgraf's normaliser leaves as it is (printable ASCII and the pound sign), so the
# generator's count of distinct paragraphs is exact without re-implementing normalisation.
_STABLE = re.compile(r"[ -~£]+")


def load_paragraphs(bbc: Path) -> list[str]:
    """Body paragraphs of every BBC article (title line dropped), in a stable order."""
    paragraphs: list[str] = []
    for path in sorted(bbc.glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
        paragraphs += [" ".join(b.split()) for b in blocks[1:]]
    return [p for p in dict.fromkeys(paragraphs) if _STABLE.fullmatch(p)]


def generate(out: Path, n: int, bbc: Path, seed: int = 7, first: int = 0) -> dict[str, int]:
    """Write `n` article files under `out`, numbered from `first`; return the manifest."""
    rng = random.Random(seed)
    pool = load_paragraphs(bbc)
    sentences = sorted({s for p in pool for s in _SENTENCE_END.split(p) if len(s) > 20})
    start = date(2026, 1, 1)
    written: list[Path] = []
    loaded: set[str] = set()
    counts = dict.fromkeys(("files", "duplicate_files", "empty_files", "occurrences"), 0)
    counts |= dict.fromkeys(("self_repeats", "near_copies", "cp1252_files", "crlf_files"), 0)
    for i in range(first, first + n):
        day = start + timedelta(days=(i - first) * 365 // max(n, 1))
        path = out / f"{day:%Y/%m/%d}" / f"{i:07d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        counts["files"] += 1
        roll = rng.random()
        if written and roll < 0.01:
            path.write_bytes(rng.choice(written).read_bytes())  # exact duplicate file
            counts["duplicate_files"] += 1
            continue
        if roll < 0.012:
            path.write_bytes(b"")
            # Bytes are set aside once: the first empty file is quarantined, every later one
            # is a duplicate of it (a chunk numbered from `first` > 0 follows one that had one).
            fresh = first == 0 and not counts["empty_files"]
            counts["empty_files" if fresh else "duplicate_files"] += 1
            continue
        k = rng.randint(8, 16)
        syndicated = iter(rng.sample(pool, k))
        body = [
            next(syndicated)
            if rng.random() < SYNDICATED_SHARE
            else " ".join(rng.sample(sentences, rng.randint(2, 4)))
            for _ in range(k)
        ]
        if roll < 0.022:
            body.append(body[0])  # self-repeat
            counts["self_repeats"] += 1
        elif roll < 0.032:
            words = rng.choice(pool).split()
            words[rng.randrange(len(words))] = "reportedly"
            body.append(" ".join(words))  # near-copy of a pool paragraph
            counts["near_copies"] += 1
        text = f"Story {i}\n\n" + "\n\n".join(body) + "\n"
        if 0.032 <= roll < 0.042:
            path.write_bytes(text.encode("cp1252"))
            counts["cp1252_files"] += 1
        elif 0.042 <= roll < 0.052:
            path.write_bytes(text.replace("\n", "\r\n").encode())
            counts["crlf_files"] += 1
        else:
            path.write_bytes(text.encode())
        written.append(path)
        counts["occurrences"] += len(body)
        loaded.update(body)
    return counts | {"distinct_paragraphs": len(loaded)}


MANIFEST_CHECKS = {  # field of nutgraf's run summary (or its occurrences_by_kind) -> manifest
    "files_seen": "files",
    "files_duplicate": "duplicate_files",
    "files_quarantined": "empty_files",
    "occurrences": "occurrences",
    "paragraphs_new": "distinct_paragraphs",
    "repeat": "self_repeats",
}


def disagreements(summary: dict, manifest: dict[str, int]) -> list[str]:
    """Where a full `nutgraf run` summary of a generated corpus contradicts its manifest."""
    found = summary | summary["occurrences_by_kind"]
    return [
        f"nutgraf {field}={found.get(field, 0)}, generator {known}={manifest[known]}"
        for field, known in MANIFEST_CHECKS.items()
        if found.get(field, 0) != manifest[known]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--bbc", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--first", type=int, default=0, help="number of the first file")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.n, args.bbc, args.seed, args.first), indent=2))


if __name__ == "__main__":
    main()
