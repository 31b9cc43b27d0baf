"""Where batches are prepared does not change the warehouse: `nutgraf run --workers 2` on a real
two-worker `dask.distributed` cluster, a serial run that prepares each batch just before
finishing it (the default) and one that prepares each next batch in a second thread
(prepare_ahead) store the same rows; an unreachable `--dask` scheduler fails at once and
changes nothing.

The landing folder is built so that a batch's results depend on what earlier batches published:
exact copies of files from earlier batches, paragraphs syndicated from them, a known paragraph
next to a short new one (its language comes from stored languages), a new version of a .jsonl
record and an unchanged one, a near-copy, and an original that arrives after its copy. Batches
of twelve files make three (in path order: the samples and a first story; more stories; the
copies and edits), and the two workers prepare batches 2 and 3 before batch 1 is published.
"""

from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLES, SEED, NutgrafProcesses, query, snapshot

ENV = {"NUTGRAF_BATCH_FILES": "12", "NUTGRAF_SETTLE_SECONDS": "0"}
EXTRA_TABLES = {
    "source_records": "SELECT * EXCLUDE (run_id) FROM source_records",
    "paragraph_bands": "SELECT * EXCLUDE (run_id) FROM paragraph_bands",
    "boilerplate": "SELECT * EXCLUDE (run_id) FROM boilerplate",
    "batch_metrics": "SELECT batch, metric, value FROM batch_metrics",
    "dq_results": "SELECT * EXCLUDE (run_id) FROM dq_results",
    "runs": "SELECT * EXCLUDE (run_id, flow_run_id, started_at, finished_at, report_path) "
    "FROM runs",
}


def _paragraphs(path: Path) -> list[str]:
    """A sample's blank-line paragraphs (one sample is cp1252)."""
    data = path.read_bytes()
    try:
        text = data.decode()
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def build_landing(folder: Path) -> None:
    """The samples plus 24 files derived from them: fresh stories fill batches 1 and 2, the
    copies and edits of batch 1's files come in batch 3 (one copy sorts before its original)."""
    shutil.copytree(SAMPLES, folder)
    harbour, valley = folder / "harbour-times", folder / "valley-post"
    strike = (harbour / "2026-11-02-port-strike.txt").read_bytes()
    summit = _paragraphs(harbour / "2026-11-07-summit.txt")
    markets = _paragraphs(valley / "2026-11-03-markets.txt")
    floods = _paragraphs(valley / "2026-11-04-flood-defences.txt")
    seed = (folder / "seed" / SEED).read_text().splitlines()
    sentences = [s.strip(" .") + "." for line in seed for s in line.split(". ") if len(s) > 40]
    rng = random.Random(9)

    def write(rel: str, text: str | bytes) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    # Batch 1, before the samples: a copy published after the original it precedes.
    write("aa-reprints/2026-11-12-port-strike-copy.txt", b"Port strike (reprint)\n\n" + strike)
    # Later batches: exact copies of earlier files (duplicate files across batches) ...
    write("zz-copies/a/port-strike.txt", strike)
    write("zz-copies/b/markets.txt", (valley / "2026-11-03-markets.txt").read_bytes())
    # ... and two copies of one new file inside one batch.
    twin = "Twin story\n\n" + "\n\n".join(sentences[:3])
    write("zz-copies/c/twin-1.txt", twin)
    write("zz-copies/c/twin-2.txt", twin)
    # Syndication: earlier paragraphs with new ones, and a known paragraph next to a short new
    # one whose language is judged from the stored paragraphs' languages.
    write(
        "zz-syndicated/2026-11-13-summit-wire.txt",
        "\n\n".join(
            [
                "Summit wire",
                *summit[1:3],
                "Officials are expected to meet again in the spring to review progress.",
            ]
        ),
    )
    write(
        "zz-syndicated/2026-11-14-markets-brief.txt",
        "\n\n".join(["Markets brief", markets[1], "Ends."]),
    )
    # A near-copy: one word changed in a long paragraph.
    long = max(floods, key=len)
    write(
        "zz-syndicated/2026-11-15-floods.txt",
        "\n\n".join(["Flood defences revisited", long.replace(" the ", " a ", 1), sentences[5]]),
    )
    # The original of an earlier copy, arriving late.
    write("zz-late/2026-11-01-port-strike.txt", b"Port strike\n\n" + strike)
    # A new version of a .jsonl record (same id, new text) and an unchanged one.
    lines = (folder / "wire-desk" / "2026-11-09-feed.jsonl").read_text().splitlines()
    first, second = json.loads(lines[0]), json.loads(lines[1])
    first["body"] += "\n\nThe department later corrected the figure to 3.3 per cent."
    write("zz-wire/2026-11-10-feed.jsonl", "\n".join(json.dumps(r) for r in (first, second)))
    # Fresh articles from the seed's sentences, some sharing paragraphs with each other.
    shared = " ".join(sentences[6:8])
    for n in range(14):
        body = [" ".join(rng.sample(sentences, 3)) for _ in range(3)]
        if n % 3 == 0:
            body.insert(1, shared)
        write(
            f"zy-fresh/2026-11-{16 + n:02d}-story-{n:02d}.txt", f"Story {n}\n\n" + "\n\n".join(body)
        )


