"""`nutgraf status`: the state of a deployment at a glance, without starting Prefect.

What someone on call asks first: did the last runs publish, is anything waiting in the landing
folder, is anything quarantined, how big is the warehouse, is a run writing now, is the
schedule being served. Everything is read: the warehouse through a read-only connection, the
landing folder by listing it (one `stat` per file, compared with the ledger on path, size and
mtime exactly as a run's discovery does; no file is opened), the serve state file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flows.progress import format_size
from flows.serve_state import read_serve_state
from flows.settings import Settings
from transforms import schema as S
from transforms.discover import find_unsettled, list_files, select_unseen
from warehouse.lock import current_writer
from warehouse.status import WarehouseStatus, read_warehouse_status, warehouse_bytes

_EMPTY_LEDGER = pl.Schema({S.PATH: pl.String, S.SIZE: pl.Int64, S.MTIME: pl.Float64})


def pending_files(settings: Settings, ledger: pl.DataFrame, *, now: float) -> dict[str, object]:
    """Files a run would pick up: listed in the landing folder and not in the ledger with the
    same path, size and mtime (new, changed or released), and how many of them are younger
    than `settle_seconds` (a run would wait for those)."""
    listed = list_files(
        settings.landing,
        patterns=tuple(settings.patterns),
        follow_symlinks=settings.follow_symlinks,
    )
    pending = select_unseen(listed, ledger)
    settling = find_unsettled(pending, now=now, settle_seconds=settings.settle_seconds)
    return {
        "files": pending.height,
        "bytes": int(pending[S.SIZE].sum()),
        "settling": settling.height,
    }


def collect_status(
    settings: Settings, *, n_runs: int, now: float, prefect_home: Path
) -> dict[str, object]:
    """Everything `nutgraf status` shows, as plain values (what --json prints)."""
    warehouse = settings.warehouse
    exists = warehouse.is_file()
    db_bytes, wal_bytes = warehouse_bytes(warehouse)
    found: WarehouseStatus | None = (
        read_warehouse_status(warehouse, n_runs=n_runs) if exists else None
    )
    landing: dict[str, object] = {"path": str(settings.landing)}
    landing["exists"] = settings.landing.is_dir()
    ledger = pl.DataFrame(schema=_EMPTY_LEDGER) if found is None else found.ledger
    if landing["exists"] and ledger is not None:
        landing |= pending_files(settings, ledger, now=now)
    return {
        "warehouse": {
            "path": str(warehouse),
            "exists": exists,
            "bytes": db_bytes,
            "wal_bytes": wal_bytes,
            "schema_version": None if found is None else found.schema_version,
            "latest_schema_version": None if found is None else found.latest_schema_version,
        },
        "writer_pid": current_writer(warehouse),
        "runs": [] if found is None else found.runs.to_dicts(),
        "retag_runs": _dicts(found.retag_runs) if found else [],
        "landing": landing,
        "quarantined": _waiting(found.quarantined) if found else {"waiting": 0, "by_reason": {}},
        "serve": read_serve_state(prefect_home),
        "prefect_home": str(prefect_home),
    }


def _dicts(frame: pl.DataFrame | None) -> list[dict] | None:
    """Rows as dicts; None stays None (the warehouse predates the table)."""
    return None if frame is None else frame.to_dicts()


def _waiting(quarantined: pl.DataFrame | None) -> dict[str, object] | None:
    """reason_code, waiting rows -> {waiting: total, by_reason: {code: n}}."""
    if quarantined is None:
        return None
    return {
        "waiting": int(quarantined["waiting"].sum()),
        "by_reason": dict(quarantined.select("reason_code", "waiting").iter_rows()),
    }


# --- the text a person reads --------------------------------------------------------------------


def _printable(text: str) -> str:
    """A path or value as it can be shown on a terminal (control characters escaped)."""
    return text if text.isprintable() else repr(text)[1:-1]


def _when(value: object) -> str:
    """A timestamp as UTC minutes; empty when there is none."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def format_duration(seconds: object) -> str:
    """Wall seconds as a person reads them: '2.7 s', '14 s', '3 min'; empty when unknown."""
    if not isinstance(seconds, int | float):
        return ""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _took(started: object, finished: object) -> str:
    """How long a run took: the flow's start to its end (`finished_at`, stamped when the
    flow is done; a run that crashed keeps its last batch's)."""
    if isinstance(started, datetime) and isinstance(finished, datetime):
        return format_duration((finished - started).total_seconds())
    return ""


