"""The flow that schedules and deployments run: `nutgraf-scheduled-ingest`, without parameters.

A scheduled run is started by Prefect (a served runner or a worker) in a fresh process, long
after the command that registered it has exited, so it cannot be handed a Settings object. It
loads its settings when it starts instead, exactly as `nutgraf run` does: defaults <
`nutgraf.toml` in its working directory (or NUTGRAF_CONFIG) < NUTGRAF_* variables. Editing the
file or the environment of the serving process or worker therefore changes the next tick,
without registering anything again.

It then runs the ingest flow as a subflow, so the Prefect UI shows every tick as
`nutgraf-scheduled-ingest` with the usual `nutgraf-ingest` run (its tasks and artifacts)
inside.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger
from prefect.schedules import Cron, Interval, Schedule
from prefect.states import Failed, State
from pydantic import ValidationError

from flows.settings import load_settings
from transforms.errors import NutgrafError

if TYPE_CHECKING:
    from flows.runs import RunSummary


class BadSchedule(NutgrafError):
    """A cron expression, interval or time zone Prefect cannot schedule on."""

    exit_code = 2


SCHEDULED_FLOW = "nutgraf-scheduled-ingest"
"""The flow's name in Prefect; a deployment of it is `nutgraf-scheduled-ingest/<name>`."""


@flow(name=SCHEDULED_FLOW, validate_parameters=False)
def scheduled_ingest() -> RunSummary | State:
    """One scheduled tick: load the settings now, then ingest whatever is new.

    Files dropped since the last tick are new to the ledger, so this tick loads them; files
    an earlier tick loaded are skipped. A missing landing folder or a busy warehouse fails
    this tick with a one-line message; the schedule goes on.
    """
    # Imported here: `nutgraf serve` and `nutgraf deploy` import this module only to name the
    # flow, and need none of the pipeline's libraries themselves.
    from flows.ingest import ingest
    from flows.runs import STATUS_GATE_FAILED
    from flows.runtime import limit_malloc_arenas

    limit_malloc_arenas()  # a worker's flow-run process does not pass through the CLI
    logger = get_run_logger()
    try:
        settings = load_settings()
    except ValidationError as exc:  # a bad nutgraf.toml or NUTGRAF_* value
        logger.error("invalid settings (NUTGRAF_* variables or nutgraf.toml): %s", exc)
        return Failed(message=f"invalid settings: {exc}")
    if not settings.landing.is_dir():
        message = (
            f"landing folder {settings.landing.resolve()} does not exist (working directory "
            f"{os.getcwd()}); create it or set NUTGRAF_LANDING / `landing` in nutgraf.toml"
        )
        logger.error("%s", message)
        return Failed(message=message, data=NutgrafError(message))
    from prefect.runtime import flow_run

    from flows.discovery import nothing_new
    from flows.faults import Faults

    # A tick that finds nothing new is recorded as such without starting the ingest subflow.
    faults = Faults(tuple(settings.fault_points))
    try:
        run_id = str(flow_run.id) if flow_run.id else None
        summary = nothing_new(settings, faults, flow_run_id=run_id)
    except NutgrafError as exc:  # the warehouse is busy or unreadable: this tick fails
        logger.error("%s", exc)
        return Failed(message=str(exc), data=exc)
    if summary is None:
        state = ingest(settings, faults, return_state=True)
        if not state.is_completed():
            return state
        summary = state.result()
    t = summary.totals
    line = (
        f"run {summary.run_id}: {summary.status}; files seen {t.files_seen}, new "
        f"{t.files_new}, duplicate {t.files_duplicate}, quarantined {t.files_quarantined}; "
        f"warehouse {settings.warehouse.resolve()}"
    )
    if summary.status == STATUS_GATE_FAILED:
        # A tick whose batch the gate stopped is failed, so the UI shows it red (and any
        # notification on failed runs fires); `nutgraf run` exits 3 for the same reason.
        message = (
            f"{line}; the gate failed ({', '.join(summary.failed_checks)}), that batch "
            f"was not published; report {summary.report_path}"
        )
        logger.error("%s", message)
        return Failed(message=message)
    logger.info("%s", line)
    # Also on the output of `nutgraf serve` or the worker, whatever Prefect's log level.
    print(f"nutgraf-scheduled-ingest: {line}", flush=True)
    return summary


def make_schedule(cron: str | None, interval: float | None, timezone: str | None) -> Schedule:
    """The Prefect schedule of `--cron EXPR [--timezone TZ]` or `--interval SECONDS`, checked
    here so a typo is refused before anything is registered or started."""
    from prefect.client.schemas.schedules import CronSchedule

    if cron is not None:
        try:
            CronSchedule(cron=cron, timezone=timezone)
        except ValidationError as exc:
            reasons = "; ".join(str(error["msg"]) for error in exc.errors())
            raise BadSchedule(
                f"cannot schedule on cron {cron!r}"
                + (f" in time zone {timezone!r}" if timezone else "")
                + f": {reasons}"
            ) from None
        return Cron(cron, timezone=timezone)
    if interval is None:
        raise BadSchedule("a schedule needs a cron expression or an interval")
    if interval <= 0:
        raise BadSchedule(f"the interval must be a positive number of seconds, not {interval:g}")
    return Interval(interval, timezone=timezone)


def describe_schedule(cron: str | None, interval: float | None, timezone: str | None) -> str:
    """The schedule in words, as serve prints it and `nutgraf status` shows it."""
    if cron is not None:
        return f"cron {cron} ({timezone or 'UTC'})"
    return f"every {interval:g} s"
