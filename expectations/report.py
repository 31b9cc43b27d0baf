"""The human data-quality report: a page per run, its JSON twin, and an index of all runs.

Not GX Data Docs: those write unexpected values unescaped (article text would run as markup)
and load CSS/JS from CDNs. These pages are self-contained: inline CSS, charts drawn as inline
SVG, a Content-Security-Policy that allows no script and no network fetch. The markup lives in
Jinja2 templates (``templates/``) rendered with autoescaping on, so every value from the data is
escaped where it is printed; this module only prepares plain data for them.

The index is rebuilt from the per-run JSON files alone, so it also covers runs written by older
versions of this module: every summary key beyond the counts is optional.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from expectations.gate import GateResult

INDEX_NAME = "index.html"
HISTORY_RUNS = 30  # runs drawn in the history charts
MAX_ROWS = 200  # quarantined files listed on a page; the JSON twin keeps every one
SAMPLE_CHARS = 300  # of a duplicate group's text: enough to recognise it

_QUARANTINE_COLS = ("path", "reason", "detail")
_Y_SCALES = ((0.05, 0.01), (0.1, 0.02), (0.2, 0.05), (0.3, 0.05), (0.5, 0.1), (1.0, 0.2))
_SEVERITY_ORDER = {"fail": 0, "quarantine": 1, "warn": 2}
_FILE_COUNTS = (
    ("files_new", "new"),
    ("files_duplicate", "duplicate"),
    ("files_quarantined", "quarantined"),
    ("files_settling", "settling"),
    ("files_touched", "touched"),
)
_HEADLINE_COUNTS = (
    ("files_seen", "files seen"),
    ("files_new", "new files"),
    ("files_duplicate", "duplicate files"),
    ("files_quarantined", "quarantined files"),
    ("articles", "articles"),
    ("paragraphs_new", "new paragraphs"),
    ("occurrences", "occurrences"),
    ("tags", "tags"),
)
# One line per count the page shows, as a legend under the cards and as each number's tooltip.
COUNT_NOTES = {
    "files_seen": "files in the landing folder that match the patterns, loaded before or not",
    "files_new": "files read and loaded by this run (new bytes: a new file or a new version)",
    "files_duplicate": "files whose bytes were already loaded under some path: nothing loaded",
    "files_quarantined": "files (or .jsonl lines) set aside with a reason code; listed below",
    "files_settling": "files younger than settle_seconds, still being written: left for later",
    "files_touched": "files whose mtime changed but whose bytes did not: only the ledger noted",
    "records_unchanged": "records whose text equals a version already loaded: not loaded again",
    "articles": "article versions loaded by this run",
    "paragraphs_new": "distinct paragraphs stored for the first time",
    "occurrences": "paragraph positions in this run's articles (first, repeat or corpus)",
    "tags": "tags put on this run's new paragraphs and titles",
    "near_dup_compared": "new paragraphs long enough to be compared for near-duplicates",
    "near_dup_candidates": "pairs sharing a similarity band, to be verified",
    "near_dup_verified": "candidate pairs similar enough to count as near-duplicates",
    "near_dup_linked": "paragraphs linked to a near-duplicate group",
    "near_dup_repointed": "stored paragraphs moved to another near-duplicate group",
    "seconds": "wall time from the flow's start to its end (Prefect's start-up is apart)",
    "prefect_start_seconds": "wall time `nutgraf run` waited for Prefect before the flow began",
}
# Summary keys shown in their own section; any other key lands in "Other fields".
_SHOWN_KEYS = {
    *(k for k, _ in _HEADLINE_COUNTS),
    *(k for k, _ in _FILE_COUNTS),
    "run_id",
    "status",
    "started_at",
    "finished_at",
    "seconds",
    "batches",
    "gate",
    "failed_checks",
    "report_path",
    "quarantined",
    "duplicate_groups",
    "batch_shape",
    "occurrences_by_kind",
    "tags_by_type",
    "timings",
    "cpu_seconds",
}
_BLUE, _ORANGE, _GREEN, _GREY = "#0969da", "#bc4c00", "#1a7f37", "#57606a"

# Autoescaping on for every template: article text, paths, titles and tag values come from
# untrusted files, and one value printed unescaped would be stored markup. StrictUndefined makes a
# name the template expects but was not given an error instead of an empty string.
_TEMPLATES = Environment(
    loader=PackageLoader("expectations", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- writing ------------------------------------------------------------------------------------


def write_report(
    result: GateResult, *, run_id: str, report_dir: Path, summary: Mapping[str, object]
) -> Path:
    """Write ``report_dir/<run_id>.html`` and ``<run_id>.json``, then rebuild
    ``report_dir/index.html`` from every run's JSON; return the run page's path."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    safe_id = _file_stem(run_id)
    html_path = report_dir / f"{safe_id}.html"
    _write_atomic(report_dir / f"{safe_id}.json", _render_json(result, run_id, summary))
    runs = load_runs(report_dir)
    page = render_html(result, run_id=run_id, summary=summary, history=_history_until(runs, run_id))
    _write_atomic(html_path, page)
    _write_atomic(report_dir / INDEX_NAME, render_index(runs))
    return html_path


