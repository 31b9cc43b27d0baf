"""The Prefect half of the single-writer rule: a global concurrency slot around each publish.

The operating-system lock (warehouse/lock.py) keeps two runs on one machine (or on a file
system whose locks every worker sees) from writing the warehouse at once. Workers that share a
Prefect server but not such a file system also need to take turns, so with a server each
publish transaction additionally holds the one slot of a Prefect global concurrency limit.

- Only with a real server (PREFECT_API_URL set). Prefect's ephemeral server lives inside one
  process and keeps its leases in that process's memory while the slot count sits in the
  shared SQLite file: a run killed mid-publish would leave the slot taken with no lease left
  to expire, blocking every later run for good. The OS lock already covers that case.
- The limit is created on first use (limit 1), named after the warehouse's absolute path, so
  runs writing different warehouses do not wait for each other. Setting `publish_limit`
  names it instead, for workers that mount one warehouse under different paths.
- The slot is held under a lease of LEASE_SECONDS that a background thread renews. A holder
  killed outright stops renewing: the server's repossessor frees the slot once the lease has
  expired (within LEASE_SECONDS plus its loop interval, 15 s by default). If renewal fails
  while the holder lives, the publish is interrupted and rolled back rather than written
  without the slot. A slot can only stay stuck if the server restarted while it was held and
  keeps its leases in memory (Prefect's default); `prefect gcl update NAME --active-slots 0`
  resets it (README, "Run on a schedule").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.settings import Settings
from warehouse.errors import WarehouseBusy

LEASE_SECONDS = 60.0
"""The shortest lease Prefect's server grants: how long a killed holder can block others."""
LIMIT_PREFIX = "nutgraf-publish-"

_known_limits: set[tuple[str, str]] = set()
"""(API URL, limit name) pairs this process has created or found, so each publish after the
first costs no extra request."""


def default_limit_name(warehouse: Path) -> str:
    """`nutgraf-publish-` and 12 hex digits of the sha256 of the warehouse's absolute path:
    the same for every worker that reaches the file under the same path."""
    digest = hashlib.sha256(str(warehouse.expanduser().resolve()).encode()).hexdigest()
    return LIMIT_PREFIX + digest[:12]


def publish_limit_name(settings: Settings) -> str | None:
    """The limit a publish of these settings holds, or None when it holds none (the setting
    `publish_slot` is off, or no Prefect server is configured)."""
    from prefect.settings import PREFECT_API_URL

    if not settings.publish_slot or not PREFECT_API_URL.value():
        return None
    return settings.publish_limit or default_limit_name(settings.warehouse)


def ensure_limit(name: str) -> None:
    """Create the global concurrency limit `name` with one slot, unless it exists.

    An existing limit is left as it is: an operator may have disabled it
    (`prefect gcl disable`) or reset its slots on purpose."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    key = (str(PREFECT_API_URL.value()), name)
    if key in _known_limits:
        return
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            except ObjectAlreadyExists:  # another worker created it in the meantime
                pass
    _known_limits.add(key)


@contextmanager
def publish_slot(settings: Settings) -> Iterator[None]:
    """Hold the warehouse's publish slot while the body runs (nothing without a server).

    Waits up to `lock_timeout_seconds` for another holder to finish; then raises
    WarehouseBusy, which the CLI reports with exit code 75, like a busy OS lock.
    """
    name = publish_limit_name(settings)
    if name is None:
        yield
        return
    from prefect.concurrency.asyncio import AcquireConcurrencySlotTimeoutError
    from prefect.concurrency.sync import concurrency

    ensure_limit(name)
    try:
        with concurrency(
            name,
            occupy=1,
            timeout_seconds=settings.lock_timeout_seconds,
            lease_duration=LEASE_SECONDS,
            strict=True,
            holder=_holder(),
            raise_on_lease_renewal_failure=True,
        ):
            yield
    except AcquireConcurrencySlotTimeoutError:
        # Raised only while waiting for the slot, before the body ran.
        raise WarehouseBusy(
            f"another worker held the Prefect publish slot {name!r} of {settings.warehouse} "
            f"for {settings.lock_timeout_seconds:g} s (setting lock_timeout_seconds). If its "
            f"process died, the slot frees itself once the lease expires (about "
            f"{LEASE_SECONDS:g} s); `prefect gcl inspect {name}` shows it and "
            f"`prefect gcl update {name} --active-slots 0` resets it"
        ) from None


def _holder():  # -> ConcurrencyLeaseHolder | None
    """The task run holding the slot, recorded with the lease (None outside a task run)."""
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder
    from prefect.runtime import task_run

    return ConcurrencyLeaseHolder(type="task_run", id=task_run.id) if task_run.id else None