def _summary(output: Path) -> dict:
    """The JSON summary `nutgraf run --json` printed (stderr may precede it in the file)."""
    text = output.read_text()
    return json.JSONDecoder().raw_decode(text[text.index("{\n") :])[0]


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    tables = snapshot(warehouse)
    for name, sql in EXTRA_TABLES.items():
        tables[name] = sorted(query(warehouse, sql), key=repr)
    return tables


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, processes: NutgrafProcesses):
    """One landing folder loaded serially into a.duckdb, on two Dask workers into b.duckdb, and
    serially with each next batch prepared ahead into c.duckdb, all at once."""
    work = tmp_path_factory.mktemp("dask")
    build_landing(work / "landing")
    argv = ["run", "--landing", "landing", "--json"]
    serial = processes.start(
        [*argv, "--warehouse", "a.duckdb"], cwd=work, env=ENV, output=work / "a.out"
    )
    dask = processes.start(
        [*argv, "--warehouse", "b.duckdb", "--workers", "2"],
        cwd=work,
        env=ENV,
        output=work / "b.out",
    )
    ahead = processes.start(
        [*argv, "--warehouse", "c.duckdb"],
        cwd=work,
        env={**ENV, "NUTGRAF_PREPARE_AHEAD": "true"},
        output=work / "c.out",
    )
    for process in (serial, dask, ahead):
        process.join(timeout=600)
        if process.exitcode is None:
            process.kill()
    codes = (serial.exitcode, dask.exitcode, ahead.exitcode)
    assert codes == (4, 4, 4), [(work / f"{x}.out").read_text()[-3000:] for x in "abc"]
    return work


_COUNTED = (
    *("run_id", "started_at", "timings", "cpu_seconds", "report_path", "duplicate_groups"),
    *("search_index", "finished_at", "seconds", "prefect_start_seconds"),
)
"""Summary keys that differ between runs of the same files."""


@pytest.mark.slow
def test_the_dask_run_equals_the_serial_run(runs: Path):
    serial, dask = _summary(runs / "a.out"), _summary(runs / "b.out")
    # The Dask run really prepared its batches on the workers.
    assert {"worker_read_decode", "worker_language", "worker_tag"} <= dask["timings"].keys()
    assert not any(name.startswith(("worker_", "wait_")) for name in serial["timings"])
    # CPU seconds for the stages of this process, Prefect's share included; workers' are
    # their own.
    assert serial["cpu_seconds"].keys() == serial["timings"].keys() >= {"prefect", "tag"}
    assert not any(name.startswith("worker_") for name in dask["cpu_seconds"])
    assert serial["batches"] == dask["batches"] == 3
    # What a later batch finds depends on earlier ones: duplicate files, corpus occurrences,
    # versions, unchanged records and near-duplicates all occurred.
    assert serial["files_duplicate"] >= 3 and serial["records_unchanged"] == 1
    assert serial["occurrences_by_kind"]["corpus"] >= 10 and serial["near_dup_linked"] >= 1
    assert {k: v for k, v in dask.items() if k not in _COUNTED} == {
        k: v for k, v in serial.items() if k not in _COUNTED
    }
    a, b = _tables(runs / "a.duckdb"), _tables(runs / "b.duckdb")
    assert a["articles"] and a["paragraph_tags"] and a["paragraph_bands"]
    assert query(runs / "a.duckdb", "SELECT max(version) FROM articles") == [(2,)]
    for name in a:
        assert b[name] == a[name], f"table {name} differs"


@pytest.mark.slow
def test_preparing_ahead_equals_one_batch_at_a_time(runs: Path):
    one_by_one, ahead = _summary(runs / "a.out"), _summary(runs / "c.out")
    # Batches 2 and 3 were prepared in the second thread ("worker_" stages) while the batch
    # before them was finished; the finishing stages stay this thread's own.
    assert {"worker_read_decode", "worker_tag", "wait_for_prepare"} <= ahead["timings"].keys()
    assert {"dedupe", "gate", "near_dup", "publish"} <= ahead["timings"].keys()
    assert {k: v for k, v in ahead.items() if k not in _COUNTED} == {
        k: v for k, v in one_by_one.items() if k not in _COUNTED
    }
    a, c = _tables(runs / "a.duckdb"), _tables(runs / "c.duckdb")
    for name in a:
        assert c[name] == a[name], f"table {name} differs"


@pytest.mark.slow
def test_an_unreachable_scheduler_fails_at_once_and_changes_nothing(
    runs: Path, processes: NutgrafProcesses
):
    (runs / "landing" / "zz-new.txt").write_text("A late story\n\nIt must not be loaded now.")
    before = _tables(runs / "a.duckdb")
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    code = processes.run(
        ["run", "--landing", "landing", "--warehouse", "a.duckdb", "--dask", address],
        cwd=runs,
        env={**ENV, "NUTGRAF_DASK_TIMEOUT_SECONDS": "1"},
        output=runs / "unreachable.out",
    )
    message = (runs / "unreachable.out").read_text()
    assert code == 1, message
    assert f"no Dask scheduler answered at {address}" in message
    assert "Nothing was read or written" in message and "Traceback" not in message
    assert _tables(runs / "a.duckdb") == before


def test_a_serial_run_never_imports_dask():
    """Dask costs seconds of imports: the modules a serial `nutgraf run` loads leave it out."""
    code = (
        "import sys, flows.cli, flows.ingest, flows.scaleout;"
        "print(sorted(m for m in ('dask', 'distributed', 'prefect_dask') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stderr
