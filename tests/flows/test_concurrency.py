"""One writer at a time: concurrent runs load every file exactly once; readers take turns."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, NutgrafProcesses, query, read_counts, snapshot
from warehouse.errors import WarehouseBusy
from warehouse.lock import writer_lock

pytestmark = pytest.mark.slow

# 70 files: three batches, so readers can look in between transactions.
ENV = {"NUTGRAF_SETTLE_SECONDS": "0", "NUTGRAF_BATCH_FILES": "25"}


def _landing(tmp_path: Path, copies: int) -> Path:
    """The samples plus `copies` distinct generated articles, so runs take a while."""
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    words = (SAMPLES / "seed" / "000_8ab4b52764c9943c.txt").read_text().split()
    for i in range(copies):
        body = "\n\n".join(
            " ".join(words[(i + j) % 200 : (i + j) % 200 + 40]) + f" ({i}-{j})" for j in range(6)
        )
        (landing / "gen" / f"{i // 50:02d}").mkdir(parents=True, exist_ok=True)
        (landing / "gen" / f"{i // 50:02d}" / f"{i:04d}.txt").write_text(f"Story {i}\n\n{body}\n")
    return landing


@pytest.fixture(scope="module")
def shared_landing(
    tmp_path_factory: pytest.TempPathFactory, processes: NutgrafProcesses
) -> tuple[Path, dict]:
    """The landing folder of the concurrency cases and the warehouse one lone run makes of it."""
    folder = tmp_path_factory.mktemp("concurrency")
    landing = _landing(folder, copies=60)
    reference_dir = folder / "reference"
    reference_dir.mkdir()
    code = processes.run(["run", "--landing", str(landing)], cwd=reference_dir, env=ENV)
    assert code == 4
    return landing, snapshot(reference_dir / "nutgraf.duckdb")


@pytest.mark.parametrize("n_runs", [2, 4])
def test_concurrent_runs_load_each_file_once(
    n_runs: int, tmp_path: Path, processes: NutgrafProcesses, shared_landing: tuple[Path, dict]
):
    landing, reference = shared_landing

    work = tmp_path / "work"
    work.mkdir()
    warehouse = work / "nutgraf.duckdb"
    reads: list[dict[str, int]] = []
    errors: list[Exception] = []
    done = threading.Event()

    def read_while_writing() -> None:
        # A reader between publishes: waits its turn for the file, never sees a half batch.
        while not done.is_set():
            if warehouse.exists():
                try:
                    reads.append(read_counts(warehouse))
                except WarehouseBusy as exc:
                    errors.append(exc)
                except Exception as exc:  # anything else would end the thread unseen
                    errors.append(exc)
                    return
            time.sleep(0.05)

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    started = [
        processes.start(
            ["run", "--landing", str(landing)], cwd=work, env=ENV, output=work / f"out-{i}.txt"
        )
        for i in range(n_runs)
    ]
    for process in started:
        process.join(timeout=300)
    done.set()
    reader.join()
    codes = sorted(process.exitcode for process in started)
    outputs = "".join((work / f"out-{i}.txt").read_text() for i in range(n_runs))
    assert "Traceback" not in outputs
    # One run loads everything (exit 4: the sample's empty file is quarantined); the others
    # waited for the lock and found nothing new.
    assert codes == [0] * (n_runs - 1) + [4], outputs
    assert snapshot(warehouse) == reference
    statuses = query(warehouse, "SELECT status, count(*) FROM runs GROUP BY 1 ORDER BY 1")
    assert statuses == [("nothing_new", n_runs - 1), ("published", 1)]
    assert not errors and reads, (errors, len(reads))
    # Readers saw whole batches only: articles grow in steps of a batch's articles.
    final = read_counts(warehouse)
    assert all(r["articles"] <= final["articles"] for r in reads)


def test_a_second_writer_gives_up_after_the_timeout(tmp_path: Path, processes: NutgrafProcesses):
    shutil.copytree(SAMPLES, tmp_path / "landing")
    warehouse = tmp_path / "nutgraf.duckdb"
    env = {**ENV, "NUTGRAF_LOCK_TIMEOUT_SECONDS": "1"}
    with writer_lock(warehouse, timeout=0):
        out = tmp_path / "out.txt"
        code = processes.run(["run", "--landing", "landing"], cwd=tmp_path, env=env, output=out)
    text = out.read_text()
    assert code == 75, text
    assert "another nutgraf run" in text and "lock_timeout_seconds" in text
    assert "Traceback" not in text
    assert not warehouse.exists() or read_counts(warehouse)["articles"] == 0
    assert processes.run(["run", "--landing", "landing"], cwd=tmp_path, env=env) == 4


def test_the_lock_dies_with_its_holder(tmp_path: Path):
    warehouse = tmp_path / "nutgraf.duckdb"
    holder = subprocess.Popen(
        [
            "python3",
            "-c",
            "import fcntl, os, sys, time;"
            f"fd = os.open({str(warehouse) + '.lock'!r}, os.O_RDWR | os.O_CREAT);"
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(WarehouseBusy), writer_lock(warehouse, timeout=0.3):
        pass
    holder.kill()
    holder.wait()
    with writer_lock(warehouse, timeout=5):  # the kernel released it with the dead process
        pass


def test_disk_full_during_publish_rolls_back(tmp_path: Path, processes: NutgrafProcesses):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here: {mounted.stderr.strip()}")
    try:
        landing = _landing(tmp_path, copies=60)
        first_half = tmp_path / "first"
        shutil.copytree(landing, first_half)
        shutil.rmtree(first_half / "gen")
        env = {
            **ENV,
            "NUTGRAF_WAREHOUSE": str(disk / "nutgraf.duckdb"),
            "NUTGRAF_REPORTS": str(tmp_path / "reports"),
        }
        assert processes.run(["run", "--landing", str(first_half)], cwd=tmp_path, env=env) == 4
        before = snapshot(disk / "nutgraf.duckdb")
        # Fill the disk, leaving a sliver, then try to load the rest.
        free = shutil.disk_usage(disk).free
        with open(disk / "filler", "wb") as handle:
            handle.truncate(0)
            handle.write(b"\0" * max(free - 64 * 1024, 0))
        out = tmp_path / "out.txt"
        env_all = {**env, "NUTGRAF_BATCH_FILES": "1000"}
        code = processes.run(
            ["run", "--landing", str(landing)], cwd=tmp_path, env=env_all, output=out
        )
        text = out.read_text()
        assert code == 1, text
        assert "rolled back" in text and "No space left on device" in text, text
        (disk / "filler").unlink()
        assert snapshot(disk / "nutgraf.duckdb") == before  # nothing of the failed batch landed
        assert processes.run(["run", "--landing", str(landing)], cwd=tmp_path, env=env_all) == 0
        counts = read_counts(disk / "nutgraf.duckdb")
        assert counts["articles"] == len(before["articles"]) + 60
        ledger = query(
            disk / "nutgraf.duckdb", "SELECT count(*), count(DISTINCT path) FROM source_files"
        )
        assert ledger[0][0] == ledger[0][1]
        json.dumps(counts)
    finally:
        subprocess.run(["umount", str(disk)], check=False)
