"""The `nutgraf` command line: run, query, report, quarantine, retag, search, status, vacuum,
serve, deploy.

Exit codes (README.md, "Exit codes", has the table of which command returns which): 0 done
(published with nothing quarantined, nothing new, re-tagged, ...); 1 error; 2 bad usage, a
refused query, an unknown quarantine id or tagger; 3 the quality gate failed (or new tags of a
retag broke its tag rules); 4 published, but some files were quarantined; 75 the warehouse is
busy (another process holds it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import stat
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import ValidationError

from flows.settings import Settings, load_settings
from transforms.errors import NutgrafError

if TYPE_CHECKING:
    from flows.faults import Faults
    from flows.runs import RunSummary

EXIT_GATE_FAILED = 3
EXIT_USAGE = 2
EXIT_QUARANTINED = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nutgraf",
        description="News articles -> gated, paragraph-level DuckDB warehouse.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="one flow run now: discover, transform, gate, publish")
    run.add_argument("--landing", type=Path, help="folder of article files (NUTGRAF_LANDING)")
    run.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    run.add_argument("--reports", type=Path, help="report folder (NUTGRAF_REPORTS)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.add_argument("-v", "--verbose", action="store_true", help="show Prefect's logs")
    scale = run.add_mutually_exclusive_group()
    scale.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the per-batch transforms on this Dask scheduler's workers, e.g. "
        "tcp://host:8786 (NUTGRAF_DASK_ADDRESS)",
    )
    scale.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="run the per-batch transforms on a local Dask cluster of N worker processes "
        "(NUTGRAF_DASK_WORKERS)",
    )

    query = sub.add_parser("query", help="read-only SQL against the warehouse")
    query.add_argument("sql", help="the SQL statement")
    query.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")

    report = sub.add_parser("report", help="data-quality results of the latest or a given run")
    report.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    report.add_argument("--run", dest="run_id", help="run id (default: the latest run)")
    _add_quarantine_parser(sub)
    _add_search_parser(sub)
    _add_status_parser(sub)
    _add_vacuum_parser(sub)
    _add_serve_parser(sub)
    _add_deploy_parser(sub)

    retag = sub.add_parser(
        "retag",
        help="re-tag every stored paragraph with taggers whose version changed (or named ones)",
    )
    which = retag.add_mutually_exclusive_group()
    which.add_argument(
        "--tagger",
        action="append",
        metavar="NAME",
        help="re-tag with this tagger even if its tags are current (repeatable)",
    )
    which.add_argument("--all", action="store_true", help="re-tag with every tagger")
    retag.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    retag.add_argument("-v", "--verbose", action="store_true", help="show Prefect's logs")
    return parser


def _add_quarantine_parser(sub: argparse._SubParsersAction) -> None:
    quarantine = sub.add_parser(
        "quarantine", help="files set aside: list them, show one, release them for the next run"
    )
    actions = quarantine.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", help="quarantined files, newest first")
    listing.add_argument("--all", action="store_true", help="include released files")
    listing.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")

    show = actions.add_parser("show", help="why a file was set aside, and its first characters")
    show.add_argument("id", help="quarantine id (from `nutgraf quarantine list`)")
    show.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    show.add_argument("--landing", type=Path, help="folder of article files (NUTGRAF_LANDING)")

    release = actions.add_parser(
        "release", help="put files back in line: the next run reads them again"
    )
    which = release.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", help="quarantine id (from `nutgraf quarantine list`)")
    which.add_argument("--all", action="store_true", help="every file not yet released")
    release.add_argument("--reason", metavar="CODE", help="with --all: only this reason code")
    release.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")


def _print_summary(summary: RunSummary, settings: Settings) -> None:
    from flows.runs import STATUS_NOTHING_NEW

    t = summary.totals
    lines = [
        f"run {summary.run_id}: {summary.status}",
        f"  files       seen {t.files_seen}, new {t.files_new}, "
        f"duplicate {t.files_duplicate}, quarantined {t.files_quarantined}"
        + (f", still being written {t.files_settling}" if t.files_settling else "")
        + (f", in {summary.batches} batches" if summary.batches > 1 else ""),
        f"  articles    {t.articles}",
        f"  paragraphs  {t.paragraphs_new} new",
        f"  occurrences {t.occurrences} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in t.occurrences_by_kind.items())
        + ")",
        f"  tags        {t.tags} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in t.tags_by_type.items())
        + ")",
    ]
    for item in t.quarantined:
        path = item["path"] if item["path"].isprintable() else repr(item["path"])
        line = "" if item.get("record") is None else f" line {item['record']}"
        lines.append(f"  quarantined {path}{line}: {item['reason']} - {item['detail']}")
    if summary.gate == "failed":
        lines.append("  gate        FAILED: " + ", ".join(summary.failed_checks))
        done = summary.batches
        lines.append(
            "  nothing was published"
            if not done
            else f"  {done} batch{'es' if done != 1 else ''} published before the gate stopped "
            "the run; the failed batch and the files after it were not"
        )
    else:
        lines.append(f"  gate        {summary.gate}")
    if summary.report_path:
        lines.append(f"  report      {summary.report_path}")
    lines.append("  took        " + _took_line(summary))
    if summary.status == STATUS_NOTHING_NEW:
        lines.append(f"  nothing new in {settings.landing}; the warehouse is unchanged")
    lines.append(f"  warehouse   {settings.warehouse}")
    print("\n".join(lines))


def _took_line(summary: RunSummary) -> str:
    """The run's wall time (the flow's start to its end) and, apart, Prefect's start-up."""
    text = "unknown" if summary.seconds is None else f"{summary.seconds:.1f} s"
    start_up = summary.prefect_start_seconds
    if start_up:
        text += f" (plus {start_up:.1f} s of Prefect start-up before the flow began)"
    return text


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(
        landing=args.landing,
        warehouse=args.warehouse,
        reports=args.reports,
        dask_address=args.dask,
        dask_workers=args.workers,
    )
    if not settings.landing.is_dir():
        raise NutgrafError(
            f"landing folder {settings.landing} does not exist; create it or pass --landing"
        )
    from flows.runtime import limit_malloc_arenas

    limit_malloc_arenas()
    started, cpu_started = time.perf_counter(), time.process_time()
    from flows.discovery import nothing_new
    from flows.faults import Faults
    from flows.runs import STATUS_GATE_FAILED, WORKER_PREFIX

    # Before Prefect, GX and the models load: most scheduled runs find nothing new.
    faults = Faults(tuple(settings.fault_points))
    summary = nothing_new(settings, faults)
    # What the run's own stages do not account for: with a flow, the Prefect server's start-up
    # (most of it), task orchestration and the flow run's bookkeeping ("prefect"); without
    # one, importing nutgraf's libraries ("start_up"). Seconds spent on Dask workers overlap
    # this process's and are not part of its wall time.
    rest = "start_up"
    if summary is None:
        rest = "prefect"
        summary = _run_flow(settings, args, faults)
    own = sum(v for k, v in summary.timings.items() if not k.startswith(WORKER_PREFIX))
    summary.timings[rest] = round(time.perf_counter() - started - own, 3)
    cpu = summary.cpu_seconds
    # A second thread's stages (prepare_ahead) were measured as the process's CPU meanwhile,
    # which this thread's stages count too.
    own_cpu = sum(v for k, v in cpu.items() if not k.startswith(WORKER_PREFIX))
    cpu[rest] = round(time.process_time() - cpu_started - own_cpu, 3)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
    else:
        _print_summary(summary, settings)
    sys.stdout.flush()
    if summary.status == STATUS_GATE_FAILED:
        return EXIT_GATE_FAILED
    return EXIT_QUARANTINED if summary.totals.files_quarantined else 0


