"""bench/crash-soak: kill nutgraf at N random moments, run again, compare with a clean history.

Usage: bench/crash-soak [N] [--seed S] [--jobs J] [--keep DIR]   (default N = 200)

One history of seven commands is run once without faults on the bundled samples (in batches of
five files), recording every fault point each command passes (flows/faults.py, `trace@`), how
long it took, the warehouse before it and every table after it:

    run         the samples, two batches, the search index kept in step
    run-more    ten new articles, the index left stale (search_index off)
    search      `nutgraf search`, which rebuilds the stale index
    retag       `nutgraf retag --all`
    release     `nutgraf quarantine release --all`
    rerun       a run of five new articles and the released file, read again
    vacuum      `nutgraf vacuum --prune-reports`

Each of the N moments starts one command from the warehouse as it was before it and kills it
with SIGKILL: two in three at a fault point (every point of every command once, in a shuffled
order, before any comes again), one in three after a random delay within the command's clean
duration, wherever the command is then (a run killed before it made the warehouse leaves
none, which is the state before it). The same command then runs again without faults, and
every table must equal the clean history's after that command (tests/helpers.py `snapshot`:
same rows, no row twice, no file lost), with every published article accounted for by one
run. Prints a markdown summary; exits 1 on any failure, leaving its folder (and the commands'
output) under --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: tests.helpers is imported from the checkout
    sys.path.insert(0, str(ROOT))

from tests.helpers import SAMPLES, NutgrafProcesses, query, snapshot  # noqa: E402

BATCH_FILES = 5
MORE_MTIME = 1_700_000_000  # the extra articles' mtime: the same in every copy of the folder
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()


HISTORY = (
    Command("run", ("run", "--landing", "landing")),
    Command("run-more", ("run", "--landing", "landing"), (("NUTGRAF_SEARCH_INDEX", "false"),)),
    Command("search", ("search", "minister")),
    Command("retag", ("retag", "--all")),
    Command("release", ("quarantine", "release", "--all")),
    Command("rerun", ("run", "--landing", "landing")),
    Command("vacuum", ("vacuum", "--prune-reports")),
)


@dataclass
class Step:
    """One command of the clean history: where it starts, what it passes and leaves."""

    command: Command
    before: Path  # a copy of the work folder before the command
    points: list[str]  # fault points passed, as kill specs (`POINT#N`)
    seconds: float
    code: int
    after: dict[str, list[tuple]] = field(default_factory=dict)


@dataclass(frozen=True)
class Moment:
    step: int
    point: str | None = None  # a fault point, or
    delay: float | None = None  # seconds after the start

    def describe(self, history: list[Step]) -> str:
        where = self.point if self.point is not None else f"after {self.delay:.2f} s"
        return f"{history[self.step].command.name} @ {where}"


def base_env(*faults: str) -> dict[str, str]:
    return {
        "NUTGRAF_BATCH_FILES": str(BATCH_FILES),
        "NUTGRAF_SETTLE_SECONDS": "0",
        "NUTGRAF_FAULT_POINTS": json.dumps(list(faults)),
        # A killed run's Prefect publish slot waits out its lease (tests/flows/test_schedule.py
        # covers that); here each rerun would wait a minute at every publish point.
        "NUTGRAF_PUBLISH_SLOT": "false",
    }


def new_articles(folder: Path, first: int, n: int) -> None:
    """`n` new articles under `folder`, numbered from `first`: each three paragraphs of two
    sentences drawn from the samples' text files, so nearly every paragraph is new."""
    sentences = sorted(
        {
            sentence.strip()
            for path in SAMPLES.rglob("*.txt")
            for sentence in _SENTENCE_END.split(
                path.read_bytes().decode("utf-8", errors="ignore").replace("\n", " ")
            )
            if len(sentence.split()) >= 6 and sentence.isascii()
        }
    )
    rng = random.Random(first)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(first, first + n):
        body = [" ".join(rng.sample(sentences, 2)) for _ in range(3)]
        target = folder / f"digest-{k:03d}.txt"
        target.write_text(f"Digest {k}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        os.utime(target, (MORE_MTIME, MORE_MTIME))


def record_history(processes: NutgrafProcesses, root: Path) -> list[Step]:
    """Run the history once without faults; keep each command's starting point and result."""
    work = root / "clean"
    shutil.copytree(SAMPLES, work / "landing")
    steps = []
    for n, command in enumerate(HISTORY):
        if command.name == "run-more":
            new_articles(work / "landing" / "digests", 0, 10)
        elif command.name == "release":  # and the rerun has new articles beside released ones
            new_articles(work / "landing" / "digests", 10, 5)
        before = root / f"before-{n}"
        shutil.copytree(work, before)
        trace = root / f"trace-{n}.txt"
        env = {**base_env(f"trace@{trace}"), **dict(command.env)}
        start = time.monotonic()
        code = processes.run(list(command.argv), cwd=work, env=env, output=root / f"clean-{n}.log")
        seconds = time.monotonic() - start
        if code not in (0, 4):
            raise SystemExit(f"the clean history failed: {command.name} exited {code}")
        passed = trace.read_text().split() if trace.exists() else []
        seen: Counter[str] = Counter()
        points = []
        for point in passed:
            seen[point] += 1
            points.append(f"{point}#{seen[point]}")
        steps.append(
            Step(command, before, points, seconds, code, snapshot(work / "nutgraf.duckdb"))
        )
    return steps


def draw(history: list[Step], n: int, seed: int) -> list[Moment]:
    """N moments, two at fault points for one at a random delay. The fault points come as
    every point of every command once (at a random one of its passes: `#2` is the second
    batch's), in a shuffled order, before any point comes again."""
    rng = random.Random(seed)
    passes: dict[tuple[int, str], list[str]] = {}
    for i, step in enumerate(history):
        for spec in step.points:
            passes.setdefault((i, spec.partition("#")[0]), []).append(spec)
    pairs = list(passes)
    rng.shuffle(pairs)
    moments = []
    for k in range(n):
        if k % 3 != 2 and pairs:
            i, name = pairs[len([m for m in moments if m.point is not None]) % len(pairs)]
            moments.append(Moment(i, point=rng.choice(passes[(i, name)])))
        else:
            i = rng.randrange(len(history))
            moments.append(Moment(i, delay=rng.uniform(0, history[i].seconds)))
    return moments


@dataclass
class Outcome:
    moment: Moment
    killed: bool  # False: the command had finished before the delay ran out
    problem: str | None
    seconds: float


def try_moment(
    processes: NutgrafProcesses, history: list[Step], moment: Moment, work: Path
) -> Outcome:
    """Kill the command at `moment`, run it again, compare every table with the clean run's."""
    start = time.monotonic()
    step = history[moment.step]
    shutil.copytree(step.before, work)
    extra = dict(step.command.env)
    faults = [] if moment.point is None else [f"kill@{moment.point}"]
    process = processes.start(
        list(step.command.argv),
        cwd=work,
        env={**base_env(*faults), **extra},
        output=work / "killed.log",
    )
    if moment.delay is not None:
        process.join(timeout=moment.delay)
        if process.exitcode is None:
            os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=300)

    def outcome(problem: str | None) -> Outcome:
        return Outcome(moment, process.exitcode == -9, problem, time.monotonic() - start)

    if process.exitcode is None:
        process.kill()
        return outcome("the command did not finish in 300 s")
    if moment.point is not None and process.exitcode != -9:
        return outcome(f"not killed at the point (exit {process.exitcode})")
    if process.exitcode not in (-9, 0, 4):
        return outcome(f"the command exited {process.exitcode} before the kill")
    warehouse = work / "nutgraf.duckdb"
    if warehouse.exists() or (step.before / "nutgraf.duckdb").exists():
        try:
            snapshot(warehouse)  # the killed command's warehouse opens and reads
        except Exception as error:  # noqa: BLE001 - any failure to read is the finding
            return outcome(f"the warehouse did not read after the kill: {error!r}")
    code = processes.run(
        list(step.command.argv), cwd=work, env={**base_env(), **extra}, output=work / "again.log"
    )
    if code not in (0, 4):
        return outcome(f"the command run again exited {code}")
    tables = snapshot(warehouse)
    differ = sorted(name for name in step.after if tables.get(name) != step.after[name])
    if differ:
        return outcome(f"tables differ from the clean history's: {', '.join(differ)}")
    ((articles, accounted),) = query(
        warehouse, "SELECT (SELECT count(*) FROM articles), (SELECT sum(articles) FROM runs)"
    )
    if articles != accounted:
        return outcome(f"runs account for {accounted} articles, the table holds {articles}")
    return outcome(None)


