"""The quick half of schedules and the publish slot: usage errors refused before anything
starts, and which limit a publish takes when. The real servers, ticks, workers and killed
holders are in test_schedule.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def _nutgraf(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NUTGRAF_"))}
    base.update({"PYTHONPATH": str(ROOT), "DO_NOT_TRACK": "1", **env})
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=base,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_cron_prefect_cannot_use_is_refused_before_a_server_starts(tmp_path: Path):
    (tmp_path / "landing").mkdir()
    home = tmp_path / "prefect"
    result = _nutgraf(
        "serve", "--cron", "61 * * * *", cwd=tmp_path, env={"NUTGRAF_PREFECT_HOME": str(home)}
    )
    assert result.returncode == 2, result.stderr
    assert "cannot schedule on cron '61 * * * *'" in result.stderr
    assert not (home / "nutgraf-server.log").exists()  # no server was started


def test_deploy_refuses_an_unknown_time_zone(tmp_path: Path):
    result = _nutgraf(
        "deploy",
        "--cron",
        "0 6 * * *",
        "--timezone",
        "Mars/Olympus",
        cwd=tmp_path,
        env={"NUTGRAF_PREFECT_HOME": str(tmp_path / "prefect")},
    )
    assert result.returncode == 2, result.stderr
    assert "Invalid timezone" in result.stderr


def test_deploy_needs_a_prefect_server(tmp_path: Path):
    result = _nutgraf("deploy", cwd=tmp_path, env={"NUTGRAF_PREFECT_HOME": str(tmp_path / "p")})
    assert result.returncode == 2, result.stderr
    assert "set PREFECT_API_URL" in result.stderr


def test_the_publish_slot_is_taken_only_with_a_server(tmp_path: Path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.publish_slot import default_limit_name, publish_limit_name
    from flows.settings import Settings

    settings = Settings(warehouse=tmp_path / "a.duckdb")
    name = default_limit_name(settings.warehouse)
    assert name.startswith("nutgraf-publish-") and len(name) == len("nutgraf-publish-") + 12
    assert default_limit_name(tmp_path / "b.duckdb") != name  # one limit per warehouse
    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert publish_limit_name(settings) is None  # ephemeral: the OS lock alone
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert publish_limit_name(settings) == name
        off = settings.model_copy(update={"publish_slot": False})
        assert publish_limit_name(off) is None
        named = settings.model_copy(update={"publish_limit": "team-warehouse"})
        assert publish_limit_name(named) == "team-warehouse"


def test_a_second_serve_on_one_prefect_home_is_refused(tmp_path: Path):
    from flows.serve_state import write_serve_state

    (tmp_path / "landing").mkdir()
    home = tmp_path / "prefect"
    # A live process (this one) serving with that home, as far as the state file says.
    write_serve_state(home, pid=os.getpid(), schedule="every 60 s", ui_url="http://127.0.0.1:1")
    result = _nutgraf(
        "serve", "--interval", "60", cwd=tmp_path, env={"NUTGRAF_PREFECT_HOME": str(home)}
    )
    assert result.returncode == 1, result.stderr
    assert f"already runs with the Prefect home {home} (pid {os.getpid()}" in result.stderr
    assert not (home / "nutgraf-server.log").exists()