def _run_flow(settings: Settings, args: argparse.Namespace, faults: Faults) -> RunSummary:
    """Run the ingest flow (on Prefect's ephemeral server unless PREFECT_API_URL names one)."""
    from flows.runtime import configure_prefect, settle_task_runs

    configure_prefect(settings, verbose=args.verbose)
    import threading

    from prefect.settings import PREFECT_API_URL

    from flows.scaleout import import_dask, run_on_dask, start_in_background, uses_dask

    server_up = None
    if not PREFECT_API_URL.value():
        # Prefect's ephemeral server imports its app when the flow starts; importing it here
        # first, before GX's import competes for the interpreter, is faster (both import
        # hundreds of modules under one import lock). With a real server, no need.
        from prefect.server.api.server import SubprocessASGIServer

        if not uses_dask(settings):  # a Dask run names the server for its workers itself
            # The server's process starts while this one imports the flow, GX and Polars.
            server_up = start_in_background(SubprocessASGIServer().start)

    from expectations.gate import warm_up
    from flows.batch import prepare_options
    from flows.ingest import ingest
    from transforms.prepare import warm_up as warm_up_models

    asked_at = datetime.now(UTC)  # the flow's own start (`started_at`) comes after Prefect's
    if uses_dask(settings):  # likewise Dask's imports, which a serial run never pays
        import_dask(verbose=args.verbose)
    # Importing GX costs seconds of CPU, loading the gazetteer and the language model too;
    # overlap them with the Prefect server's start-up.
    threading.Thread(target=warm_up, name="gx-warm-up", daemon=True).start()
    models = threading.Thread(
        target=warm_up_models, args=(prepare_options(settings),), name="model-warm-up"
    )
    models.start()
    if server_up is not None:
        server_up.result()  # the flow's first API call would find it starting, not up
    models.join()  # the flow would otherwise load them a second time meanwhile
    from flows.progress import reporting, running_in_ci, terminal_bar

    bar = terminal_bar(sys.stderr, quiet=args.json or args.verbose, ci=running_in_ci(os.environ))
    with reporting(bar):
        if uses_dask(settings):
            summary = run_on_dask(ingest, settings, faults)
        else:
            summary = ingest(settings, faults)
    # Shown apart from the run's duration (`seconds`, the flow's start to its end): the part
    # spent before the flow's first line, mostly the server's start-up. (A flow that fails
    # raises its error here rather than returning a summary.)
    flow_started = datetime.fromisoformat(summary.started_at)
    summary.prefect_start_seconds = round(max(0.0, (flow_started - asked_at).total_seconds()), 3)
    settle_task_runs()
    return summary