def soak(
    processes: NutgrafProcesses, root: Path, n: int, seed: int, jobs: int = 2
) -> tuple[list[Step], list[Outcome]]:
    """The clean history, then N moments, `jobs` at a time; the history and each outcome."""
    history = record_history(processes, root)
    moments = draw(history, n, seed)

    def attempt(k: int) -> Outcome:
        work = root / f"moment-{k:04d}"
        result = try_moment(processes, history, moments[k], work)
        if result.problem is None:
            shutil.rmtree(work)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        outcomes = list(pool.map(attempt, range(n)))
    return history, outcomes


def report(history: list[Step], outcomes: list[Outcome], seconds: float, seed: int) -> str:
    """A markdown summary: moments by command, kills, failures."""
    points = sum(len(s.points) for s in history)
    lines = [
        f"{len(outcomes)} kill moments (seed {seed}) over {len(history)} commands and "
        f"{points} fault-point passes; {seconds / 60:.1f} min on {os.cpu_count()} cores.",
        "",
        "| command | clean s | fault points (passes) | killed at a point (points hit) "
        "| at a random time (killed / done first) | failures |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for i, step in enumerate(history):
        mine = [o for o in outcomes if o.moment.step == i]
        at_point = [o for o in mine if o.moment.point is not None]
        timed = [o for o in mine if o.moment.delay is not None]
        killed = sum(o.killed for o in timed)
        failed = sum(o.problem is not None for o in mine)
        names = {p.partition("#")[0] for p in step.points}
        hit = {o.moment.point.partition("#")[0] for o in at_point if o.moment.point}
        lines.append(
            f"| {step.command.name} | {step.seconds:.1f} | {len(names)} ({len(step.points)}) "
            f"| {len(at_point)} ({len(hit)}) | {killed} / {len(timed) - killed} | {failed} |"
        )
    failures = [o for o in outcomes if o.problem is not None]
    lines += ["", f"failures: {len(failures)}"]
    lines += [f"- {o.moment.describe(history)}: {o.problem}" for o in failures]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=200, help="kill moments (200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--jobs", type=int, default=2, help="moments at a time (2)")
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    args = parser.parse_args(argv)

    for name, value in {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "GX_ANALYTICS_ENABLED": "False",
        "NUTGRAF_CACHE_DIR": str(ROOT / ".nutgraf" / "cache"),
    }.items():
        os.environ.setdefault(name, value)
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    root = args.keep or Path(tempfile.mkdtemp(prefix="nutgraf-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with prefect_test_harness(server_startup_timeout=120):
        processes = NutgrafProcesses(PREFECT_API_URL.value())
        history, outcomes = soak(processes, root, args.n, args.seed, args.jobs)
    print(report(history, outcomes, time.monotonic() - start, args.seed))
    failed = any(o.problem is not None for o in outcomes)
    if failed:
        print(f"\nfailed moments' folders are kept under {root}")
    elif args.keep is None:
        shutil.rmtree(root)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