def load_runs(report_dir: Path) -> list[dict[str, Any]]:
    """One entry per run report (``*.json``) in the folder, newest first; files that are not
    run reports or cannot be read are left out rather than breaking the index."""
    runs = []
    for path in Path(report_dir).glob("*.json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            mtime = path.stat().st_mtime
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and "run_id" in doc:
            runs.append(_run_entry(doc, path.stem, mtime))
    runs.sort(key=lambda r: (r["started"], r["run_id"]), reverse=True)
    return runs


def rebuild_index(report_dir: Path) -> int:
    """Rewrite ``report_dir/index.html`` from the run reports still there (a JSON file whose
    page is there too), so it links no page that was deleted; return how many runs it lists."""
    report_dir = Path(report_dir)
    runs = [r for r in load_runs(report_dir) if (report_dir / f"{r['stem']}.html").is_file()]
    _write_atomic(report_dir / INDEX_NAME, render_index(runs))
    return len(runs)


def _run_entry(doc: Mapping[str, Any], stem: str, mtime: float) -> dict[str, Any]:
    """What the index needs of one run's JSON document."""
    summary = doc.get("summary") if isinstance(doc.get("summary"), Mapping) else {}
    results = doc.get("results") if isinstance(doc.get("results"), list) else []
    run_id = str(doc.get("run_id") or stem)
    started_at = summary.get("started_at")
    return {
        "run_id": run_id,
        "stem": stem,
        "href": f"./{quote(stem)}.html",
        "summary": summary,
        "success": bool(doc.get("success", True)),
        "status": str(summary.get("status") or doc.get("status") or "unknown"),
        "failed": [str(f) for f in doc.get("failed") or []],
        "n_checks": len(results),
        "n_not_met": sum(1 for r in results if isinstance(r, dict) and not r.get("success")),
        "started": _started(started_at, run_id, mtime),
        "started_text": str(started_at) if started_at else "",
        "duplicate_share": _file_share(summary, "files_duplicate", "duplicate_file_share"),
        "quarantined_share": _file_share(summary, "files_quarantined", "quarantined_file_share"),
    }


def _started(started_at: object, run_id: str, mtime: float) -> datetime:
    """When the run began: its ``started_at``, else the time its id starts with, else the
    file's modification time; always timezone-aware so runs of any vintage sort together."""
    candidates = []
    if isinstance(started_at, str):
        candidates.append(lambda: datetime.fromisoformat(started_at))
    candidates.append(lambda: datetime.strptime(run_id[:15], "%Y%m%dT%H%M%S"))
    for parse in candidates:
        try:
            moment = parse()
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(mtime, UTC)


def _file_share(summary: Mapping[str, Any], count_key: str, shape_key: str) -> float | None:
    """A count as a share of the files the run considered (new + duplicate + quarantined),
    as the gate measures it; the batch shape's value when the counts are missing."""
    counts = [summary.get(k) for k in ("files_new", "files_duplicate", "files_quarantined")]
    part = summary.get(count_key)
    if all(isinstance(c, int | float) for c in counts) and isinstance(part, int | float):
        total = sum(counts)
        return part / total if total else None
    shape = summary.get("batch_shape")
    value = shape.get(shape_key) if isinstance(shape, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def _history_until(runs: Sequence[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    """The last :data:`HISTORY_RUNS` runs up to and including ``run_id``, oldest first."""
    oldest_first = list(reversed(runs))
    ids = [r["run_id"] for r in oldest_first]
    end = ids.index(run_id) + 1 if run_id in ids else len(ids)
    return oldest_first[max(0, end - HISTORY_RUNS) : end]


# --- the run page -------------------------------------------------------------------------------
#
# The functions below only prepare plain data (strings, numbers, lists, dicts) for the templates
# in ``templates/``; all markup lives there, and Jinja escapes every value it prints.


def render_html(
    result: GateResult,
    *,
    run_id: str,
    summary: Mapping[str, object],
    history: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The run's page as one HTML string: verdict and failing checks first, then counts, every
    check, quarantined files, duplicate groups, tag and occurrence counts, recent runs."""
    rows = result.results.to_dicts()
    rows.sort(key=_check_order)
    status = "PASSED" if result.success else "GATE FAILED"
    checks = [_check_row(r) for r in rows]
    return _render(
        "run.html.j2",
        title=f"{status} — nutgraf run {run_id}",
        index_name=INDEX_NAME,
        json_href=f"./{quote(_file_stem(run_id))}.json",
        banner=_run_banner(result, rows, run_id, summary, status),
        summary=_summary_section(run_id, summary),
        not_met=[c for c in checks if not c["success"]],
        quarantine_article_ids=", ".join(str(a) for a in result.quarantine_article_ids),
        quarantined=_quarantined_section(summary.get("quarantined")),
        duplicates=_duplicates_section(summary.get("duplicate_groups")),
        counts=_counts_section(summary),
        history=_history_chart(history, highlight=run_id) if history else None,
        shape=_shape_section(summary.get("batch_shape")),
        checks=checks,
        n_unjudged=sum(1 for c in checks if c["not_judged"] is not None),
        timings=_timings_section(summary.get("timings"), summary.get("cpu_seconds")),
        other=_other_section(summary),
    )


def _render(template: str, **context: object) -> str:
    return _TEMPLATES.get_template(template).render(context)


def _check_order(row: Mapping[str, Any]) -> int:
    """Failed checks first, the gravest severity first, then those not judged; passed checks
    keep suite order."""
    if not row["success"]:
        return _SEVERITY_ORDER.get(row["severity"], 3)
    return 3 if _not_judged(row) is not None else 4


def _not_judged(row: Mapping[str, Any]) -> str | None:
    """Why a check could not judge the batch (the note the gate stored: too few files or
    batches so far for a share or a comparison), or None when it judged. Such a check counts
    as passed for the gate but says nothing about the batch."""
    if not row["success"]:
        return None
    observed = _loads(row.get("observed"))
    if not isinstance(observed, dict):
        return None
    note = observed.get("note")
    if note:
        return str(note).removeprefix("not judged: ")
    if "value" in observed and observed["value"] is None:
        return "no value was measured for this batch"
    return None


def _run_banner(
    result: GateResult,
    rows: list[dict[str, Any]],
    run_id: str,
    summary: Mapping[str, object],
    status: str,
) -> dict[str, Any]:
    """The verdict in one coloured block, with each failing check and its observed value."""
    not_met = [r for r in rows if not r["success"]]
    by_severity = {s: [r for r in not_met if r["severity"] == s] for s in _SEVERITY_ORDER}
    n_unjudged = sum(1 for r in rows if _not_judged(r) is not None)
    n_met = len(rows) - len(not_met) - n_unjudged
    facts = [f"run {run_id}"]
    if summary.get("started_at"):
        facts.append(f"started {summary['started_at']}")
    if _is_number(summary.get("seconds")):
        facts.append(f"took {_duration(summary['seconds'])}")
    if summary.get("status"):
        facts.append(f"status {summary['status']}")
    return {
        "success": result.success,
        "status": status,
        "facts": " · ".join(facts),
        "headline": (
            f"{len(rows)} checks: {n_met} met, {len(not_met)} not met, {n_unjudged} not judged"
        ),
        "severities": _severity_line(by_severity, summary),
        # Named by severity as the README names them: fail, quarantine, warn.
        "not_met": [
            {
                "severity": severity,
                "check": f"{r['suite']}.{r['expectation']}",
                "observed": _describe_observed(r["observed"]),
            }
            for severity in _SEVERITY_ORDER
            for r in by_severity[severity]
        ],
    }


def _severity_line(
    by_severity: Mapping[str, list[dict[str, Any]]], summary: Mapping[str, object]
) -> str:
    """Checks not met per severity; for quarantine, what was set aside, which is what the
    quarantined list shows: files set aside on reading need no failed check."""

    def checks(n: int) -> str:
        return f"{n} check{'s' if n != 1 else ''} not met"

    listed = summary.get("quarantined")
    entries = [q for q in listed if isinstance(q, Mapping)] if _is_list(listed) else None
    n_checks = len(by_severity["quarantine"])
    if entries is None:
        quarantine = checks(n_checks)
    else:
        reasons: dict[str, int] = {}
        for q in entries:
            reasons[str(q.get("reason"))] = reasons.get(str(q.get("reason")), 0) + 1
        quarantine = f"{len(entries)} set aside"
        if reasons:
            quarantine += " (" + ", ".join(f"{r} {n}" for r, n in reasons.items()) + ")"
        if n_checks:
            quarantine += f"; {checks(n_checks)}"
    return (
        f"fail: {checks(len(by_severity['fail']))} · quarantine: {quarantine} · "
        f"warn: {checks(len(by_severity['warn']))}"
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _summary_section(run_id: str, summary: Mapping[str, object]) -> dict[str, Any]:
    """Run facts, the headline counts as cards, and what became of the files as a chart."""
    facts = [
        ("run id", run_id),
        ("started at", summary.get("started_at")),
        ("finished at", summary.get("finished_at")),
        (
            "took",
            _duration(summary["seconds"]) + " (the flow's start to its end)"
            if _is_number(summary.get("seconds"))
            else None,
        ),
        ("status", summary.get("status")),
        ("gate", summary.get("gate")),
        ("batches published", summary.get("batches")),
        ("failed checks", ", ".join(str(c) for c in summary.get("failed_checks") or []) or None),
    ]
    labels = dict(_FILE_COUNTS) | dict(_HEADLINE_COUNTS)
    return {
        "facts": [
            {"label": label, "value": str(value)}
            for label, value in facts
            if value is not None and value != ""
        ],
        "files_chart": _files_chart(summary),
        "cards": [
            {"label": label, "value": _fmt(summary[k]), "note": COUNT_NOTES[k]}
            for k, label in _HEADLINE_COUNTS
            if k in summary
        ],
        # What each count on the page means, one line each (the counts this run recorded).
        "legend": [
            {"label": labels.get(k, k), "note": note}
            for k, note in COUNT_NOTES.items()
            if k in summary and not k.endswith("seconds")
        ],
    }


def _files_chart(summary: Mapping[str, object]) -> dict[str, Any] | None:
    """What became of the files the run looked at, as bars (None when none were counted)."""
    files = [(label, summary[k]) for k, label in _FILE_COUNTS if _is_number(summary.get(k))]
    if not any(v for _, v in files):
        return None
    colours = {"new": _GREEN, "duplicate": _BLUE, "quarantined": _ORANGE}
    return _bar_chart(
        files,
        title="What became of the files seen",
        colours=[colours.get(label, _GREY) for label, _ in files],
    )


def _shape_section(shape: object) -> list[dict[str, str]]:
    """The batch's shape metrics (optional): shares as percentages, other numbers as they are;
    metrics without a value (no earlier batches to compare with) are left out."""
    if not isinstance(shape, Mapping):
        return []
    out = []
    for name, value in shape.items():
        if value is None:  # not measured this time
            continue
        if isinstance(value, Mapping):
            shown = ", ".join(f"{k}: {_fmt_metric(str(k), v)}" for k, v in value.items())
        else:
            shown = _fmt_metric(str(name), value)
        out.append({"name": str(name), "value": shown})
    return out


def _check_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One check as the checks tables show it."""
    reason = _not_judged(row)
    if reason is not None:
        observed = f"not judged: {reason}"
    else:
        observed = _describe_observed(row["observed"]) or (row["observed"] or "")
    unexpected = row["unexpected_count"]
    return {
        "success": row["success"],
        "not_judged": reason,
        "suite": str(row["suite"]),
        "expectation": str(row["expectation"]),
        "columns": (row["column_name"] or "").replace(",", ", "),
        "severity": str(row["severity"]),
        "observed": str(observed),
        "unexpected": _fmt(unexpected) if unexpected is not None and reason is None else "—",
        "examples": None if row["success"] else _examples_text(row["examples"]),
    }


def _describe_observed(observed_json: str | None) -> str:
    """'3 of 120 rows unexpected (2.5%)', plus a batch metric's value or the error, as text."""
    observed = _loads(observed_json) or {}
    if not isinstance(observed, dict):
        return str(observed)
    bits = []
    if "unexpected_count" in observed:
        n, total = observed["unexpected_count"], observed.get("element_count")
        pct = observed.get("unexpected_percent")
        shown_pct = f" ({pct:.3g}%)" if _is_number(pct) and pct else ""
        bits.append(f"{n} of {total} rows unexpected{shown_pct}")
    if "value" in observed:
        allowed = _allowed_range(observed.get("min_value"), observed.get("max_value"))
        bits.append(f"value {_fmt(observed['value'])}" + (f" ({allowed})" if allowed else ""))
    if "observed_value" in observed:
        bits.append(f"observed {observed['observed_value']}")
    if observed.get("error"):
        bits.append(f"error: {observed['error']}")
    return "; ".join(bits)


def _allowed_range(low: object, high: object) -> str:
    """A check's bounds in words: 'allowed 0.1–0.3', 'at most 0.3', 'at least 0.5'."""
    if low is not None and high is not None:
        return f"allowed {_fmt(low)}–{_fmt(high)}"
    if high is not None:
        return f"at most {_fmt(high)}"
    if low is not None:
        return f"at least {_fmt(low)}"
    return ""


def _examples_text(examples_json: str | None) -> str | None:
    """A failed check's examples, one per line (``key=value`` pairs for a row); None if none."""
    examples = _loads(examples_json) or []
    if not isinstance(examples, list):
        examples = [examples]
    lines = []
    for ex in examples:
        if isinstance(ex, dict):
            pairs = (f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in ex.items())
            lines.append(", ".join(pairs))
        else:
            lines.append(json.dumps(ex, ensure_ascii=False))
    return "\n".join(lines) if lines else None


def _quarantined_section(quarantined: object) -> dict[str, Any]:
    """The files set aside, with the reason code and what to do about them."""
    entries = (
        [q for q in quarantined or [] if isinstance(q, Mapping)] if _is_list(quarantined) else []
    )
    reasons: dict[str, int] = {}
    for q in entries:
        reasons[str(q.get("reason"))] = reasons.get(str(q.get("reason")), 0) + 1
    by_reason = ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1]))
    extra = [k for k in dict.fromkeys(k for q in entries for k in q) if k not in _QUARANTINE_COLS]
    cols = [*_QUARANTINE_COLS, *extra]
    return {
        "count": len(entries),
        "by_reason": by_reason,
        "columns": [str(c) for c in cols],
        "rows": [
            {
                "path": str(q.get("path", "")),
                "cells": [str(q.get(c) if q.get(c) is not None else "") for c in cols[1:]],
            }
            for q in entries[:MAX_ROWS]
        ],
        "more": max(0, len(entries) - MAX_ROWS),
    }


def _duplicates_section(groups: object) -> list[dict[str, str]] | None:
    """The largest groups of identical paragraphs, with the start of their text; None when
    the run recorded none."""
    if groups is None:
        return None
    entries = [g for g in groups if isinstance(g, Mapping)] if _is_list(groups) else []
    out = []
    for g in entries:
        text = str(g.get("text") or "")
        digest = str(g.get("paragraph_hash") or "")
        out.append(
            {
                "occurrences": _fmt(g.get("occurrences", "")),
                "articles": _fmt(g.get("articles", "")),
                "digest": digest,
                "sample": text[:SAMPLE_CHARS] + ("…" if len(text) > SAMPLE_CHARS else ""),
            }
        )
    return out


def _counts_section(summary: Mapping[str, object]) -> list[dict[str, Any]]:
    """Occurrences by kind and tags by type, each as a bar chart with its numbers."""
    charts = []
    for key, title in (
        ("occurrences_by_kind", "Paragraph occurrences by kind"),
        ("tags_by_type", "Tags by type"),
    ):
        counts = summary.get(key)
        chart = None
        if isinstance(counts, Mapping) and counts:
            items = [(str(k), v) for k, v in counts.items() if _is_number(v)]
            chart = _bar_chart(items, title=title)
        charts.append({"title": title, "chart": chart})
    return charts


def _timings_section(timings: object, cpu: object = None) -> list[dict[str, Any]] | None:
    """Seconds per stage, slowest first, with the process's CPU seconds meanwhile where they
    were measured (more CPU than wall seconds: more than one core busy)."""
    if not isinstance(timings, Mapping) or not timings:
        return None
    cpu = cpu if isinstance(cpu, Mapping) else {}
    items = sorted(
        ((str(k), v) for k, v in timings.items() if _is_number(v)), key=lambda kv: -kv[1]
    )
    return [
        {
            "stage": name,
            "note": _STAGE_NOTES.get(name),
            "seconds": f"{seconds:.3f}",
            "cpu": f"{cpu[name]:.3f}" if _is_number(cpu.get(name)) else "",
        }
        for name, seconds in items
    ]


_STAGE_NOTES = {
    "prefect": "Prefect's start-up before the flow began, its bookkeeping around the tasks "
    "and its shutdown: outside the stages above",
}


def _other_section(summary: Mapping[str, object]) -> list[dict[str, Any]]:
    """Summary keys this page has no section for, so nothing recorded goes unseen."""
    rest = {k: v for k, v in summary.items() if k not in _SHOWN_KEYS}
    if summary.get("report_path"):
        rest["report_path"] = summary["report_path"]
    out = []
    for key, value in rest.items():
        if isinstance(value, Mapping):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        elif isinstance(value, list | tuple):
            shown = json.dumps(value, ensure_ascii=False, default=str)
        else:
            shown = str(value)
        out.append({"key": str(key), "value": shown, "note": COUNT_NOTES.get(key)})
    return out


# --- the index page -----------------------------------------------------------------------------


def render_index(runs: Sequence[Mapping[str, Any]]) -> str:
    """The index of all runs (given newest first): a history chart and one row per run."""
    latest = runs[0] if runs else None
    sub = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    if latest:
        sub += f" · latest {latest['run_id']}: {latest['status']}"
    oldest_first = list(reversed(runs[:HISTORY_RUNS]))
    return _render(
        "index.html.j2",
        title="nutgraf data-quality reports",
        subtitle=sub,
        n_charted=len(oldest_first),
        chart=_history_chart(oldest_first) if oldest_first else None,
        count_headers=[{"label": label, "note": COUNT_NOTES[k]} for k, label in _RUN_COUNTS],
        runs=[_run_row(run) for run in runs],
    )


_RUN_COUNTS = (
    ("files_seen", "files seen"),
    ("files_new", "new"),
    ("files_duplicate", "dup."),
    ("files_quarantined", "quar."),
    ("articles", "articles"),
    ("paragraphs_new", "new paras"),
)


def _run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    """One run in the index: link, start, status, counts, file shares and the gate's verdict."""
    summary = run["summary"]
    gate = summary.get("gate") or ("passed" if run["success"] else "failed")
    checks = f"{gate}; {run['n_not_met']} of {run['n_checks']} not met"
    if run["failed"]:
        checks += ": " + ", ".join(run["failed"])
    status = run["status"]
    return {
        "href": run["href"],
        "run_id": run["run_id"],
        "started": run["started"].astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        "started_text": run["started_text"],
        "status": status,
        "status_class": {"published": "ok", "gate_failed": "bad-fail"}.get(status, "other"),
        "counts": [_fmt(summary.get(k, "")) for k, _ in _RUN_COUNTS],
        "duplicate_share": _pct(run["duplicate_share"]),
        "quarantined_share": _pct(run["quarantined_share"]),
        "checks": checks,
    }


# --- charts (geometry for the inline SVG that templates/charts.html.j2 draws) ---------------------


def _bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, colours: Sequence[str] | None = None
) -> dict[str, Any]:
    """Horizontal bars with their label and value, scaled to the largest value."""
    label_w, bar_w, row_h, value_w = 120, 260, 24, 70
    top = max((v for _, v in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = max(1.0, bar_w * value / top) if value else 0
        bars.append(
            {
                "label": label,
                "value": _fmt(value),
                "colour": colours[i] if colours else _BLUE,
                "y": y,
                "width": w,
            }
        )
    return {
        "title": title,
        "width": label_w + bar_w + value_w,
        "height": row_h * len(items) + 8,
        "label_w": label_w,
        "bar_h": row_h - 8,
        "bars": bars,
    }


_HISTORY_SERIES = (  # summary key, label, colour, stroke-dasharray
    ("duplicate_share", "duplicate-file share", _BLUE, None),
    ("quarantined_share", "quarantined-file share", _ORANGE, "6 4"),
)


def _history_chart(
    runs: Sequence[Mapping[str, Any]], *, highlight: str | None = None
) -> dict[str, Any]:
    """Duplicate-file and quarantined-file share per run (oldest left), gate failures marked
    under the axis and ``highlight`` (this run) marked by a dotted line."""
    width, height = 760, 280
    left, right, top, bottom = 64, 44, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [r[key] for r in runs for key, *_ in _HISTORY_SERIES if r[key] is not None]
    y_max, step = next(((m, s) for m, s in _Y_SCALES if max(values, default=0) <= m), _Y_SCALES[-1])
    n = len(runs)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y_at(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    grid = [
        {"y": y_at(step * k), "label": _pct(step * k, 0), "axis": k == 0}
        for k in range(round(y_max / step) + 1)
    ]
    # Each run's date under the axis, or every fifth's when many.
    marks = [
        {
            "x": x_at(i),
            "date": run["started"].strftime("%m-%d %H:%M")
            if n <= 8 or i in (0, n - 1) or (i % 5 == 0 and n - 1 - i >= 3)
            else None,
            "run_id": run["run_id"],
            "failed": not run["success"],
            "this_run": highlight is not None and run["run_id"] == highlight,
        }
        for i, run in enumerate(runs)
    ]
    series, legend, x = [], [], left
    for key, label, colour, dash in _HISTORY_SERIES:
        series.append(
            {
                "label": label,
                "colour": colour,
                "dash": dash,
                "path": _series_path(runs, key, x_at, y_at),
                "points": [
                    {
                        "x": x_at(i),
                        "y": y_at(run[key]),
                        "run_id": run["run_id"],
                        "share": _pct(run[key]),
                    }
                    for i, run in enumerate(runs)
                    if run[key] is not None
                ],
            }
        )
        legend.append({"x": x, "label": label, "colour": colour, "dash": dash})
        x += 40 + 7 * len(label)
    return {
        "n": n,
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "grid": grid,
        "marks": marks,
        "series": series,
        "legend": legend,
        "legend_failed_x": x,
        "legend_this_run_x": x + 100 if highlight is not None else None,
    }


def _series_path(runs, key, x_at, y_at) -> str:
    """The ``d`` of one line through a series' points, broken where a run has no value."""
    d, pen_down = [], False
    for i, run in enumerate(runs):
        if run[key] is None:
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{x_at(i):.1f} {y_at(run[key]):.1f}")
        pen_down = True
    return " ".join(d)


# --- helpers ------------------------------------------------------------------------------------


def _render_json(result: GateResult, run_id: str, summary: Mapping[str, object]) -> str:
    results = [
        {**r, "observed": _loads(r["observed"]), "examples": _loads(r["examples"])}
        for r in result.results.to_dicts()
    ]
    doc = {
        "run_id": run_id,
        "status": "passed" if result.success else "gate_failed",
        "success": result.success,
        "failed": result.failed,
        "quarantine_article_ids": result.quarantine_article_ids,
        "summary": dict(summary),
        "results": results,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


def _fmt(value: object) -> str:
    """Thousands separated integers, three significant digits for other numbers."""
    if isinstance(value, bool) or not _is_number(value):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3g}"


def _fmt_metric(name: str, value: object) -> str:
    """A batch-shape metric: shares as percentages, anything else as :func:`_fmt` shows it."""
    if value is None:
        return "—"  # not measured, e.g. no earlier batches to compare with
    if "share" in name and _is_number(value):
        return _pct(float(value))
    return _fmt(value)


def _pct(share: float | None, digits: int = 1) -> str:
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _file_stem(run_id: str) -> str:
    """The run id as a file name: path separators and other odd characters replaced."""
    stem = "".join(c if c.isalnum() or c in "-_.:" else "_" for c in run_id).strip(".")
    return stem or "run"


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a report; the
    temporary name is unique, as concurrent runs rewrite the same index."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
