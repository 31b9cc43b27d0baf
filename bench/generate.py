"""Build a benchmark corpus of N article files from real BBC paragraphs, with known copies.

The BBC corpus is read at generation time from the shared corpora (never committed). With a
fixed seed the same N gives the same files. Injected, by share of articles: exact duplicate
files 1%, self-repeated paragraphs 1%, near-copies (one word changed) 1%, cp1252 files 1%, CRLF
files 1%, empty files 0.2%. Syndication happens naturally: articles draw from a shared pool.
Files go into nested date folders, YYYY/MM/DD/NNNNNNN.txt.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path


def load_paragraphs(bbc: Path) -> list[str]:
    """Body paragraphs of every BBC article (title line dropped), in a stable order."""
    paragraphs: list[str] = []
    for path in sorted(bbc.glob("*/*.txt")):
        text = path.read_bytes().decode("utf-8", errors="replace")
        blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
        paragraphs += [" ".join(b.split()) for b in blocks[1:]]
    return paragraphs


def generate(out: Path, n: int, bbc: Path, seed: int = 7) -> None:
    """Write `n` article files under `out` (which must not exist yet)."""
    rng = random.Random(seed)
    pool = load_paragraphs(bbc)
    start = date(2026, 1, 1)
    written: list[Path] = []
    for i in range(n):
        day = start + timedelta(days=i * 365 // max(n, 1))
        path = out / f"{day:%Y/%m/%d}" / f"{i:07d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        roll = rng.random()
        if written and roll < 0.01:
            path.write_bytes(rng.choice(written).read_bytes())  # exact duplicate file
            continue
        if roll < 0.012:
            path.write_bytes(b"")
            continue
        body = rng.sample(pool, rng.randint(5, 14))
        if roll < 0.022:
            body.append(body[0])  # self-repeat
        elif roll < 0.032:
            words = body[-1].split()
            words[rng.randrange(len(words))] = "reportedly"
            body[-1] = " ".join(words)  # near-copy of a pool paragraph
        text = f"Story {i}\n\n" + "\n\n".join(body) + "\n"
        if 0.032 <= roll < 0.042:
            path.write_bytes(text.encode("cp1252", errors="replace"))
        elif 0.042 <= roll < 0.052:
            path.write_bytes(text.replace("\n", "\r\n").encode())
        else:
            path.write_bytes(text.encode())
        written.append(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--bbc", type=Path, required=True)
    args = parser.parse_args()
    generate(args.out, args.n, args.bbc)


if __name__ == "__main__":
    main()
