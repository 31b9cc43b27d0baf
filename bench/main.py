"""bench/run: generate corpora, run the floor and `nutgraf run` on each size, print a table.

Usage: bench/run [SIZE ...]   (default sizes: 2000 10000)
Corpora are generated under bench/corpora/ (git-ignored) from the shared BBC corpus
(NUTGRAF_CORPORA, default ../shared/corpora). Each measurement runs in its own process under
/usr/bin/time, so peak RSS is that process's own.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from generate import generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))


def timed(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB and stdout of `cmd`."""
    rss_file = HERE / "out" / "rss.txt"
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 4):
        sys.exit(f"{cmd[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, int(rss_file.read_text().split()[-1]) // 1024, done.stdout


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def nutgraf(landing: Path, out: Path) -> tuple[float, int, dict]:
    env = {"NUTGRAF_SETTLE_SECONDS": "0", "NUTGRAF_PREFECT_HOME": str(out / "prefect")}
    wall, rss, stdout = timed(
        [
            sys.executable,
            "-m",
            "flows.cli",
            "run",
            "--json",
            "--landing",
            str(landing),
            "--warehouse",
            str(out / "nutgraf.duckdb"),
            "--reports",
            str(out / "reports"),
        ],
        env,
    )
    return wall, rss, json.loads(stdout)


def bench(n: int) -> list[str]:
    corpus = HERE / "corpora" / str(n)
    if not corpus.exists():
        generate(corpus, n, CORPORA / "bbc")
    out = HERE / "out" / str(n)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    mb = size_mb(corpus)
    f_wall, f_rss, f_out = timed(
        [sys.executable, str(HERE / "floor.py"), str(corpus), str(out / "floor.duckdb")]
    )
    floor = json.loads(f_out)
    n_wall, n_rss, summary = nutgraf(corpus, out)
    stages = summary["timings"]
    in_flow = sum(v for k, v in stages.items() if k != "lock_wait")
    noop_wall, _, noop = nutgraf(corpus, out)
    wh_mb = (out / "nutgraf.duckdb").stat().st_size / 1e6
    stage_text = ", ".join(f"{k} {v:.1f}" for k, v in stages.items() if k != "lock_wait")
    return [
        f"| {n:,} | {mb:.0f} | floor | {f_wall:.1f} | {mb / f_wall:.1f} | "
        f"{floor['paragraphs'] / f_wall:,.0f} | {f_rss:,} | - | 1.0 |",
        f"| {n:,} | {mb:.0f} | nutgraf run | {n_wall:.1f} (stages {in_flow:.1f}: {stage_text}; "
        f"Prefect start-up and imports {n_wall - in_flow:.1f}) | {mb / n_wall:.1f} | "
        f"{summary['occurrences'] / n_wall:,.0f} | {n_rss:,} | {wh_mb / mb:.2f} | "
        f"{n_wall / f_wall:.1f} (stages only {in_flow / f_wall:.1f}) |",
        f"| {n:,} | - | no-op run | {noop_wall:.1f} ({noop['status']}) | - | - | - | - | - |",
    ]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [2000, 10000]
    if not (CORPORA / "bbc").exists():
        sys.exit(f"{CORPORA / 'bbc'} not found: set NUTGRAF_CORPORA")
    rows = [row for n in sizes for row in bench(n)]
    print(
        f"{date.today()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB · "
        f"`bench/run {' '.join(map(str, sizes))}`\n"
    )
    print(
        "| articles | MB | what | wall s | MB/s | paragraphs/s | peak RSS MB | "
        "warehouse MB per input MB | ratio to floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