def _table(header: list[str], rows: list[list[str]], *, right: set[int]) -> list[str]:
    """Rows under a header in aligned columns (numbers right-aligned), two spaces apart."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = zip(cells, widths, strict=True)
        out = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(padded)]
        return "    " + "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _warehouse_line(info: dict) -> str:
    """Size, write-ahead log and schema of the warehouse, or that there is none yet."""
    path = _printable(info["path"])
    if not info["exists"]:
        return f"  warehouse   {path}: none yet (the first `nutgraf run` creates it)"
    text = f"  warehouse   {path}: {format_size(info['bytes'])}"
    if info["wal_bytes"]:
        wal = format_size(info["wal_bytes"])
        text += f" + {wal} write-ahead log (`nutgraf vacuum` folds it in)"
    version, latest = info["schema_version"], info["latest_schema_version"]
    if version < latest:
        text += f"; schema {version} of {latest} (the next `nutgraf run` migrates it)"
    return text


def _landing_line(landing: dict) -> str:
    """How many files a run would pick up now, or why that is not known."""
    path = _printable(landing["path"])
    if not landing["exists"]:
        return f"  landing     {path}: no such folder (pass --landing or set NUTGRAF_LANDING)"
    if "files" not in landing:
        return f"  landing     {path}: pending files unknown until the next run migrates the ledger"
    if not landing["files"]:
        return f"  landing     {path}: nothing pending"
    text = (
        f"  landing     {path}: {landing['files']:,} file{'s' if landing['files'] != 1 else ''} "
        f"pending ({format_size(landing['bytes'])}: not loaded yet, or changed since)"
    )
    if landing["settling"]:
        text += f", {landing['settling']:,} still being written"
    return text


def _quarantine_line(quarantined: dict | None) -> str:
    """Files waiting for release, by reason, with the command that lists them."""
    if quarantined is None:
        return "  quarantine  unknown until the next run migrates the warehouse"
    waiting = quarantined["waiting"]
    if not waiting:
        return "  quarantine  nothing waiting for release"
    reasons = ", ".join(f"{code} {n}" for code, n in quarantined["by_reason"].items())
    return (
        f"  quarantine  {waiting:,} file{'s' if waiting != 1 else ''} waiting for release "
        f"({reasons}); `nutgraf quarantine list` shows them"
    )


def _serve_line(serve: dict | None) -> str:
    """Whether, and on what schedule, `nutgraf serve` runs (flows/serve_state.py)."""
    if serve is None:
        return "  serving     no (`nutgraf serve` is not running with this Prefect home)"
    ui = f"; UI {serve['ui_url']}" if serve.get("ui_url") else "; no UI"
    return (
        f"  serving     yes: pid {serve['pid']}, schedule {serve['schedule']}, "
        f"since {serve['started_at']}{ui}"
    )


def _runs_lines(runs: list[dict]) -> list[str]:
    """The last runs as a table, newest first."""
    if not runs:
        return ["  runs        none yet"]
    header = [
        *("run", "started (UTC)", "took", "status"),
        *("new", "quar.", "articles", "new paras", "gate"),
    ]
    rows = [
        [
            _printable(str(r["run_id"])),
            _when(r["started_at"]),
            _took(r["started_at"], r["finished_at"]),
            str(r["status"]),
            f"{r['files_new']:,}",
            f"{r['files_quarantined']:,}",
            f"{r['articles']:,}",
            f"{r['paragraphs_new']:,}",
            str(r["gate"]),
        ]
        for r in runs
    ]
    title = (
        f"  last {len(runs)} run{'s' if len(runs) != 1 else ''}, newest first "
        "(`nutgraf report --run ID` shows one):"
    )
    return [title, *_table(header, rows, right={4, 5, 6, 7})]


def _retag_lines(retags: list[dict] | None) -> list[str]:
    """The last retag runs as a table; nothing when there were none."""
    if retags is None:
        return ["  retags      none (the warehouse predates `nutgraf retag`)"]
    if not retags:
        return []
    header = ["retag run", "started (UTC)", "tagger version", "paragraphs", "tags"]
    rows = [
        [
            _printable(str(r["run_id"])),
            _when(r["started_at"]),
            str(r["tagger_version"]),
            f"{r['paragraphs'] or 0:,}",
            f"{r['tags'] or 0:,}",
        ]
        for r in retags
    ]
    return [f"  last {len(retags)} retag runs, newest first:", *_table(header, rows, right={3, 4})]


def format_status(status: dict) -> str:
    """The report `nutgraf status` prints."""
    writer = status["writer_pid"]
    lines = [
        _warehouse_line(status["warehouse"]),
        "  writing     "
        + (
            f"pid {writer} holds the writer lock (a run, retag, release or vacuum)"
            if writer
            else "nothing is writing now"
        ),
        _landing_line(status["landing"]),
        _quarantine_line(status["quarantined"]),
        _serve_line(status["serve"]),
        *_runs_lines(status["runs"]),
        *_retag_lines(status["retag_runs"]),
    ]
    return "\n".join(lines)
