"""bench/run: generate corpora, run the floor and `nutgraf run` on each size, print tables.

Usage: bench/run [SIZE ...]   (default sizes: 10000 100000)
Corpora are generated under bench/corpora/ (git-ignored) from the shared BBC corpus
(NUTGRAF_CORPORA, default ../shared/corpora), each with a manifest of the copies it holds.
Each measurement runs in its own process under /usr/bin/time, so peak RSS is that process's
own. Per size: the floor (three times, the fastest counts), a full nutgraf run, the same with
prepare_ahead (into a warehouse of its own), a no-op run (nothing new) and a run after 1% new
files were added. Exits 1 if nutgraf's counts disagree with the generator's manifest.
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
from typing import NamedTuple

from generate import disagreements, generate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
WORKER_PREFIX = "worker_"  # flows.runs: stages that ran beside this process's own
STAGES = (
    "discover", "read_decode", "parse", "split", "normalise_hash", "dedupe", "near_dup", "language",
    "tag", "gate", "report", "publish", "search_index",
)  # fmt: skip


FLOOR_RUNS = 3
"""Runs of the floor per size; the fastest is the one nutgraf is compared with. The first reads
the files from disk, later ones (and nutgraf's runs after them) from the page cache, and the
time of a single run varies too widely to compare with."""


class Timed(NamedTuple):
    """One process's figures, measured from outside."""

    wall: float  # seconds
    rss: int  # peak resident set, MB
    cpu: float  # user + system seconds of all its threads
    stdout: str

    @property
    def cores(self) -> float:
        """How many cores it kept busy on average."""
        return self.cpu / self.wall


def timed(cmd: list[str], env: dict[str, str] | None = None) -> Timed:
    """Wall seconds, peak RSS, CPU seconds and stdout of `cmd`."""
    figures = HERE / "out" / "time.txt"
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(figures), *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 4):
        sys.exit(f"{cmd[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rss_kb, user, system = figures.read_text().split()[-3:]
    return Timed(wall, int(rss_kb) // 1024, float(user) + float(system), done.stdout)


def _cpu(run: Timed) -> str:
    return f"{run.cpu:.1f} ({run.cores:.2f})"


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def corpus(n: int) -> tuple[Path, dict[str, int]]:
    """The generated corpus of `n` articles and its manifest, generating them if missing."""
    path, manifest = HERE / "corpora" / str(n), HERE / "corpora" / f"{n}.json"
    if not manifest.exists():
        shutil.rmtree(path, ignore_errors=True)
        print(f"generating {n:,} articles in {path} ...", file=sys.stderr)
        manifest.write_text(json.dumps(generate(path, n, CORPORA / "bbc")))
    return path, json.loads(manifest.read_text())


def nutgraf(landing: Path, out: Path, *, ahead: bool = False) -> tuple[Timed, dict]:
    """`nutgraf run` of `landing` into out/nutgraf.duckdb, with the default settings (each batch
    prepared just before it is finished, so each stage's CPU seconds are its own); with
    `ahead` (setting prepare_ahead) into out/ahead/, with a Prefect home of its own."""
    home = out / "ahead" if ahead else out
    env = {
        "NUTGRAF_SETTLE_SECONDS": "0",
        "NUTGRAF_PREFECT_HOME": str(home / "prefect"),
        "NUTGRAF_PREPARE_AHEAD": str(ahead).lower(),
    }
    cmd = [sys.executable, "-m", "flows.cli", "run", "--json", "--landing", str(landing)]
    cmd += ["--warehouse", str(home / "nutgraf.duckdb"), "--reports", str(home / "reports")]
    run = timed(cmd, env)
    return run, json.loads(run.stdout)


class Bench:
    def __init__(self) -> None:
        self.rows: list[str] = []
        self.stage_rows: list[str] = []
        self.cpu_rows: list[str] = []
        self.tagging: list[str] = []
        self.mismatches: list[str] = []

    def size(self, n: int) -> None:
        source, manifest = corpus(n)
        out = HERE / "out" / str(n)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        landing = out / "landing"
        # Hard links: the landing folder costs nothing and the 1% run can add files to it.
        subprocess.run(["cp", "-al", str(source), str(landing)], check=True)
        mb = size_mb(landing)
        floors = []
        for _ in range(FLOOR_RUNS):
            (out / "floor.duckdb").unlink(missing_ok=True)
            floors.append(
                timed(
                    [
                        sys.executable,
                        str(HERE / "floor.py"),
                        str(landing),
                        str(out / "floor.duckdb"),
                    ]
                )
            )
        floor = min(floors)
        f_wall = floor.wall
        counts = json.loads(floor.stdout)
        spread = ", ".join(f"{run.wall:.1f}" for run in floors)
        self.rows.append(
            f"| {n:,} | {mb:.0f} | floor (fastest of {spread}) | {f_wall:.1f} | "
            f"{_cpu(floor)} | {mb / f_wall:.1f} | {counts['paragraphs'] / f_wall:,.0f} | - | "
            f"{floor.rss:,} | - | 1.0 |"
        )
        run, full = nutgraf(landing, out)
        self.check(n, full, manifest)
        self.full_row(n, mb, "nutgraf run", run, full, floor, out)
        self.stage(n, "full", full)
        self.tagging.append(
            f"{n:,} articles: {full['paragraphs_new']:,} new paragraphs tagged in "
            f"{full['timings']['tag']:.1f} s = "
            f"{full['paragraphs_new'] / full['timings']['tag']:,.0f} paragraphs/s"
        )
        ahead_run, ahead = nutgraf(landing, out, ahead=True)
        self.check(n, ahead, manifest)
        self.full_row(n, mb, "nutgraf run, prepare_ahead", ahead_run, ahead, floor, out / "ahead")
        self.stage(n, "full, prepare_ahead", ahead)
        noop_run, noop = nutgraf(landing, out)
        self.rows.append(
            f"| {n:,} | - | no-op run ({noop['status']}) | {noop_run.wall:.1f} | "
            f"{_cpu(noop_run)} | - | - | {noop['timings'].get('prefect', 0.0):.1f} | "
            f"{noop_run.rss:,} | - | - |"
        )
        self.stage(n, "no-op", noop)
        extra = max(n // 100, 1)
        generate(landing / "more", extra, CORPORA / "bbc", seed=8, first=n)
        inc_run, inc = nutgraf(landing, out)
        inc_prefect = inc["timings"]["prefect"]
        added = inc_run.wall - noop_run.wall
        self.rows.append(
            f"| {n:,} | +1% | 1% new run ({inc['files_new']:,} new files) | {inc_run.wall:.1f} | "
            f"{_cpu(inc_run)} | - | {inc['occurrences'] / inc_run.wall:,.0f} | "
            f"{inc_prefect:.1f} | {inc_run.rss:,} | - | +{added:.1f} s on the no-op run = "
            f"{added / run.wall:.1%} of the full run |"
        )
        self.stage(n, "+1%", inc)

    def full_row(
        self, n: int, mb: float, what: str, run: Timed, summary: dict, floor: Timed, out: Path
    ) -> None:
        prefect = summary["timings"]["prefect"]
        work = run.wall - prefect
        wh_mb = (out / "nutgraf.duckdb").stat().st_size / 1e6
        self.rows.append(
            f"| {n:,} | {mb:.0f} | {what} | {run.wall:.1f} | {_cpu(run)} | "
            f"{mb / run.wall:.1f} | {summary['occurrences'] / run.wall:,.0f} | {prefect:.1f} | "
            f"{run.rss:,} | {wh_mb / mb:.2f} | {run.wall / floor.wall:.1f} (without Prefect "
            f"{work / floor.wall:.1f}; CPU {run.cpu / floor.cpu:.1f}) |"
        )

    def stage(self, n: int, what: str, summary: dict) -> None:
        """Rows of both stage tables. In a run that prepares batches ahead, the stages of the
        second thread (`worker_*`, overlapping the others) are summed under "ahead", and the
        time this thread waited for them is "waited"."""
        for seconds, rows in (
            (summary["timings"], self.stage_rows),
            (summary["cpu_seconds"], self.cpu_rows),
        ):
            cells = " | ".join(f"{seconds[s]:.2f}" if s in seconds else "-" for s in STAGES)
            ahead = sum(v for k, v in seconds.items() if k.startswith(WORKER_PREFIX))
            waited = seconds.get("wait_for_prepare")
            rows.append(
                f"| {n:,} | {what} | {cells} | {ahead:.2f} | "
                f"{'-' if waited is None else f'{waited:.2f}'} | "
                f"{seconds.get('prefect', 0.0):.1f} |"
            )

    def check(self, n: int, summary: dict, manifest: dict[str, int]) -> None:
        self.mismatches += [f"{n:,} articles: {d}" for d in disagreements(summary, manifest)]


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10000, 100000]
    if not (CORPORA / "bbc").exists():
        sys.exit(f"{CORPORA / 'bbc'} not found: set NUTGRAF_CORPORA")
    bench = Bench()
    for n in sizes:
        bench.size(n)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"{date.today()} · {platform.machine()} · {os.cpu_count()} cores · {memory:.0f} GB · "
        f"`bench/run {' '.join(map(str, sizes))}`\n"
    )
    print(
        "| articles | MB | what | wall s | CPU s (cores busy) | MB/s | paragraphs/s | Prefect s | "
        "peak RSS MB | warehouse MB per input MB | ratio to floor |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(bench.rows))
    print(
        "\nSeconds per stage (summed over batches; `-`: not part of this run; ahead: the stages "
        "of batches prepared in the second thread, overlapping the others; waited: this thread "
        "waiting for them):\n"
    )
    print(f"| articles | run | {' | '.join(STAGES)} | ahead | waited | Prefect |")
    print("|---|---|" + "---|" * (len(STAGES) + 3))
    print("\n".join(bench.stage_rows))
    print(
        "\nCPU seconds of the process per stage (all its threads; more than the wall seconds above "
        "means more than one core was busy):\n"
    )
    print(f"| articles | run | {' | '.join(STAGES)} | ahead | waited | Prefect |")
    print("|---|---|" + "---|" * (len(STAGES) + 3))
    print("\n".join(bench.cpu_rows))
    print(
        "\nTagging throughput (all four taggers, language included; the run with the default "
        "settings, one batch at a time):\n"
    )
    print("\n".join(f"- {line}" for line in bench.tagging))
    if bench.mismatches:
        print("\nnutgraf disagrees with the generator's manifest:")
        print("\n".join(f"- {m}" for m in bench.mismatches))
        sys.exit(1)
    print("\nnutgraf's counts match the generator's manifest at every size.")


if __name__ == "__main__":
    main()
