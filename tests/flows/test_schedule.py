"""Schedules, deployments and the publish slot, against real Prefect servers and processes.

One `prefect server start` serves the module (20-60 s to come up on two cores, depending on
the load); it boots while the first test runs `nutgraf serve` with a server of its own. A run
killed inside its publish, and the run that must wait for its slot, happen in the background
meanwhile (fixture `slot_recovery`), so the minute of lease expiry costs no wall time.
`nutgraf serve`, `prefect deploy`, workers and `nutgraf run` are real processes, each started
in its own session and killed with its whole group in a `finally`, so a failing test leaves
nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLES, query

pytestmark = pytest.mark.slow

N_SAMPLE_FILES = sum(1 for path in SAMPLES.rglob("*") if path.is_file())
NEW_ARTICLE = (
    "Council approves the new bridge\n\n"
    "The council voted on Tuesday to build a second bridge over the river, after years of "
    "complaints about traffic in the old town.\n\n"
    "Work is due to start in the spring and to take two years, the mayor said.\n"
)
# The module's server: expired leases are looked for every second (Prefect's default is 15 s)
# and a run waiting for a slot asks again within a second (default: up to 30 s), so the
# recovery test waits for the lease itself (60 s, the server's minimum), not for the polling.
SERVER_ENV = {
    "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "1",
    "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
}


def _base_env(tmp_path: Path, api_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a child process: no Prefect or nutgraf settings of this session,
    offline and quiet, settings under `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NUTGRAF_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "NUTGRAF_CONFIG": str(tmp_path / "no-nutgraf.toml"),
            "NUTGRAF_PREFECT_HOME": str(tmp_path / "prefect"),
            "NUTGRAF_SETTLE_SECONDS": "0",
            # The session's unpacked language model, as in every other test.
            "NUTGRAF_CACHE_DIR": os.environ["NUTGRAF_CACHE_DIR"],
        }
    )
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    env.update(extra)
    return env


def _start(command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `command` in its own session (a process group of its own), output to `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _nutgraf(*args: str) -> list[str]:
    return [sys.executable, "-m", "flows.cli", *args]


def _prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process's whole group (it leads it) and reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@contextmanager
def _group(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Whatever happens in the block, nothing of the process's group outlives it."""
    try:
        yield process
    finally:
        _kill_group(process)


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], log: Path, timeout: float = 300
) -> int:
    """Run to the end (bounded); the exit code. Fails with the output when it hangs."""
    with _group(_start(command, cwd=cwd, env=env, log=log)) as process:
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{command[2:]} did not finish in {timeout:g} s:\n{_tail(log)}"
            ) from None


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_until(check: Callable[[], object], *, timeout: float, what: str, log: Path) -> object:
    """Poll `check` until it returns something true; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:g} s. Output of {log.name}:\n{_tail(log)}")


def _api(api_url: str, path: str, body: dict | None = None) -> object:
    """GET (or POST `body` to) the Prefect API; the decoded JSON reply.

    A 503 is retried, as Prefect's own client does: the server sends it when its SQLite
    database was locked by another writer (a worker, the scheduler) and nothing was done."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{api_url}{path}", data=data, headers={"content-type": "application/json"}
    )
    for delay in (1, 2, 4, 8, None):
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or delay is None:
                raise
            time.sleep(delay)


