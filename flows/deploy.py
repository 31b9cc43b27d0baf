"""`nutgraf deploy`: register the scheduled flow on a Prefect server for workers to run.

What `prefect deploy` does with the repository's prefect.yaml, from any folder and without
the Prefect CLI: the deployment `nutgraf-scheduled-ingest/<name>` with a cron schedule on a
process work pool. Its runs import the flow by module path (nutgraf is installed in the
worker's environment, so no code is uploaded or pulled) and start in the folder you deployed
from, so `nutgraf.toml` and relative paths there mean what they mean for `nutgraf run`. The
worker's NUTGRAF_* variables apply too (they override the file, as usual).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from flows.serve import ServerUnavailable, configured_api_problem
from transforms.errors import NutgrafError

if TYPE_CHECKING:
    from prefect.schedules import Schedule

DEFAULT_DEPLOYMENT = "nutgraf"
DEFAULT_POOL = "nutgraf"
DEFAULT_CRON = "*/15 * * * *"
"""Every quarter of an hour, as in prefect.yaml."""
PROCESS_POOL = "process"


class NoServer(NutgrafError):
    """Deploying needs a Prefect server that workers also reach."""

    exit_code = 2


class WrongPoolType(NutgrafError):
    """The named work pool does not start flow runs as local processes."""

    exit_code = 2


@dataclass(frozen=True)
class Deployed:
    """What `nutgraf deploy` registered."""

    deployment_id: UUID
    name: str  # flow/deployment
    pool: str
    pool_created: bool
    working_dir: Path
    api_url: str
    ui_url: str | None


def deploy_scheduled_flow(
    schedule: Schedule,
    *,
    name: str,
    pool: str,
    working_dir: Path,
    out: Callable[[str], None] = print,
) -> Deployed:
    """Create or update the deployment; create the process work pool first if it is missing."""
    from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL
    from prefect.types.entrypoint import EntrypointType

    from flows.schedule import SCHEDULED_FLOW, scheduled_ingest

    api_url = PREFECT_API_URL.value()
    if not api_url:
        raise NoServer(
            "a deployment lives on a Prefect server that your workers reach too; start one "
            "(`prefect server start`) and set PREFECT_API_URL, e.g. "
            "`export PREFECT_API_URL=http://127.0.0.1:4200/api`"
        )
    problem = configured_api_problem()
    if problem is not None:
        raise ServerUnavailable(
            f"the Prefect server at {api_url} (PREFECT_API_URL) does not answer ({problem})"
        )
    created = _ensure_process_pool(pool)
    if created:
        out(f"nutgraf deploy: created the process work pool {pool!r}")
    deployment = scheduled_ingest.to_deployment(
        name=name,
        schedules=[schedule],
        work_pool_name=pool,
        job_variables={"working_dir": str(working_dir)},
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="nutgraf: ingest what is new in the landing folder (settings from "
        "nutgraf.toml in the working directory and NUTGRAF_* variables)",
    )
    deployment_id = deployment.apply()
    return Deployed(
        deployment_id=deployment_id,
        name=f"{SCHEDULED_FLOW}/{name}",
        pool=pool,
        pool_created=created,
        working_dir=working_dir,
        api_url=api_url,
        ui_url=PREFECT_UI_URL.value(),
    )


def _ensure_process_pool(pool: str) -> bool:
    """True when the pool had to be created; refuses a pool of another type, whose runs
    would not start in the working directory this deployment names."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            existing = client.read_work_pool(pool)
        except ObjectNotFound:
            # The template comes with Prefect: no registry lookup over the network.
            template = ProcessWorker.get_default_base_job_template()
            try:
                client.create_work_pool(
                    WorkPoolCreate(name=pool, type=PROCESS_POOL, base_job_template=template)
                )
            except ObjectAlreadyExists:  # created meanwhile, by a worker starting
                return False
            return True
    if existing.type != PROCESS_POOL:
        raise WrongPoolType(
            f"work pool {pool!r} is of type {existing.type!r}; `nutgraf deploy` registers "
            f"runs for a {PROCESS_POOL!r} pool (adapt prefect.yaml for other kinds)"
        )
    return False
