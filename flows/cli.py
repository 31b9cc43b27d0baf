"""The `nutgraf` command line: run, query, report.

Exit codes: 0 published (nothing quarantined) or nothing new; 1 error; 2 bad usage or a
refused query; 3 the quality gate failed; 4 published, but some files were quarantined;
75 the warehouse is busy (another run holds it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl
from pydantic import ValidationError

from flows.settings import Settings, load_settings
from transforms.errors import NutgrafError

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

    query = sub.add_parser("query", help="read-only SQL against the warehouse")
    query.add_argument("sql", help="the SQL statement")
    query.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")

    report = sub.add_parser("report", help="data-quality results of the latest or a given run")
    report.add_argument("--warehouse", type=Path, help="DuckDB file (NUTGRAF_WAREHOUSE)")
    report.add_argument("--run", dest="run_id", help="run id (default: the latest run)")
    return parser


def _print_summary(summary: dict[str, object], settings: Settings) -> None:
    kinds = summary.get("occurrences_by_kind") or {}
    tags = summary.get("tags_by_type") or {}
    lines = [
        f"run {summary['run_id']}: {summary['status']}",
        f"  files       seen {summary['files_seen']}, new {summary['files_new']}, "
        f"duplicate {summary['files_duplicate']}, quarantined {summary['files_quarantined']}"
        + (
            f", still being written {summary['files_settling']}"
            if summary["files_settling"]
            else ""
        )
        + (f", in {summary['batches']} batches" if summary["batches"] > 1 else ""),
        f"  articles    {summary['articles']}",
        f"  paragraphs  {summary['paragraphs_new']} new",
        f"  occurrences {summary['occurrences']} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in kinds.items())
        + ")",
        f"  tags        {summary['tags']} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in tags.items())
        + ")",
    ]
    for item in summary.get("quarantined") or []:
        path = item["path"] if item["path"].isprintable() else repr(item["path"])
        lines.append(f"  quarantined {path}: {item['reason']} - {item['detail']}")
    gate = summary.get("gate")
    if gate == "failed":
        lines.append("  gate        FAILED: " + ", ".join(summary.get("failed_checks") or []))
        lines.append("  nothing was published")
    else:
        lines.append(f"  gate        {gate}")
    if summary.get("report_path"):
        lines.append(f"  report      {summary['report_path']}")
    if summary["status"] == "nothing_new":
        lines.append(f"  nothing new in {settings.landing}; the warehouse is unchanged")
    lines.append(f"  warehouse   {settings.warehouse}")
    print("\n".join(lines))


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings(landing=args.landing, warehouse=args.warehouse, reports=args.reports)
    if not settings.landing.is_dir():
        raise NutgrafError(
            f"landing folder {settings.landing} does not exist; create it or pass --landing"
        )
    from flows.runtime import configure_prefect

    configure_prefect(settings, verbose=args.verbose)
    # transforms.langid keeps its unpacked model here (read when the model is first loaded).
    os.environ["NUTGRAF_CACHE_DIR"] = str(settings.cache_dir.resolve())
    import threading

    from expectations.gate import warm_up
    from flows.ingest import STATUS_GATE_FAILED, ingest

    started = time.perf_counter()
    # Prefect's ephemeral server imports its app when the flow starts; importing it here
    # first, before GX's import competes for the interpreter, is seconds faster (both import
    # hundreds of modules under one import lock).
    import prefect.server.api.server  # noqa: F401

    # Importing GX costs seconds of CPU; overlap it with the Prefect server's start-up.
    threading.Thread(target=warm_up, name="gx-warm-up", daemon=True).start()
    summary = ingest(settings)
    if isinstance(summary, dict):
        # What the flow's own stages do not account for: the Prefect server's start-up (most
        # of it), task orchestration and the flow run's bookkeeping.
        timings = summary["timings"]
        timings["prefect"] = round(time.perf_counter() - started - sum(timings.values()), 3)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        _print_summary(summary, settings)
    if summary["status"] == STATUS_GATE_FAILED:
        return EXIT_GATE_FAILED
    return EXIT_QUARANTINED if summary["files_quarantined"] else 0


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
    print(f"run {run['run_id']}: {run['status']} (started {run['started_at']})")
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
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `nutgraf` console script."""
    args = _parser().parse_args(argv)
    handlers = {"run": cmd_run, "query": cmd_query, "report": cmd_report}
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