def _runs(warehouse: Path) -> list[tuple]:
    """(run_id, flow_run_id, status) of every finished run, oldest first; [] before the first
    tick has created the warehouse."""
    if not warehouse.exists():
        return []
    tables = query(warehouse, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'")
    if tables[0][0] == 0:
        return []
    return query(
        warehouse,
        "SELECT run_id, flow_run_id, status FROM runs WHERE finished_at IS NOT NULL "
        "ORDER BY started_at",
    )


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


class ModuleServer:
    """A real `prefect server start` on a free loopback port, launched when the module starts;
    the first test (which starts a server of its own) runs while it boots."""

    def __init__(self, home: Path) -> None:
        from flows.serve import launch_local_server

        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update({"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        self.server = launch_local_server(home, env={**env, **SERVER_ENV})
        self._lock = threading.Lock()
        self._healthy = False

    def api_url(self) -> str:
        """The API URL, once the server is healthy (a bounded wait, from any thread)."""
        from flows.serve import await_local_server

        with self._lock:
            if not self._healthy:
                await_local_server(self.server)
                self._healthy = True
        return self.server.api_url

    def stop(self) -> None:
        from flows.serve import stop_local_server

        stop_local_server(self.server)


@pytest.fixture(scope="module", autouse=True)
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleServer]:
    server = ModuleServer(tmp_path_factory.mktemp("prefect-server"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def prefect_server(module_server: ModuleServer) -> str:
    """The module server's API URL."""
    return module_server.api_url()


class SlotRecovery:
    """In a thread: a run killed with SIGKILL inside its publish (so holding the slot), then
    a run started right after it, which must wait for the dead run's lease to expire."""

    def __init__(self, server: ModuleServer, work: Path) -> None:
        from flows.publish_slot import default_limit_name

        self.server = server
        self.api_url = ""
        self.work = work
        self.warehouse = work / "nutgraf.duckdb"
        self.limit = default_limit_name(self.warehouse)
        self.killed_log = work / "killed.log"
        self.log = work / "waiting.log"
        self.killed_code: int | None = None
        self.held: dict | None = None
        self.waiting: subprocess.Popen | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._start, name="slot-recovery", daemon=True)

    def _start(self) -> None:
        try:
            self.api_url = self.server.api_url()
            killed = _base_env(
                self.work, self.api_url, NUTGRAF_FAULT_POINTS='["kill@publish:begin"]'
            )
            self.killed_code = _run(_nutgraf("run"), cwd=self.work, env=killed, log=self.killed_log)
            self.held = _api(self.api_url, f"/v2/concurrency_limits/{self.limit}")
            env = _base_env(self.work, self.api_url)
            self.waiting = _start(_nutgraf("run"), cwd=self.work, env=env, log=self.log)
        except BaseException as exc:  # reported by the test
            self.error = exc

    def stop(self) -> None:
        """Nothing of it outlives the module."""
        self.thread.join(timeout=600)
        if self.waiting is not None:
            _kill_group(self.waiting)


@pytest.fixture(scope="module", autouse=True)
def slot_recovery(
    module_server: ModuleServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SlotRecovery]:
    """Module-wide and autouse, so the killed run and the minute its successor waits for the
    lease pass while the other tests run; test_a_slot_held_by_a_killed_run_frees_itself
    (last in the module) checks how it ended."""
    work = tmp_path_factory.mktemp("slot")
    shutil.copytree(SAMPLES, work / "landing")
    recovery = SlotRecovery(module_server, work)
    recovery.thread.start()
    try:
        yield recovery
    finally:
        recovery.stop()


def test_serve_starts_a_server_runs_ticks_and_loads_a_dropped_file_once(tmp_path: Path):
    """No PREFECT_API_URL: serve starts its own server. The first tick finds the landing
    folder empty; a file dropped after it is loaded by a later tick, and the tick after that
    one finds nothing new. Ctrl-C then stops the ticks, the server and every process."""
    from flows.serve import api_healthy
    from flows.serve_state import read_serve_state, serve_state_path

    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "nutgraf.duckdb"
    home = tmp_path / "prefect"
    log = tmp_path / "serve.log"
    env = _base_env(tmp_path, None)
    command = _nutgraf("serve", "--interval", "3", "--landing", "landing")
    with _group(_start(command, cwd=tmp_path, env=env, log=log)) as serve:
        line = _wait_until(
            lambda: re.search(r"Prefect UI (http://127\.0\.0\.1:(\d+))/", log.read_text()),
            timeout=300,
            what="serve to start its server and print the UI address",
            log=log,
        )
        ui_url, port = line.group(1), line.group(2)
        api_url = f"{ui_url}/api"
        state = read_serve_state(home)  # for `nutgraf status`
        assert state is not None
        assert (state["pid"], state["ui_url"], state["schedule"]) == (
            serve.pid,
            ui_url,
            "every 3 s",
        )

        first = _wait_until(lambda: _runs(warehouse), timeout=300, what="the first tick", log=log)[
            0
        ]
        assert first[2] == "nothing_new"
        (landing / ".bridge.tmp").write_text(NEW_ARTICLE)
        (landing / ".bridge.tmp").replace(landing / "bridge.txt")  # appears whole
        loaded = _wait_until(
            lambda: query(warehouse, "SELECT run_id FROM source_files WHERE path = 'bridge.txt'"),
            timeout=300,
            what="a tick to load the file dropped after the first tick",
            log=log,
        )
        loaded_by = loaded[0][0]
        _wait_until(
            lambda: [r for r in _runs(warehouse) if r[0] > loaded_by],
            timeout=300,
            what="a tick after the one that loaded the dropped file",
            log=log,
        )
        os.killpg(serve.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the whole group
        try:
            code = serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"serve did not stop on Ctrl-C:\n{_tail(log)}") from None
        _wait_until(
            lambda: _group_gone(serve.pid),
            timeout=30,
            what="every process serve started to end",
            log=log,
        )
    output = log.read_text()
    assert code == 0, output
    assert "starting a Prefect server" in output and "stopping the Prefect server" in output
    assert output.rstrip().endswith("nutgraf serve: stopped")
    assert not api_healthy(api_url)
    assert _server_processes(port) == []
    assert not serve_state_path(home).exists()
    assert (home / "prefect.db").exists()  # the server kept its state in the project's home

    runs = _runs(warehouse)
    assert runs[0] == first and len(runs) >= 3 and loaded_by != first[0]
    assert len({flow_run_id for _, flow_run_id, _ in runs}) == len(runs)  # one per tick
    assert query(warehouse, "SELECT status, run_id FROM source_files") == [("loaded", loaded_by)]
    assert query(warehouse, "SELECT count(*) FROM articles") == [(1,)]


def test_serve_uses_the_configured_server_and_leaves_it_running(
    prefect_server: str, tmp_path: Path
):
    from flows.serve import api_healthy
    from flows.serve_state import serve_state_path

    (tmp_path / "landing").mkdir()
    log = tmp_path / "serve.log"
    env = _base_env(tmp_path, prefect_server)
    # New Year's midnight: no tick comes during the test.
    command = _nutgraf("serve", "--cron", "0 0 1 1 *", "--landing", "landing")
    with _group(_start(command, cwd=tmp_path, env=env, log=log)) as serve:
        _wait_until(
            lambda: "Ctrl-C stops serving" in log.read_text(),
            timeout=300,
            what="serve to register its deployment",
            log=log,
        )
        deployment = _api(
            prefect_server, "/deployments/name/nutgraf-scheduled-ingest/nutgraf-serve"
        )
        assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["0 0 1 1 *"]
        assert deployment["paused"] is False
        serve.send_signal(signal.SIGTERM)  # `kill PID`, as a service manager stops it
        try:
            code = serve.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"serve did not stop on SIGTERM:\n{_tail(log)}") from None
    output = log.read_text()
    assert code == 0, output
    assert f"using the Prefect server at {prefect_server}" in output
    assert "starting a Prefect server" not in output
    assert output.rstrip().endswith("nutgraf serve: stopped")
    assert api_healthy(prefect_server)  # not serve's to stop
    paused = _api(prefect_server, f"/deployments/{deployment['id']}")
    assert paused["paused"] is True
    assert not serve_state_path(tmp_path / "prefect").exists()


def _server_processes(port: str) -> list[str]:
    """Command lines of live processes serving on `port`."""
    return [
        cmdline
        for cmdline in (_cmdline(pid) for pid in os.listdir("/proc") if pid.isdigit())
        if "server" in cmdline and f"--port\0{port}\0" in cmdline
    ]


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    except OSError:
        return ""


def test_deployments_run_on_a_process_worker(prefect_server: str, tmp_path: Path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    warehouse = tmp_path / "nutgraf.duckdb"
    env = _base_env(
        tmp_path,
        prefect_server,
        NUTGRAF_LANDING=str(landing),
        NUTGRAF_WAREHOUSE=str(warehouse),
        NUTGRAF_REPORTS=str(tmp_path / "reports"),
    )
    pool = "nutgraf-test"

    def run(command: list[str], cwd: Path, name: str) -> None:
        log = tmp_path / f"{name}.log"
        assert _run(command, cwd=cwd, env=env, log=log) == 0, _tail(log)

    # nutgraf's route, from the folder the runs should start in; it creates the pool.
    run(
        _nutgraf("deploy", "--pool", pool, "--name", "from-cli", "--cron", "0 6 * * *"),
        tmp_path,
        "nutgraf-deploy",
    )
    assert (
        f"created the process work pool {pool!r}" in (tmp_path / "nutgraf-deploy.log").read_text()
    )
    # The team route: prefect.yaml, deployed from the checkout.
    yaml_deploy = _prefect(
        "--no-prompt", "deploy", "--prefect-file", str(ROOT / "prefect.yaml"), "--all"
    )
    run([*yaml_deploy, "--pool", pool], ROOT, "prefect-deploy")

    by_yaml = _api(prefect_server, "/deployments/name/nutgraf-scheduled-ingest/nutgraf")
    assert by_yaml["work_pool_name"] == pool
    assert [s["schedule"]["cron"] for s in by_yaml["schedules"]] == ["*/15 * * * *"]
    assert by_yaml["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
    ]
    by_cli = _api(prefect_server, "/deployments/name/nutgraf-scheduled-ingest/from-cli")
    assert by_cli["work_pool_name"] == pool
    assert [s["schedule"]["cron"] for s in by_cli["schedules"]] == ["0 6 * * *"]
    assert by_cli["entrypoint"] == "flows.schedule.scheduled_ingest"
    assert by_cli["job_variables"] == {"working_dir": str(tmp_path)}

    flow_runs = [
        _api(prefect_server, f"/deployments/{d['id']}/create_flow_run", {})["id"]
        for d in (by_yaml, by_cli)
    ]
    run(_prefect("worker", "start", "--pool", pool, "--run-once"), tmp_path, "worker")

    states = [_api(prefect_server, f"/flow_runs/{run_id}")["state_type"] for run_id in flow_runs]
    assert states == ["COMPLETED", "COMPLETED"], _tail(tmp_path / "worker.log")
    # Both runs wrote the one warehouse, one after the other: the samples once. (Near a
    # quarter hour the yaml deployment's own schedule adds a run the worker also picks up.)
    runs = _runs(warehouse)
    statuses = sorted(status for _, _, status in runs)
    assert statuses == ["nothing_new"] * (len(runs) - 1) + ["published"], runs
    assert len(runs) in (2, 3), runs
    assert query(warehouse, "SELECT count(*) FROM source_files") == [(N_SAMPLE_FILES,)]
    # Both took the publish slot and gave it back.
    from flows.publish_slot import default_limit_name

    limit = _api(prefect_server, f"/v2/concurrency_limits/{default_limit_name(warehouse)}")
    assert limit["active_slots"] == 0


def test_a_slot_held_by_a_killed_run_frees_itself(slot_recovery: SlotRecovery):
    """The run killed inside its publish never released its slot; the run after it waited
    for the slot's lease to expire (Prefect's repossessor frees it), then published."""
    recovery = slot_recovery
    recovery.thread.join(timeout=600)
    assert not recovery.thread.is_alive(), _tail(recovery.killed_log)
    if recovery.error is not None:
        raise recovery.error
    assert recovery.killed_code == -signal.SIGKILL, _tail(recovery.killed_log)
    held = recovery.held
    assert (held["limit"], held["active_slots"]) == (1, 1), held  # the dead run's slot
    try:
        code = recovery.waiting.wait(timeout=300)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"the run after the killed one is still waiting for the publish slot:\n"
            f"{_tail(recovery.log)}"
        ) from None
    assert code == 4, _tail(recovery.log)  # published; the empty sample is quarantined
    assert [status for _, _, status in _runs(recovery.warehouse)] == ["published"]
    assert query(recovery.warehouse, "SELECT count(*) FROM source_files") == [(N_SAMPLE_FILES,)]
    slot = _api(recovery.api_url, f"/v2/concurrency_limits/{recovery.limit}")
    assert slot["active_slots"] == 0
