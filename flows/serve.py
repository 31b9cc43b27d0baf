"""`nutgraf serve`: the scheduled flow on a cron or interval schedule, until stopped.

Prefect schedules runs only on a real API server: its ephemeral server lives inside one
process and stops with it, so nothing would be left to create the next tick. With
PREFECT_API_URL set, serve uses that server. Without it, serve starts `prefect server start`
itself, as a child in its own session (so the terminal's Ctrl-C reaches serve, which then
stops the runner first and the server last), keeps the server's database and log in the
project's Prefect home, and stops it on exit. On Linux the server also gets SIGTERM if serve
itself is killed outright, so no server is ever left behind.

Each tick is a run of `nutgraf-scheduled-ingest` (flows/schedule.py) in a fresh process,
started by Prefect's runner inside this one. At most one tick runs at a time: a tick that
comes while the previous one is still loading waits for it (and then finds little to do).
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from transforms.errors import NutgrafError

if TYPE_CHECKING:
    from prefect.runner import Runner
    from prefect.schedules import Schedule

SERVE_DEPLOYMENT = "nutgraf-serve"
"""The deployment serve registers: `nutgraf-scheduled-ingest/nutgraf-serve` in the UI."""
SERVER_LOG = "nutgraf-server.log"
"""The started server's output, in the Prefect home."""
SERVER_START_TIMEOUT = 180.0
"""Seconds to wait for a started server to answer /api/health: a fresh Prefect home creates its
database first, which takes far longer on a loaded machine than on an idle one."""
SERVER_STOP_GRACE = 15.0
"""Seconds a stopping server gets before its process group is killed."""
TICK_EXIT_GRACE = 10.0
"""After Ctrl-C, seconds to let the interrupted tick end before the runner cancels it."""
_LEASE_STORAGE = "prefect.server.concurrency.lease_storage.filesystem"


class ServerUnavailable(NutgrafError):
    """No Prefect server to schedule on: the configured one does not answer, or the one serve
    started did not come up."""


class AlreadyServing(NutgrafError):
    """Another `nutgraf serve` uses the same Prefect home."""