def _format_frame(frame: pl.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(frame.to_dicts(), default=str, ensure_ascii=False)
    if fmt == "csv":
        from io import StringIO

        out = StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(frame.iter_rows())
        return out.getvalue().rstrip("\n")
    import shutil

    width = shutil.get_terminal_size(fallback=(200, 24)).columns
    with pl.Config(tbl_rows=200, tbl_cols=50, fmt_str_lengths=120, tbl_width_chars=max(width, 80)):
        return str(frame)


def cmd_query(args: argparse.Namespace) -> int:
    from warehouse.queries import run_readonly_query

    settings = load_settings(warehouse=args.warehouse)
    frame = run_readonly_query(settings.warehouse, args.sql)
    print(_format_frame(frame, args.format))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from warehouse.queries import read_run

    settings = load_settings(warehouse=args.warehouse)
    run, results, quarantined = read_run(settings.warehouse, args.run_id)
    if run is None:
        which = f"run {args.run_id}" if args.run_id else "any run"
        raise NutgrafError(f"no record of {which} in {settings.warehouse}")
    from flows.status import format_duration

    took = _run_seconds(run)
    print(
        f"run {run['run_id']}: {run['status']} (started {run['started_at']}"
        + (f", took {format_duration(took)}" if took is not None else "")
        + ")"
    )
    print(
        f"  files seen {run['files_seen']}, new {run['files_new']}, duplicate "
        f"{run['files_duplicate']}, quarantined {run['files_quarantined']}; articles "
        f"{run['articles']}, new paragraphs {run['paragraphs_new']}"
    )
    if results.is_empty():
        print("  no checks ran (nothing new to gate)")
    else:
        failed = results.filter(~pl.col("success"))
        print(f"  checks: {results.height} evaluated, {failed.height} failed")
        for row in failed.iter_rows(named=True):
            print(
                f"  FAILED [{row['severity']}] {row['suite']}.{row['expectation']}: "
                f"{row['unexpected_count']} unexpected; observed {row['observed']}; "
                f"examples {row['examples']}"
            )
    for row in quarantined.iter_rows(named=True):
        print(f"  quarantined {row['path']}: {row['reason_code']} - {row['detail']}")
    print(f"  report: {run['report_path'] or 'none (no checks ran)'}")
    if args.run_id is None and run["status"] != "published":
        print("  " + _last_published_line(settings.warehouse))
    return 0


def _run_seconds(run: dict) -> float | None:
    """A run row's wall time, the flow's start to its end; None when either is missing."""
    started, finished = run.get("started_at"), run.get("finished_at")
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


def _last_published_line(warehouse: Path) -> str:
    """Where the newest run that published is, for when the newest run published nothing."""
    from warehouse.status import last_published_run

    last = last_published_run(warehouse)
    if last is None:
        return "last run that published: none yet"
    return (
        f"last run that published: {last['run_id']} (started {last['started_at']}); "
        f"report: {last['report_path'] or 'none'}"
    )


EXCERPT_CHARS = 300
RELEASE_LINES = 20


def _escape(text: str) -> str:
    """Text that cannot act on a terminal: backslashes and every non-printable character
    (control codes such as ESC, newlines, bidi overrides) as repr-style escapes."""
    return "".join(c if c.isprintable() and c != "\\" else repr(c)[1:-1] for c in text)


def _read_excerpt(landing: Path, path: str, *, follow_symlinks: bool) -> str:
    """The first EXCERPT_CHARS characters of a landing file as it is now, escaped, or why not.

    Opened non-blocking and read only when it is a regular file inside the landing folder, so
    a FIFO named like an article or a symlink to elsewhere is never read.
    """
    file = landing / path
    if not follow_symlinks and not file.resolve().is_relative_to(landing.resolve()):
        return "(not read: it points outside the landing folder)"
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return "(the file is no longer in the landing folder)"
    except OSError as exc:
        return f"(unreadable now: {exc.strerror})"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "(not read: not a regular file)"
        try:
            data = handle.read(EXCERPT_CHARS * 4 + 1)  # a character is at most 4 UTF-8 bytes
        except OSError as exc:
            return f"(unreadable now: {exc.strerror})"
    text = data.decode("utf-8", errors="replace")
    more = " ..." if len(text) > EXCERPT_CHARS else ""
    return _escape(text[:EXCERPT_CHARS]) + more


def _quarantine_list(args: argparse.Namespace) -> int:
    from warehouse.quarantine import list_quarantine

    settings = load_settings(warehouse=args.warehouse)
    frame = list_quarantine(settings.warehouse, include_released=args.all)
    if frame.is_empty() and args.format == "table":
        waiting = "" if args.all else " waiting for release (--all shows released ones)"
        print(f"no quarantined files{waiting} in {settings.warehouse}")
        return 0
    # Paths come from the landing folder and may hold control codes; a list is short.
    frame = frame.with_columns(pl.col("path").map_elements(_escape, return_dtype=pl.String))
    print(_format_frame(frame, args.format))
    return 0


def _quarantine_show(args: argparse.Namespace) -> int:
    from warehouse.quarantine import UnknownQuarantineId, find_quarantine

    settings = load_settings(warehouse=args.warehouse, landing=args.landing)
    entry = find_quarantine(settings.warehouse, args.id)
    if entry is None:
        raise UnknownQuarantineId(
            f"no quarantined file has id {args.id!r}; `nutgraf quarantine list --all` shows "
            "every id"
        )
    if entry.released_at is None:
        released = (
            f"no (`nutgraf quarantine release {entry.quarantine_id}` lets the next run read it)"
        )
    else:
        released = f"{entry.released_at} (the next run reads the file again)"
    excerpt = _read_excerpt(settings.landing, entry.path, follow_symlinks=settings.follow_symlinks)
    print(
        "\n".join(
            [
                f"quarantine {entry.quarantine_id}",
                f"  reason    {entry.reason_code}",
                f"  rule      {entry.rule or 'not recorded'}",
                f"  detail    {_escape(entry.detail or '')}",
                f"  run       {entry.run_id}",
                f"  path      {_escape(entry.path)}"
                + ("" if entry.record is None else f", line {entry.record}"),
                f"  sha256    {entry.sha256 or 'none (the file was not read)'}",
                f"  released  {released}",
                f"  excerpt   {excerpt}",
                f"            (read now from {_escape(str(settings.landing))}; up to "
                f"{EXCERPT_CHARS} characters, non-printable ones escaped)",
            ]
        )
    )
    return 0


def _quarantine_release(args: argparse.Namespace) -> int:
    from warehouse.quarantine import release_quarantine

    if args.reason is not None and not args.all:
        print(
            "nutgraf quarantine: --reason chooses among all files; use it with --all",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = load_settings(warehouse=args.warehouse)
    result = release_quarantine(
        settings.warehouse,
        quarantine_id=args.id,
        reason_code=args.reason,
        lock_timeout=settings.lock_timeout_seconds,
    )
    for row in result.already_released.iter_rows(named=True):
        print(
            f"quarantine {row['quarantine_id']} ({_escape(row['path'])}) was already released "
            f"at {row['released_at']}; nothing to do"
        )
    released = result.released
    if released.is_empty():
        if result.already_released.is_empty():
            which = f" with reason {args.reason}" if args.reason else ""
            print(f"nothing to release: no quarantined file{which} is waiting")
        return 0
    for row in released.head(RELEASE_LINES).iter_rows(named=True):
        print(f"  {row['quarantine_id']}  {row['reason_code']:<20} {_escape(row['path'])}")
    if released.height > RELEASE_LINES:
        print(f"  ... and {released.height - RELEASE_LINES} more")
    files = "file" if released.height == 1 else "files"
    print(
        f"released {released.height} quarantined {files}; the next `nutgraf run` will read "
        f"{'it' if released.height == 1 else 'them'} again"
    )
    return 0


def cmd_retag(args: argparse.Namespace) -> int:
    from transforms.retag import check_taggers
    from transforms.tagging import tagger_versions

    settings = load_settings(warehouse=args.warehouse)
    requested = None
    if args.all:
        requested = tuple(tagger_versions())
    elif args.tagger:
        # Refused here, before Prefect's server takes seconds to start.
        requested = check_taggers(args.tagger, versions=tagger_versions())
    if not settings.warehouse.exists():
        from warehouse.errors import WarehouseMissing

        raise WarehouseMissing(
            f"no warehouse at {settings.warehouse}; run `nutgraf run` first or pass --warehouse"
        )
    from flows.runtime import configure_prefect, settle_task_runs

    configure_prefect(settings, verbose=args.verbose)
    from flows.retag import STATUS_NOTHING, retag

    summary = retag(settings, requested)
    if summary["status"] == STATUS_NOTHING:
        current = summary["current_versions"]
        versions = ", ".join(f"{t} {'/'.join(current.get(t, [])) or 'none'}" for t in current)
        print(
            f"nothing to retag: every tagger's tags are of its current version ({versions}); "
            "--tagger NAME or --all re-tags anyway"
        )
    else:
        print(f"re-tagged {summary['paragraphs']} paragraphs in {summary['seconds']} s")
        for row in summary["taggers"]:
            old = ", ".join(row["old_versions"]) or "none"
            print(
                f"  {row['tagger']:<9} {old} -> {row['new_version']}: {row['paragraphs']} "
                f"paragraphs, {row['tags']} tags added, {row['seconds']} s (run {row['run_id']})"
            )
        print(f"  warehouse {settings.warehouse}")
    sys.stdout.flush()
    settle_task_runs()
    return 0


def _add_status_parser(sub: argparse._SubParsersAction) -> None:
    status = sub.add_parser(
        "status",
        help="last runs, files pending, quarantined files, warehouse size, the schedule served",
    )
    status.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    status.add_argument("--landing", type=Path, help="folder of article files (NUTGRAF_LANDING)")
    status.add_argument("--runs", type=int, default=5, metavar="N", help="last N runs (5)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")


def cmd_status(args: argparse.Namespace) -> int:
    from flows.runtime import resolve_prefect_home
    from flows.status import collect_status, format_status

    if args.runs < 1:
        print("nutgraf status: --runs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings(warehouse=args.warehouse, landing=args.landing)
    status = collect_status(
        settings, n_runs=args.runs, now=time.time(), prefect_home=resolve_prefect_home(settings)
    )
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        print(format_status(status))
    return 0


def _add_vacuum_parser(sub: argparse._SubParsersAction) -> None:
    vacuum = sub.add_parser(
        "vacuum", help="checkpoint the warehouse; --prune-reports deletes old run reports"
    )
    vacuum.add_argument(
        "--prune-reports",
        action="store_true",
        help="delete run reports older than report_retention_days (not the latest runs')",
    )
    vacuum.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    vacuum.add_argument("--reports", type=Path, help="report folder (NUTGRAF_REPORTS)")


def cmd_vacuum(args: argparse.Namespace) -> int:
    from flows.vacuum import format_vacuum, vacuum

    settings = load_settings(warehouse=args.warehouse, reports=args.reports)
    done, pruned = vacuum(settings, prune=args.prune_reports, now=time.time())
    print(format_vacuum(settings, done, pruned))
    return 0


def _add_search_parser(sub: argparse._SubParsersAction) -> None:
    search = sub.add_parser(
        "search", help="full-text search of paragraphs (BM25), with their article and tags"
    )
    search.add_argument("query", help='words to look for, e.g. "energy cooperation"')
    search.add_argument("--limit", type=int, default=10, metavar="N", help="best N paragraphs (10)")
    search.add_argument(
        "--all-words", action="store_true", help="only paragraphs holding every word"
    )
    search.add_argument("--json", action="store_true", help="print the results as JSON")
    search.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")


def _print_hits(hits: pl.DataFrame) -> None:
    """Four lines per paragraph: rank, score and path; its article and other occurrences; the
    excerpt; the tags. What comes from the data is escaped for the terminal."""
    for row in hits.iter_rows(named=True):  # at most --limit rows, for display
        published = "" if row["published_at"] is None else f"{row['published_at']:%Y-%m-%d}"
        article = [_escape(str(v)) for v in (row["title"], row["source"], published) if v]
        n, m = row["other_occurrences"], row["other_articles"]
        times = f"{n} other occurrence{'s' if n != 1 else ''}"
        if n == 0:
            elsewhere = "no other occurrence"
        elif m == 0:
            elsewhere = f"{times}, repeated in the same article"
        else:
            elsewhere = f"{times}, in {m} other article{'s' if m != 1 else ''}"
        tags = " · ".join(
            f"{kind} " + ", ".join(_escape(v) for v in row[column])
            for kind, column in (
                ("person", "people"),
                ("place", "places"),
                ("organisation", "organisations"),
                ("topic", "topics"),
            )
            if row[column]
        )
        print(f"{row['rank']:>3}. {row['score']:.3f}  {_escape(row['path'] or '')}")
        print("     " + " · ".join([*article, elsewhere]))
        print(f"     {_escape(row['excerpt'])}")
        print(f"     {tags or 'no person, place, organisation or topic tags'}")


def cmd_search(args: argparse.Namespace) -> int:
    from warehouse.errors import WarehouseMissing
    from warehouse.search import ready_index, search_paragraphs

    if args.limit < 1:
        print("nutgraf search: --limit must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    if not args.query.strip():
        print("nutgraf search: give some words to look for", file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings(warehouse=args.warehouse)
    if not settings.warehouse.exists():
        raise WarehouseMissing(
            f"no warehouse at {settings.warehouse}; run `nutgraf run` first or pass --warehouse"
        )
    ready = ready_index(
        settings.warehouse,
        extension=settings.fts_extension,
        before_build=lambda message: print(f"nutgraf search: {message}", file=sys.stderr),
    )
    if ready.build is not None:
        print(f"nutgraf search: indexed in {ready.build.seconds:.1f} s", file=sys.stderr)
    status, note = ready.status, None
    if ready.busy is not None:
        note = (
            "the warehouse is busy (a run is writing it), so the index was not rebuilt and "
            f"this searched it as it was ({status.describe()}): it may miss the newest "
            "paragraphs; the run rebuilds the index when it ends"
        )
    hits = search_paragraphs(
        settings.warehouse,
        args.query,
        limit=args.limit,
        all_words=args.all_words,
        extension=settings.fts_extension,
    )
    if args.json:
        index = {
            "built_at": status.built_at,
            "paragraphs_indexed": status.indexed,
            "paragraphs": status.paragraphs,
            "fresh": status.fresh,
        }
        body = {"query": args.query, "index": index, "note": note, "results": hits.to_dicts()}
        print(json.dumps(body, indent=2, default=str, ensure_ascii=False))
        return 0
    if note:
        print(f"note: {note}", file=sys.stderr)
    query = _escape(args.query)
    if hits.is_empty():
        words = "with every word of" if args.all_words else "for"
        empty = " (the warehouse holds no paragraphs yet)" if status.paragraphs == 0 else ""
        print(f'no paragraph matches {words} "{query}"{empty}; {status.describe()}')
        return 0
    shown = f"the best {hits.height}" if hits.height == args.limit else f"{hits.height}"
    print(f'{shown} paragraph{"s" if hits.height != 1 else ""} for "{query}" ({status.describe()})')
    _print_hits(hits)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    handlers = {
        "list": _quarantine_list,
        "show": _quarantine_show,
        "release": _quarantine_release,
    }
    return handlers[args.action](args)


def _add_serve_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help="run the ingest flow on a schedule until stopped (Ctrl-C stops it)"
    )
    when = serve.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='cron schedule, e.g. "*/15 * * * *"')
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS seconds")
    serve.add_argument("--timezone", metavar="TZ", help="time zone of --cron (default: UTC)")
    serve.add_argument("--landing", type=Path, help="folder of article files (NUTGRAF_LANDING)")
    serve.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    serve.add_argument("--reports", type=Path, help="report folder (NUTGRAF_REPORTS)")
    serve.add_argument("-v", "--verbose", action="store_true", help="show Prefect's logs")


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings(landing=args.landing, warehouse=args.warehouse, reports=args.reports)
    if not settings.landing.is_dir():
        raise NutgrafError(
            f"landing folder {settings.landing} does not exist; create it or pass --landing"
        )
    # Each tick loads its settings afresh in a new process: flags reach it as NUTGRAF_*
    # variables, absolute so they do not depend on where Prefect starts that process.
    for name in ("landing", "warehouse", "reports"):
        if getattr(args, name) is not None:
            os.environ[f"NUTGRAF_{name.upper()}"] = str(getattr(args, name).resolve())
    from flows.runtime import configure_prefect, resolve_prefect_home

    configure_prefect(settings, verbose=args.verbose)
    if args.interval is not None:
        # The runner looks for due ticks every 10 s by default: sooner for shorter intervals.
        poll = max(1, min(10, int(args.interval)))
        os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", str(poll))
    from flows.schedule import describe_schedule, make_schedule
    from flows.serve import serve

    schedule = make_schedule(args.cron, args.interval, args.timezone)
    description = describe_schedule(args.cron, args.interval, args.timezone)
    serve(
        schedule,
        description,
        prefect_home=resolve_prefect_home(settings),
        server_env=dict(os.environ),
        out=lambda line: print(line, flush=True),
    )
    return 0


def _add_deploy_parser(sub: argparse._SubParsersAction) -> None:
    from flows.deploy import DEFAULT_CRON, DEFAULT_DEPLOYMENT, DEFAULT_POOL

    deploy = sub.add_parser(
        "deploy",
        help="register the ingest flow with a cron schedule on a Prefect server's work pool",
    )
    deploy.add_argument(
        "--cron", metavar="EXPR", default=DEFAULT_CRON, help=f'default "{DEFAULT_CRON}"'
    )
    deploy.add_argument("--timezone", metavar="TZ", help="time zone of --cron (default: UTC)")
    deploy.add_argument(
        "--pool", metavar="NAME", default=DEFAULT_POOL, help="process work pool (made if missing)"
    )
    deploy.add_argument(
        "--name", metavar="NAME", default=DEFAULT_DEPLOYMENT, help="deployment name"
    )


def cmd_deploy(args: argparse.Namespace) -> int:
    settings = load_settings()
    from flows.runtime import configure_prefect

    configure_prefect(settings)
    from flows.deploy import deploy_scheduled_flow
    from flows.schedule import describe_schedule, make_schedule

    schedule = make_schedule(args.cron, None, args.timezone)
    done = deploy_scheduled_flow(
        schedule, name=args.name, pool=args.pool, working_dir=Path.cwd().resolve()
    )
    lines = [
        f"deployed {done.name} on work pool {done.pool!r} ({done.api_url}), "
        f"{describe_schedule(args.cron, None, args.timezone)}",
        f"  runs start in {done.working_dir} (its nutgraf.toml and the worker's NUTGRAF_* "
        "variables are the settings)",
        f"  start a worker:  prefect worker start --pool {done.pool}",
        f"  run it now:      prefect deployment run {done.name}",
    ]
    if done.ui_url:
        page = f"{done.ui_url}/deployments/deployment/{done.deployment_id}"
        lines.append(f"  UI:              {page}")
    print("\n".join(lines))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `nutgraf` console script."""
    args = _parser().parse_args(argv)
    handlers = {
        "run": cmd_run,
        "query": cmd_query,
        "report": cmd_report,
        "quarantine": cmd_quarantine,
        "retag": cmd_retag,
        "search": cmd_search,
        "status": cmd_status,
        "vacuum": cmd_vacuum,
        "serve": cmd_serve,
        "deploy": cmd_deploy,
    }
    try:
        return handlers[args.command](args)
    except NutgrafError as exc:
        print(f"nutgraf {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except ValidationError as exc:
        print(
            f"nutgraf {args.command}: invalid settings (flags, NUTGRAF_* variables or "
            f"nutgraf.toml):\n{exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"nutgraf {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unforeseen failure: one line here, details in the logs
        print(f"nutgraf {args.command}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
