"""nutgraf's log lines name their run: real flow runs, their log records as Prefect emits them."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from flows.logs import run_logging
from tests.helpers import ROOT, SAMPLES, flow_settings, run_ingest
from warehouse.errors import WarehouseBusy
from warehouse.lock import writer_lock

FLOW_LOGGER = "prefect.flow_runs"
PACKAGES = tuple(ROOT / name for name in ("flows", "transforms", "expectations", "warehouse"))


@pytest.fixture
def prefect_logging(prefect_harness: None) -> None:
    """Prefect's logging set up before the test captures logs: importing Prefect's API (the
    flow module does) configures logging, which resets the levels pytest's capture sets."""
    import prefect.main  # noqa: F401


def _nutgraf_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Messages nutgraf's code logged on the flow run logger (not Prefect's engine's)."""
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == FLOW_LOGGER
        and any(Path(r.pathname).resolve().is_relative_to(p) for p in PACKAGES)
    ]


def test_a_runs_log_lines_carry_its_run_id(
    tmp_path: Path, prefect_logging: None, caplog: pytest.LogCaptureFixture
):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLES, landing)
    settings = flow_settings(tmp_path, landing)
    with caplog.at_level(logging.INFO, logger=FLOW_LOGGER):
        first = run_ingest(settings)
        lines = _nutgraf_messages(caplog)
        caplog.clear()
        with writer_lock(settings.warehouse, timeout=0):
            with pytest.raises(WarehouseBusy):
                run_ingest(settings.model_copy(update={"lock_timeout_seconds": 0}))
        busy = _nutgraf_messages(caplog)

    prefix = f"run {first['run_id']}: "
    assert any(line.startswith(prefix + f"{first['files_seen']} of ") for line in lines), lines
    assert any(line.startswith(prefix + "batch 1 of 1 published: ") for line in lines), lines
    assert lines and all(line.startswith(prefix) for line in lines), lines

    # A run that fails names itself too (a run id of its own).
    assert len(busy) == 1 and "another nutgraf run" in busy[0], busy
    assert busy[0].startswith("run ") and not busy[0].startswith(prefix)


def test_module_loggers_name_the_run_only_while_it_runs(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("transforms.langid")  # a nutgraf module's own logger
    with caplog.at_level(logging.WARNING):
        with run_logging("20261128T115009-820aefc3"):
            logger.warning("language model cache %s unreadable", "x.bin")
            logging.getLogger("elsewhere").warning("not nutgraf's")
        logger.warning("after the run")
    assert [r.getMessage() for r in caplog.records] == [
        "run 20261128T115009-820aefc3: language model cache x.bin unreadable",
        "not nutgraf's",
        "after the run",
    ]
