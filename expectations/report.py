"""The human data-quality report: a page per run, its JSON twin, and an index of all runs.

Not GX Data Docs: those write unexpected values unescaped (article text would run as markup)
and load CSS/JS from CDNs. These pages are self-contained: inline CSS, charts drawn as inline
SVG, a Content-Security-Policy that allows no script and no network fetch, and every value that
comes from the data passes through :func:`html.escape`.

The index is rebuilt from the per-run JSON files alone, so it also covers runs written by older
versions of this module: every summary key beyond the counts is optional.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from expectations.gate import GateResult

INDEX_NAME = "index.html"
HISTORY_RUNS = 30  # runs drawn in the history charts
MAX_ROWS = 200  # quarantined files listed on a page; the JSON twin keeps every one
SAMPLE_CHARS = 300  # of a duplicate group's text: enough to recognise it

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
_QUARANTINE_COLS = ("path", "reason", "detail")
_CHECK_CELL_CLASS = {4: " class=obs", 5: " class=n", 6: " class=ex"}  # by column position
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
_BLUE, _ORANGE, _RED, _GREEN, _GREY = "#0969da", "#bc4c00", "#cf222e", "#1a7f37", "#57606a"

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:0;color:#1d1d1f;background:#fff}
main{max-width:1280px;margin:0 auto;padding:0 16px 32px}
a{color:#0550ae}a:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.banner{padding:16px max(16px,calc(50% - 624px));color:#fff}
.banner h1{margin:0;font-size:24px}
.banner p{margin:4px 0 0}
.banner ul{margin:8px 0 0;padding-left:20px}
.banner li{margin:2px 0}
.banner code{background:rgba(255,255,255,.18);padding:0 4px;border-radius:3px}
.banner a{color:#fff}
.pass{background:#1a7f37}.fail{background:#b62324}.neutral{background:#24292f}
nav.toc{margin:10px 0 0;font-size:13px}nav.toc a{margin-right:12px}
h2{margin:28px 0 8px;font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{margin:16px 0 6px;font-size:15px}
table{border-collapse:collapse;width:100%;margin:4px 0 12px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.met td{color:#57606a}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace}
pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
td{overflow-wrap:break-word}
td code.name{white-space:nowrap}
table.narrow{width:auto;min-width:360px}
tr.met td{padding-top:2px;padding-bottom:2px;font-size:13px}
td.obs{min-width:17ch}td.wrap{overflow-wrap:anywhere;min-width:20ch}
td a code{white-space:nowrap}td.ex{min-width:36ch}
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;color:#fff;
white-space:nowrap}
.ok{background:#1a7f37}.bad-fail{background:#cf222e}.bad-quarantine{background:#bc4c00}
.bad-warn{background:#9a6700}.other{background:#57606a}.muted{color:#57606a}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px;
margin:8px 0 12px}
.card{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px}
.card b{display:block;font-size:20px;font-variant-numeric:tabular-nums}
.card span{color:#57606a;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:0 24px}
figure{margin:4px 0 12px}figure svg{max-width:100%;height:auto}
figcaption{font-size:12px;color:#57606a}
dl.legend{display:grid;grid-template-columns:max-content 1fr;gap:0 12px;font-size:12px;
color:#57606a;margin:0 0 12px}dl.legend dt{font-weight:600}dl.legend dd{margin:0}
.not-judged{background:#6e7781}tr.unjudged td{color:#57606a}
@media print{
.banner,.pill,.ok,.bad-fail,.bad-quarantine,.bad-warn,.other{print-color-adjust:exact;
-webkit-print-color-adjust:exact}
nav.toc{display:none}tr,figure{break-inside:avoid}a{color:inherit}}
"""


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
    stem = quote(_file_stem(run_id))
    sections = [
        _run_banner(result, rows, run_id, summary, status),
        "<main>",
        '<nav class="toc" aria-label="Sections">'
        + "".join(
            f'<a href="#{a}">{t}</a>'
            for a, t in (
                ("summary", "Summary"),
                ("not-met", "Checks not met"),
                ("quarantined", "Quarantined files"),
                ("duplicates", "Duplicates"),
                ("counts", "Tags and occurrences"),
                ("history", "Recent runs"),
                ("checks", "All checks"),
            )
        )
        + f'<a href="./{INDEX_NAME}">All runs</a><a href="./{stem}.json">JSON</a></nav>',
        _summary_section(run_id, summary),
        _not_met_section(rows, result.quarantine_article_ids),
        _quarantined_section(summary.get("quarantined")),
        _duplicates_section(summary.get("duplicate_groups")),
        _counts_section(summary),
        _history_section(history, run_id),
        _shape_section(summary.get("batch_shape")),
        _checks_section(rows),
        _timings_section(summary.get("timings"), summary.get("cpu_seconds")),
        _other_section(summary),
        "</main>",
    ]
    return _page(f"{status} — nutgraf run {run_id}", sections)