@dataclass
class LocalServer:
    """A `prefect server start` child process and where it answers."""

    process: subprocess.Popen
    api_url: str
    ui_url: str
    log_path: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_healthy(api_url: str, *, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers /health at `api_url` (loopback or a team server)."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return reply.status == 200 and json.loads(reply.read() or b"null") is True
    except (OSError, ValueError):
        return False


def wait_for_api(api_url: str, *, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Poll /health until it answers (True), `timeout` passes or `alive()` says the server
    process has exited (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api_healthy(api_url):
            return True
        if not alive():
            return False
        time.sleep(0.25)
    return api_healthy(api_url)


def configured_api_problem() -> str | None:
    """Why the configured Prefect API (PREFECT_API_URL) cannot be used, or None when it
    answers. Asked through Prefect's client, which sends the configured credentials (a
    Prefect Cloud workspace wants them) and retries a moment before giving up."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    return None if error is None else f"{type(error).__name__}: {error}"


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when serve dies (PR_SET_PDEATHSIG),
    or None elsewhere. Resolved before forking, so the child only makes one system call."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # serve died between fork and prctl
            os.kill(os.getpid(), signal.SIGTERM)

    return hook


def start_local_server(prefect_home: Path, *, env: dict[str, str]) -> LocalServer:
    """Start `prefect server start` and wait until it is healthy (see launch_local_server)."""
    server = launch_local_server(prefect_home, env=env)
    await_local_server(server)
    return server


def launch_local_server(prefect_home: Path, *, env: dict[str, str]) -> LocalServer:
    """Start `prefect server start` on a free loopback port with `prefect_home` as its home,
    without waiting for it.

    Call it from the main thread: on Linux the server is told to stop when the thread that
    started it ends (the parent-death signal follows the creating thread, not the process).
    """
    port = free_port()
    log_path = prefect_home / SERVER_LOG
    prefect_home.mkdir(parents=True, exist_ok=True)
    server_env = {**env, "PREFECT_HOME": str(prefect_home)}
    server_env.pop("PREFECT_API_URL", None)
    # Leases on disk: a slot held when the server stops is freed after a restart, once its
    # lease has expired, instead of staying taken (flows/publish_slot.py).
    server_env.setdefault("PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", _LEASE_STORAGE)
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )
    return LocalServer(
        process, f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}", log_path
    )


def await_local_server(server: LocalServer) -> None:
    """Wait (up to SERVER_START_TIMEOUT) until a launched server is healthy; if it is not,
    stop it and say why, with the end of its log."""
    process = server.process
    healthy = wait_for_api(
        server.api_url, timeout=SERVER_START_TIMEOUT, alive=lambda: process.poll() is None
    )
    if not healthy:
        stop_local_server(server)
        raise ServerUnavailable(
            f"the Prefect server serve started did not become healthy within "
            f"{SERVER_START_TIMEOUT:g} s (exit code {process.returncode}); its log is "
            f"{server.log_path}:\n{_tail(server.log_path)}"
        )


def stop_local_server(server: LocalServer) -> None:
    """SIGTERM the server's process group, then SIGKILL it after SERVER_STOP_GRACE seconds."""
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        server.process.wait(timeout=SERVER_STOP_GRACE)
    except subprocess.TimeoutExpired:
        pass
    try:  # whatever the server started is in its group too
        os.killpg(server.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log, for an error message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def serve(
    schedule: Schedule,
    description: str,
    *,
    prefect_home: Path,
    server_env: dict[str, str],
    out: Callable[[str], None] = print,
) -> None:
    """Register the scheduled flow and run its ticks until Ctrl-C or SIGTERM.

    Uses PREFECT_API_URL when set; otherwise starts a server with `server_env` (the
    environment as the user gave it) and `prefect_home`, and stops it on the way out.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

    from flows.serve_state import clear_serve_state, read_serve_state, write_serve_state

    running = read_serve_state(prefect_home)
    if running is not None and running["pid"] != os.getpid():
        # Two serves on one Prefect home would start two servers on one database and run
        # the same deployment twice.
        raise AlreadyServing(
            f"nutgraf serve already runs with the Prefect home {prefect_home} (pid "
            f"{running['pid']}, {running['schedule']}, UI {running['ui_url']}); stop it first"
        )
    # Until the runner takes the signals over, SIGTERM unwinds like Ctrl-C, so the
    # `finally` below stops the server and clears the state file.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    server: LocalServer | None = None
    try:
        configured = PREFECT_API_URL.value()
        if configured:
            problem = configured_api_problem()
            if problem is not None:
                raise ServerUnavailable(
                    f"the Prefect server at {configured} (PREFECT_API_URL) does not answer "
                    f"({problem}); start it (`prefect server start`) or unset "
                    "PREFECT_API_URL and serve starts its own"
                )
            api_url, ui_url = configured, PREFECT_UI_URL.value()
            out(f"nutgraf serve: using the Prefect server at {api_url}")
        else:
            out(f"nutgraf serve: starting a Prefect server (home {prefect_home}) ...")
            server = start_local_server(prefect_home, env=server_env)
            api_url, ui_url = server.api_url, server.ui_url
            # Flow-run processes the runner starts inherit this.
            os.environ["PREFECT_API_URL"] = api_url
            out(f"nutgraf serve: Prefect server at {api_url}; log {server.log_path}")
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            _serve_flow(schedule, description, prefect_home, ui_url, out, write_serve_state)
    finally:
        clear_serve_state(prefect_home, pid=os.getpid())
        if server is not None:
            out("nutgraf serve: stopping the Prefect server ...")
            stop_local_server(server)
        signal.signal(signal.SIGTERM, previous)
    out("nutgraf serve: stopped")


def _serve_flow(
    schedule: Schedule,
    description: str,
    prefect_home: Path,
    ui_url: str | None,
    out: Callable[[str], None],
    write_state: Callable[..., Path],
) -> None:
    """Register the deployment, record the serve state and poll for ticks until stopped."""
    from prefect.runner import Runner
    from prefect.types.entrypoint import EntrypointType

    from flows.schedule import SCHEDULED_FLOW, scheduled_ingest

    if schedule.interval is not None:
        # Every N s from now on: counted from when the schedule was parsed, before the
        # server started, the first tick would come up to N s late.
        schedule = dataclasses.replace(schedule, anchor_date=datetime.now(UTC))
    # One tick at a time; the schedule is paused when serve stops.
    runner = Runner(name=SERVE_DEPLOYMENT, pause_on_shutdown=True, limit=1)
    deployment_id = runner.add_flow(
        scheduled_ingest,
        name=SERVE_DEPLOYMENT,
        schedules=[schedule],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    dropped = drop_waiting_ticks(deployment_id, due_before=datetime.now(UTC))
    if dropped:
        out(f"nutgraf serve: dropped {dropped} ticks left over from an earlier serve")
    if schedule.interval is not None:
        _tick_now(deployment_id)  # an interval starts with a tick; a cron waits for its time
    write_state(prefect_home, pid=os.getpid(), schedule=description, ui_url=ui_url)
    out(f"nutgraf serve: {SCHEDULED_FLOW}/{SERVE_DEPLOYMENT} scheduled {description}")
    if ui_url:
        out(f"nutgraf serve: Prefect UI {ui_url}/deployments/deployment/{deployment_id}")
    try:
        asyncio.run(_run_until_stopped(runner, out))
    finally:
        # The event loop put its own handlers back; unwind like Ctrl-C again.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    park(deployment_id)


async def _run_until_stopped(runner: Runner, out: Callable[[str], None]) -> None:
    """Run the runner until it ends or the first SIGINT / SIGTERM stops it gracefully: the
    tick in progress is cancelled and polling ends. A second signal cancels it outright.

    The signals go through the event loop (never raising inside whatever code they
    interrupt), and only then does serve say that Ctrl-C stops it. asyncio's own Ctrl-C
    handling would only cancel the runner's task, which the runner does not act on."""
    loop = asyncio.get_running_loop()
    started = asyncio.create_task(runner.start())
    await asyncio.sleep(0)  # runner.start() installs its SIGTERM handler before its first await
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if stop.is_set():
            started.cancel()
            return
        os.write(2, b"nutgraf serve: stopping (Ctrl-C again to stop at once) ...\n")
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        out("nutgraf serve: Ctrl-C stops serving (a tick in progress is stopped and rolled back)")
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({started, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not started.done():
            while not runner.started and not started.done():  # still entering its context
                await asyncio.sleep(0.1)
            if received == [signal.SIGINT]:
                # A terminal's Ctrl-C reached the tick in progress too (same process group):
                # let the runner record its end before stopping, or the two race.
                deadline = loop.time() + TICK_EXIT_GRACE
                while not runner.has_slots_available() and loop.time() < deadline:
                    await asyncio.sleep(0.2)
            if not started.done():
                await runner.astop()
        try:
            await started
        except asyncio.CancelledError:
            pass
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _tick_now(deployment_id: UUID) -> None:
    """Schedule one run of the deployment for now."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.create_flow_run_from_deployment(deployment_id)


def park(deployment_id: UUID) -> None:
    """Pause the schedule (the runner does too, but not when stopped before it started) and
    drop the ticks still waiting: those that came due while the last one ran would otherwise
    all start one after another at the next serve, to load what the first of them loads."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.pause_deployment(deployment_id)
    drop_waiting_ticks(deployment_id)


def drop_waiting_ticks(deployment_id: UUID, *, due_before: datetime | None = None) -> int:
    """Delete the deployment's flow runs that are still scheduled (all, or those due before
    `due_before`); returns how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound

    runs_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=(
            None if due_before is None else FlowRunFilterExpectedStartTime(before_=due_before)
        ),
    )
    dropped = 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=runs_filter,
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                limit=200,
            )
            for run in runs:
                try:
                    client.delete_flow_run(run.id)
                    dropped += 1
                except ObjectNotFound:
                    pass
            if len(runs) < 200:
                return dropped
