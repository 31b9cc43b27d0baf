"""Keeping the full-text search index fresh after a run. Orchestration only; the index itself
is warehouse/search.py."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.settings import Settings, open_warehouse
from warehouse.search import TRIGGER_RUN, ensure_index

SEARCH_BUILT = "built"
SEARCH_FRESH = "fresh"
SEARCH_FAILED = "failed"
SEARCH_SKIPPED = "skipped"


@task(name="refresh-search-index", cache_policy=NO_CACHE)
def refresh_search_index(settings: Settings) -> dict[str, object]:
    """Rebuild the search index if it is stale after the publishes (they keep a fresh index in
    step, so only one stale before the run is rebuilt); the caller holds the writer lock and
    every publish has committed.

    Never fails the run: the index is derived from committed data, and `nutgraf search`
    rebuilds a stale one when asked. A failure is a warning and the summary says so.
    """
    try:
        with open_warehouse(settings) as con:
            build = ensure_index(con, extension=settings.fts_extension, trigger=TRIGGER_RUN)
    except Exception as exc:  # noqa: BLE001 - derived data: any failure leaves the run intact
        get_run_logger().warning(
            "the full-text search index was not rebuilt (%s: %s); the published data is "
            "intact and `nutgraf search` rebuilds the index when asked",
            type(exc).__name__,
            exc,
        )
        return {"status": SEARCH_FAILED, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "status": SEARCH_BUILT if build.rebuilt else SEARCH_FRESH,
        "paragraphs": build.paragraphs,
        "seconds": build.seconds,
    }


def skipped_search_index(settings: Settings) -> dict[str, object]:
    """The summary entry of a run that did not look at the index, and why."""
    reason = "nothing published" if settings.search_index else "setting search_index is off"
    return {"status": SEARCH_SKIPPED, "reason": reason}