def _page(title: str, sections: Iterable[str]) -> str:
    """A complete HTML document around the given body parts."""
    head = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Belt and braces: even if some value slipped through unescaped, nothing may run or load.
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    return "\n".join([*head, *(s for s in sections if s), "</body></html>"])


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
) -> str:
    """The verdict in one coloured block, with each failing check and its observed value."""
    not_met = [r for r in rows if not r["success"]]
    by_severity = {s: [r for r in not_met if r["severity"] == s] for s in _SEVERITY_ORDER}
    n_unjudged = sum(1 for r in rows if _not_judged(r) is not None)
    n_met = len(rows) - len(not_met) - n_unjudged
    headline = f"{len(rows)} checks: {n_met} met, {len(not_met)} not met, {n_unjudged} not judged"
    facts = [f"run {run_id}"]
    if summary.get("started_at"):
        facts.append(f"started {summary['started_at']}")
    if _is_number(summary.get("seconds")):
        facts.append(f"took {_duration(summary['seconds'])}")
    if summary.get("status"):
        facts.append(f"status {summary['status']}")
    out = [
        f'<header class="banner {"pass" if result.success else "fail"}">',
        f"<h1>{_e(status)}</h1>",
        f"<p>{_e(' · '.join(facts))}</p>",
        f"<p>{_e(headline)}</p>",
        f"<p>{_e(_severity_line(by_severity, summary))}</p>",
    ]
    # Named by severity as the README names them: fail, quarantine, warn.
    listed = [(r, s) for s in _SEVERITY_ORDER for r in by_severity[s]]
    if listed:
        out.append("<ul>")
        for r, label in listed:
            observed = _describe_observed(r["observed"])
            out.append(
                f"<li><b>{_e(label)}</b> <code>{_e(r['suite'])}.{_e(r['expectation'])}</code>"
                + (f" — {_e(observed)}" if observed else "")
                + "</li>"
            )
        out.append("</ul>")
    out.append("</header>")
    return "".join(out)


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


def _summary_section(run_id: str, summary: Mapping[str, object]) -> str:
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
    out = ['<h2 id="summary">Run summary</h2><div class="grid"><table class="narrow">']
    for label, value in facts:
        if value is not None and value != "":
            out.append(f'<tr><th scope="row">{_e(label)}</th><td>{_e(value)}</td></tr>')
    out.append("</table>")
    out.append(_files_chart(summary) + "</div>")
    cards = [
        f'<div class=card title="{_e(COUNT_NOTES[k])}"><b>{_e(_fmt(summary[k]))}</b>'
        f"<span>{_e(label)}</span></div>"
        for k, label in _HEADLINE_COUNTS
        if k in summary
    ]
    if cards:
        out.append('<div class="cards">' + "".join(cards) + "</div>")
    out.append(_count_legend(summary))
    return "".join(out)


