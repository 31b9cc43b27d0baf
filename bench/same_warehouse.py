"""bench/same-warehouse: does a change alter what nutgraf stores? Build the warehouse of one
corpus with an earlier commit and with the working tree, and compare them table by table.

Usage: bench/same-warehouse COMMIT FOLDER [--batch-files N]

The earlier commit is checked out into a temporary git worktree and run with this checkout's
environment (its modules first on the path), so only the code differs. Both runs read the same
copy of FOLDER (same paths and mtimes) into a fresh warehouse; the comparison is
tests/helpers.py `snapshot`: every table without run ids and timestamps. Prints the tables
that differ, with row counts; exits 1 if any does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: tests.helpers is imported from the checkout
    sys.path.insert(0, str(ROOT))

from tests.helpers import snapshot  # noqa: E402


def build(code: Path, landing: Path, warehouse: Path, batch_files: int) -> None:
    """`nutgraf run` of the code at `code` over `landing` into `warehouse`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "NUTGRAF_SETTLE_SECONDS": "0",
        "NUTGRAF_BATCH_FILES": str(batch_files),
        "NUTGRAF_REPORTS": str(warehouse.parent / "reports"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", "--landing", str(landing)]
        + ["--warehouse", str(warehouse)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 4):
        raise SystemExit(f"the run with {code} exited {done.returncode}:\n{done.stdout[-3000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier commit to compare with")
    parser.add_argument("folder", type=Path, help="a corpus folder (read, never changed)")
    parser.add_argument("--batch-files", type=int, default=10_000, help="files per batch")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="nutgraf-same-") as tmp:
        work = Path(tmp)
        landing = work / "landing"
        shutil.copytree(args.folder, landing)  # copy2: both runs see the same mtimes
        earlier = work / "earlier"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(earlier), args.commit],
            cwd=ROOT,
            check=True,
        )
        try:
            (work / "a").mkdir()
            (work / "b").mkdir()
            build(earlier, landing, work / "a" / "nutgraf.duckdb", args.batch_files)
            build(ROOT, landing, work / "b" / "nutgraf.duckdb", args.batch_files)
            before = snapshot(work / "a" / "nutgraf.duckdb")
            after = snapshot(work / "b" / "nutgraf.duckdb")
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(earlier)], cwd=ROOT, check=True
            )
    differ = sorted(set(before) | set(after), key=str)
    differ = [name for name in differ if before.get(name) != after.get(name)]
    rows = sum(len(v) for v in after.values())
    print(f"{args.folder}: {len(after)} tables, {rows:,} rows compared with {args.commit}")
    for name in differ:
        print(f"  differs: {name} ({len(before.get(name, []))} rows -> {len(after.get(name, []))})")
    if not differ:
        print("  every table is the same")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