def _count_legend(summary: Mapping[str, object]) -> str:
    """What each count on the page means, one line each (the counts this run recorded)."""
    labels = dict(_FILE_COUNTS) | dict(_HEADLINE_COUNTS)
    keys = [k for k in COUNT_NOTES if k in summary and not k.endswith("seconds")]
    if not keys:
        return ""
    items = "".join(f"<dt>{_e(labels.get(k, k))}</dt><dd>{_e(COUNT_NOTES[k])}</dd>" for k in keys)
    return f'<dl class="legend" aria-label="What the counts mean">{items}</dl>'


def _files_chart(summary: Mapping[str, object]) -> str:
    """What became of the files the run looked at, as bars (nothing when none were counted)."""
    files = [(label, summary[k]) for k, label in _FILE_COUNTS if _is_number(summary.get(k))]
    if not any(v for _, v in files):
        return ""
    colours = {"new": _GREEN, "duplicate": _BLUE, "quarantined": _ORANGE}
    return _bar_chart(
        files,
        title="What became of the files seen",
        colours=[colours.get(label, _GREY) for label, _ in files],
    )


def _shape_section(shape: object) -> str:
    """The batch's shape metrics (optional): shares as percentages, other numbers as they are;
    metrics without a value (no earlier batches to compare with) are left out."""
    if not isinstance(shape, Mapping):
        return ""
    shape = {k: v for k, v in shape.items() if v is not None}  # None: not measured this time
    if not shape:
        return ""
    out = [
        '<h2 id="shape">Batch shape</h2><table class="narrow">'
        "<tr><th>metric</th><th class=n>value</th></tr>"
    ]
    for name, value in shape.items():
        if isinstance(value, Mapping):
            shown = ", ".join(f"{k}: {_fmt_metric(str(k), v)}" for k, v in value.items())
        else:
            shown = _fmt_metric(str(name), value)
        out.append(f"<tr><td><code>{_e(name)}</code></td><td class=n>{_e(shown)}</td></tr>")
    out.append("</table>")
    return "".join(out)


def _not_met_section(rows: list[dict[str, Any]], quarantine_article_ids: list[str]) -> str:
    """The checks not met, gravest first, with observed values and failing examples."""
    not_met = [r for r in rows if not r["success"]]
    out = [f'<h2 id="not-met">Checks not met ({len(not_met)})</h2>']
    if not_met:
        out.append(_checks_table(not_met))
    else:
        out.append('<p class="muted">None: every check passed.</p>')
    if quarantine_article_ids:
        ids = ", ".join(_e(a) for a in quarantine_article_ids)
        out.append(f"<p><b>Articles set aside by quarantine checks:</b> <code>{ids}</code></p>")
    return "".join(out)


def _checks_section(rows: list[dict[str, Any]]) -> str:
    """Every check in one table, those not met first."""
    n_bad = sum(1 for r in rows if not r["success"])
    n_unjudged = sum(1 for r in rows if _not_judged(r) is not None)
    out = [
        f'<h2 id="checks">All checks <span class="muted">({len(rows)} checks, '
        f"{n_bad} not met, {n_unjudged} not judged)</span></h2>"
    ]
    out.append(_checks_table(rows) if rows else '<p class="muted">No checks ran.</p>')
    return "".join(out)


def _checks_table(rows: list[dict[str, Any]]) -> str:
    head = ["result", "suite", "check (column)", "severity", "observed", "unexpected", "examples"]
    out = ["<table><tr>", *(f'<th scope="col">{h}</th>' for h in head), "</tr>"]
    for r in rows:
        reason = _not_judged(r)
        if reason is not None:
            pill = f'<span class="pill not-judged" title="{_e(reason)}">not judged</span>'
        elif r["success"]:
            pill = '<span class="pill ok">ok</span>'
        else:
            pill = f'<span class="pill bad-{_e(r["severity"])}">not met</span>'
        if reason is not None:
            observed = f"not judged: {reason}"
        else:
            observed = _describe_observed(r["observed"]) or (r["observed"] or "")
        unexpected = r["unexpected_count"]
        cells = [
            pill,
            _e(r["suite"]),
            f"<code class=name>{_e(r['expectation'])}</code>" + _column_note(r["column_name"]),
            _e(r["severity"]),
            _e(observed),
            _e(_fmt(unexpected)) if unexpected is not None and reason is None else "—",
            "" if r["success"] else _examples_html(r["examples"]),
        ]
        klass = (
            ' class="unjudged"' if reason is not None else (' class="met"' if r["success"] else "")
        )
        out.append(
            f"<tr{klass}>"
            + "".join(f"<td{_CHECK_CELL_CLASS.get(i, '')}>{c}</td>" for i, c in enumerate(cells))
            + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _column_note(column_name: str | None) -> str:
    """The column(s) a check reads, as a muted second line under its name."""
    if not column_name:
        return ""
    return f'<div class="muted"><code>{_e(column_name.replace(",", ", "))}</code></div>'


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


def _examples_html(examples_json: str | None) -> str:
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
    return "<pre>" + "\n".join(_e(line) for line in lines) + "</pre>" if lines else ""


def _quarantined_section(quarantined: object) -> str:
    """The files set aside, with the reason code and what to do about them."""
    entries = (
        [q for q in quarantined or [] if isinstance(q, Mapping)] if _is_list(quarantined) else []
    )
    out = [f'<h2 id="quarantined">Quarantined files ({len(entries)})</h2>']
    if not entries:
        out.append('<p class="muted">None.</p>')
        return "".join(out)
    reasons: dict[str, int] = {}
    for q in entries:
        reasons[str(q.get("reason"))] = reasons.get(str(q.get("reason")), 0) + 1
    by_reason = ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1]))
    out.append(f"<p>By reason: {_e(by_reason)}</p>")
    extra = [k for k in dict.fromkeys(k for q in entries for k in q) if k not in _QUARANTINE_COLS]
    cols = [*_QUARANTINE_COLS, *extra]
    out.append("<table><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in cols) + "</tr>")
    for q in entries[:MAX_ROWS]:
        cells = [f"<code>{_e(q.get('path', ''))}</code>"]
        cells += [_e(q.get(c) if q.get(c) is not None else "") for c in cols[1:]]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    if len(entries) > MAX_ROWS:
        out.append(f'<p class="muted">… and {len(entries) - MAX_ROWS} more in the JSON file.</p>')
    return "".join(out)


def _duplicates_section(groups: object) -> str:
    """The largest groups of identical paragraphs, with the start of their text."""
    out = ['<h2 id="duplicates">Largest duplicate groups</h2>']
    if groups is None:
        out.append('<p class="muted">Not recorded for this run.</p>')
        return "".join(out)
    entries = [g for g in groups if isinstance(g, Mapping)] if _is_list(groups) else []
    if not entries:
        out.append('<p class="muted">No paragraph occurs more than once in this batch.</p>')
        return "".join(out)
    out.append(
        '<table><tr><th scope="col" class=n>occurrences</th><th scope="col" class=n>articles</th>'
        '<th scope="col">paragraph</th><th scope="col">text</th></tr>'
    )
    for g in entries:
        text = str(g.get("text") or "")
        sample = text[:SAMPLE_CHARS] + ("…" if len(text) > SAMPLE_CHARS else "")
        digest = str(g.get("paragraph_hash") or "")
        out.append(
            f"<tr><td class=n>{_e(_fmt(g.get('occurrences', '')))}</td>"
            f"<td class=n>{_e(_fmt(g.get('articles', '')))}</td>"
            f'<td><code title="{_e(digest)}">{_e(digest[:12])}</code></td>'
            f"<td><pre>{_e(sample)}</pre></td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _counts_section(summary: Mapping[str, object]) -> str:
    """Occurrences by kind and tags by type, each as a bar chart with its numbers."""
    charts = []
    for key, title in (
        ("occurrences_by_kind", "Paragraph occurrences by kind"),
        ("tags_by_type", "Tags by type"),
    ):
        counts = summary.get(key)
        if isinstance(counts, Mapping) and counts:
            items = [(str(k), v) for k, v in counts.items() if _is_number(v)]
            charts.append(f"<div><h3>{_e(title)}</h3>{_bar_chart(items, title=title)}</div>")
        else:
            charts.append(f'<div><h3>{_e(title)}</h3><p class="muted">None recorded.</p></div>')
    return (
        '<h2 id="counts">Tags and occurrences</h2><div class="grid">' + "".join(charts) + "</div>"
    )


def _history_section(history: Sequence[Mapping[str, Any]], run_id: str) -> str:
    if not history:
        return ""
    return (
        '<h2 id="history">Recent runs</h2>'
        + _history_chart(history, highlight=run_id)
        + f'<p><a href="./{INDEX_NAME}">Every run, newest first</a></p>'
    )


def _timings_section(timings: object, cpu: object = None) -> str:
    """Seconds per stage, slowest first, with the process's CPU seconds meanwhile where they
    were measured (more CPU than wall seconds: more than one core busy)."""
    if not isinstance(timings, Mapping) or not timings:
        return ""
    cpu = cpu if isinstance(cpu, Mapping) else {}
    items = sorted(
        ((str(k), v) for k, v in timings.items() if _is_number(v)), key=lambda kv: -kv[1]
    )
    out = [
        '<h2 id="timings">Timings</h2><table class="narrow">'
        "<tr><th>stage</th><th class=n>seconds</th><th class=n>CPU seconds</th></tr>"
    ]
    for name, seconds in items:
        used = cpu.get(name)
        note = _STAGE_NOTES.get(name)
        label = _e(name) + (f'<div class="muted">{_e(note)}</div>' if note else "")
        cells = [label, _e(f"{seconds:.3f}"), _e(f"{used:.3f}") if _is_number(used) else ""]
        out.append(
            f"<tr><td>{cells[0]}</td><td class=n>{cells[1]}</td><td class=n>{cells[2]}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


_STAGE_NOTES = {
    "prefect": "Prefect's start-up before the flow began, its bookkeeping around the tasks "
    "and its shutdown: outside the stages above",
}


def _other_section(summary: Mapping[str, object]) -> str:
    """Summary keys this page has no section for, so nothing recorded goes unseen."""
    rest = {k: v for k, v in summary.items() if k not in _SHOWN_KEYS}
    if summary.get("report_path"):
        rest["report_path"] = summary["report_path"]
    if not rest:
        return ""
    out = ['<h2 id="other">Other fields</h2><table>']
    for key, value in rest.items():
        if isinstance(value, Mapping):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        elif isinstance(value, list | tuple):
            shown = json.dumps(value, ensure_ascii=False, default=str)
        else:
            shown = str(value)
        note = COUNT_NOTES.get(key)
        explained = f'<div class="muted">{_e(note)}</div>' if note else ""
        out.append(f'<tr><th scope="row">{_e(key)}</th><td>{_e(shown)}{explained}</td></tr>')
    out.append("</table>")
    return "".join(out)


# --- the index page -----------------------------------------------------------------------------


def render_index(runs: Sequence[Mapping[str, Any]]) -> str:
    """The index of all runs (given newest first): a history chart and one row per run."""
    latest = runs[0] if runs else None
    sub = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
    if latest:
        sub += f" · latest {latest['run_id']}: {latest['status']}"
    parts = [
        '<header class="banner neutral"><h1>nutgraf data-quality reports</h1>',
        f"<p>{_e(sub)}</p></header><main>",
    ]
    oldest_first = list(reversed(runs[:HISTORY_RUNS]))
    if oldest_first:
        parts.append(
            f"<h2>Duplicate and quarantined files, last {len(oldest_first)} "
            f"run{'s' if len(oldest_first) != 1 else ''}</h2>"
        )
        parts.append(_history_chart(oldest_first))
    parts.append(f"<h2>Runs ({len(runs)}, newest first)</h2>")
    if runs:
        parts.append(_runs_table(runs))
    else:
        parts.append('<p class="muted">No run reports in this folder yet.</p>')
    parts.append("</main>")
    return _page("nutgraf data-quality reports", parts)


_RUN_COUNTS = (
    ("files_seen", "files seen"),
    ("files_new", "new"),
    ("files_duplicate", "dup."),
    ("files_quarantined", "quar."),
    ("articles", "articles"),
    ("paragraphs_new", "new paras"),
)


def _runs_table(runs: Sequence[Mapping[str, Any]]) -> str:
    """One row per run: link, start, status, counts, file shares and the gate's verdict."""
    head = "".join(
        f'<th scope="col" class=n title="{_e(COUNT_NOTES[k])}">{_e(label)}</th>'
        for k, label in _RUN_COUNTS
    )
    out = [
        '<table><tr><th scope="col">run</th><th scope="col">started (UTC)</th>'
        f'<th scope="col">status</th>{head}'
        '<th scope="col" class=n title="duplicate files of those read (new + duplicate + '
        'quarantined)">dup. share</th><th scope="col" class=n title="quarantined files of '
        'those read (new + duplicate + quarantined)">quar. share</th>'
        '<th scope="col">gate and checks not met</th></tr>'
    ]
    for run in runs:
        summary = run["summary"]
        counts = "".join(f"<td class=n>{_e(_fmt(summary.get(k, '')))}</td>" for k, _ in _RUN_COUNTS)
        gate = summary.get("gate") or ("passed" if run["success"] else "failed")
        checks = f"{gate}; {run['n_not_met']} of {run['n_checks']} not met"
        if run["failed"]:
            checks += ": " + ", ".join(run["failed"])
        started = run["started"].astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        out.append(
            f'<tr><td><a href="{_e(run["href"])}"><code>{_e(run["run_id"])}</code></a></td>'
            f'<td class=n title="{_e(run["started_text"])}">{_e(started)}</td>'
            f"<td>{_status_pill(run['status'])}</td>{counts}"
            f"<td class=n>{_e(_pct(run['duplicate_share']))}</td>"
            f"<td class=n>{_e(_pct(run['quarantined_share']))}</td>"
            f'<td class="wrap">{_e(checks)}</td></tr>'
        )
    out.append("</table>")
    return "".join(out)


def _status_pill(status: str) -> str:
    klass = {"published": "ok", "gate_failed": "bad-fail"}.get(status, "other")
    return f'<span class="pill {klass}">{_e(status)}</span>'


# --- charts (inline SVG) ------------------------------------------------------------------------


def _bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, colours: Sequence[str] | None = None
) -> str:
    """Horizontal bars with their label and value, scaled to the largest value."""
    label_w, bar_w, row_h, value_w = 120, 260, 24, 70
    width, height = label_w + bar_w + value_w, row_h * len(items) + 8
    top = max((v for _, v in items), default=0) or 1
    out = [
        f'<figure><svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="12" '
        f'font-family="system-ui,sans-serif"><title>{_e(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = max(1.0, bar_w * value / top) if value else 0
        colour = colours[i] if colours else _BLUE
        out.append(
            f'<text x="{label_w - 6}" y="{y + 16}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{_e(label)}: {_e(_fmt(value))}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 16}">{_e(_fmt(value))}</text>'
        )
    out.append("</svg></figure>")
    return "".join(out)


def _history_chart(runs: Sequence[Mapping[str, Any]], *, highlight: str | None = None) -> str:
    """Duplicate-file and quarantined-file share per run (oldest left), gate failures marked
    under the axis and ``highlight`` (this run) marked by a dotted line."""
    width, height = 760, 280
    left, right, top, bottom = 64, 44, 40, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    series = (
        ("duplicate_share", "duplicate-file share", _BLUE, ""),
        ("quarantined_share", "quarantined-file share", _ORANGE, ' stroke-dasharray="6 4"'),
    )
    values = [r[key] for r in runs for key, *_ in series if r[key] is not None]
    y_max, step = next(((m, s) for m, s in _Y_SCALES if max(values, default=0) <= m), _Y_SCALES[-1])
    n = len(runs)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y_at(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    out = [
        f'<figure><svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-size="12" '
        'font-family="system-ui,sans-serif">'
        f"<title>Duplicate-file and quarantined-file share of the last {n} runs</title>"
    ]
    for k in range(round(y_max / step) + 1):  # grid lines and y tick labels
        v = step * k
        y = y_at(v)
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#8c959f" if k == 0 else "#d8dee4"}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_e(_pct(v, 0))}</text>'
        )
    out.append(
        f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" '
        'text-anchor="middle">share of files considered</text>'
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 8}" text-anchor="middle">'
        f"runs, oldest to newest (last {n})</text>"
    )
    for i, run in enumerate(runs):  # x ticks: each run's date, or every fifth's when many
        if n <= 8 or i in (0, n - 1) or (i % 5 == 0 and n - 1 - i >= 3):
            label = run["started"].strftime("%m-%d %H:%M")
            out.append(
                f'<text x="{x_at(i):.1f}" y="{top + plot_h + 30}" text-anchor="middle" '
                f'font-size="10" fill="{_GREY}">{_e(label)}</text>'
            )
        if not run["success"]:
            x, y = x_at(i), top + plot_h + 6
            out.append(
                f'<path d="M{x:.1f} {y} l-5 9 h10 z" fill="{_RED}">'
                f"<title>{_e(run['run_id'])}: gate failed</title></path>"
            )
        if highlight is not None and run["run_id"] == highlight:
            out.append(
                f'<line x1="{x_at(i):.1f}" x2="{x_at(i):.1f}" y1="{top}" y2="{top + plot_h}" '
                'stroke="#24292f" stroke-dasharray="2 3"/>'
            )
    for key, label, colour, dash in series:
        out.append(_series_path(runs, key, x_at, y_at, colour, dash))
        for i, run in enumerate(runs):
            if run[key] is not None:
                out.append(
                    f'<circle cx="{x_at(i):.1f}" cy="{y_at(run[key]):.1f}" r="3.5" '
                    f'fill="{colour}"><title>{_e(run["run_id"])}: {_e(label)} '
                    f"{_e(_pct(run[key]))}</title></circle>"
                )
    out.append(_legend(series, highlight is not None, left))
    out.append("</svg></figure>")
    return "".join(out)


def _series_path(runs, key, x_at, y_at, colour: str, dash: str) -> str:
    """One line through a series' points, broken where a run has no value."""
    d, pen_down = [], False
    for i, run in enumerate(runs):
        if run[key] is None:
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{x_at(i):.1f} {y_at(run[key]):.1f}")
        pen_down = True
    if not d:
        return ""
    return f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'


def _legend(series, with_highlight: bool, left: int) -> str:
    """Legend above the plot: one swatch per series, the gate-failure marker, this run."""
    out, x = [], left
    for _, label, colour, dash in series:
        out.append(
            f'<line x1="{x}" x2="{x + 24}" y1="16" y2="16" stroke="{colour}" '
            f'stroke-width="2"{dash}/><circle cx="{x + 12}" cy="16" r="3.5" fill="{colour}"/>'
            f'<text x="{x + 30}" y="20">{_e(label)}</text>'
        )
        x += 40 + 7 * len(label)
    out.append(
        f'<path d="M{x + 6} 10 l-5 9 h10 z" fill="{_RED}"/><text x="{x + 16}" y="20">gate failed'
        "</text>"
    )
    x += 100
    if with_highlight:
        out.append(
            f'<line x1="{x + 6}" x2="{x + 6}" y1="6" y2="24" stroke="#24292f" '
            f'stroke-dasharray="2 3"/><text x="{x + 14}" y="20">this run</text>'
        )
    return "".join(out)


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


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


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
