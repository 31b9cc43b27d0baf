"""The human data-quality report of a run: one self-contained HTML page and its JSON twin.

Not GX Data Docs: those write unexpected values unescaped (article text would run as markup)
and load CSS/JS from CDNs. This page has inline CSS only, a Content-Security-Policy that allows
no script, and every value that comes from the data passes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from expectations.gate import GateResult

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1f}
main{max-width:1100px;margin:0 auto;padding:0 16px 32px}
.banner{padding:18px 16px;color:#fff;font-size:22px;font-weight:600}
.banner small{display:block;font-size:13px;font-weight:400;opacity:.9}
.pass{background:#1a7f37}.fail{background:#cf222e}
h2{margin:28px 0 8px;font-size:17px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{margin:18px 0 6px;font-size:15px}
table{border-collapse:collapse;width:100%;margin:4px 0 12px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{margin:0;white-space:pre-wrap;word-break:break-all}
.pill{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;color:#fff}
.ok{background:#1a7f37}.bad-fail{background:#cf222e}.bad-quarantine{background:#bc4c00}
.bad-warn{background:#9a6700}.muted{color:#57606a}
"""


def write_report(
    result: GateResult, *, run_id: str, report_dir: Path, summary: Mapping[str, object]
) -> Path:
    """Write ``report_dir/<run_id>.html`` and ``<run_id>.json``; return the HTML path."""
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    safe_id = _file_stem(run_id)
    html_path = report_dir / f"{safe_id}.html"
    _write_atomic(report_dir / f"{safe_id}.json", _render_json(result, run_id, summary))
    _write_atomic(html_path, render_html(result, run_id=run_id, summary=summary))
    return html_path


def render_html(result: GateResult, *, run_id: str, summary: Mapping[str, object]) -> str:
    """The report page as one HTML string (status, failed checks, all checks, counts)."""
    rows = result.results.to_dicts()
    failures = [r for r in rows if not r["success"]]
    order = {"fail": 0, "quarantine": 1, "warn": 2}
    failures.sort(key=lambda r: order.get(r["severity"], 3))
    status = "PASSED" if result.success else "GATE FAILED"
    n_warn = sum(1 for r in failures if r["severity"] == "warn")
    headline = (
        f"{len(rows)} checks, {len(result.failed)} failed (fail), "
        f"{sum(1 for r in failures if r['severity'] == 'quarantine')} quarantine, "
        f"{n_warn} warning{'s' if n_warn != 1 else ''}"
    )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Belt and braces: even if some value slipped through unescaped, nothing may run.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{_e(status)} — nutgraf run {_e(run_id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<div class="banner {"pass" if result.success else "fail"}">{_e(status)}'
        f"<small>run {_e(run_id)} · {_e(headline)}</small></div>",
        "<main>",
    ]

    parts.append("<h2>Failed checks</h2>")
    if failures:
        parts.append(_checks_table(failures, with_suite=True))
    else:
        parts.append('<p class="muted">None: every check passed.</p>')
    if result.quarantine_article_ids:
        ids = ", ".join(_e(a) for a in result.quarantine_article_ids)
        parts.append(f"<p><b>Articles set aside by quarantine checks:</b> <code>{ids}</code></p>")

    parts.append("<h2>All checks</h2>")
    by_suite: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_suite.setdefault(r["suite"], []).append(r)
    for suite, suite_rows in by_suite.items():
        n_bad = sum(1 for r in suite_rows if not r["success"])
        parts.append(
            f'<h3>{_e(suite)} <span class="muted">({len(suite_rows)} checks, '
            f"{n_bad} not met)</span></h3>"
        )
        parts.append(_checks_table(suite_rows, with_suite=False))

    parts.append("<h2>Run counts</h2>")
    parts.append(_summary_table(summary))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _checks_table(rows: list[dict[str, Any]], *, with_suite: bool) -> str:
    head = [
        "status",
        *(["suite"] if with_suite else []),
        "check",
        "severity",
        "column",
        "observed",
        "examples",
    ]
    out = ["<table><tr>", *(f"<th>{h}</th>" for h in head), "</tr>"]
    for r in rows:
        pill = (
            '<span class="pill ok">ok</span>'
            if r["success"]
            else f'<span class="pill bad-{_e(r["severity"])}">not met</span>'
        )
        cells = [pill]
        if with_suite:
            cells.append(_e(r["suite"]))
        cells += [
            f"<code>{_e(r['expectation'])}</code>",
            _e(r["severity"]),
            f"<code>{_e(r['column_name'] or '')}</code>",
            _e(_describe_observed(r["observed"])),
            "" if r["success"] else _examples_html(r["examples"]),
        ]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _describe_observed(observed_json: str | None) -> str:
    """'3 of 120 rows unexpected (2.5%)', plus a batch metric's value or the error, as text."""
    observed = _loads(observed_json) or {}
    if not isinstance(observed, dict):
        return str(observed)
    bits = []
    if "unexpected_count" in observed:
        n, total = observed["unexpected_count"], observed.get("element_count")
        pct = observed.get("unexpected_percent")
        bits.append(f"{n} of {total} rows unexpected" + (f" ({pct:.3g}%)" if pct else ""))
    if "value" in observed:
        low, high = observed.get("min_value", ""), observed.get("max_value", "")
        value = observed["value"]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        bits.append(f"value {shown} (allowed {low}–{high})")
    if "observed_value" in observed:
        bits.append(f"observed {observed['observed_value']}")
    if observed.get("error"):
        bits.append(f"error: {observed['error']}")
    return "; ".join(bits)


def _examples_html(examples_json: str | None) -> str:
    examples = _loads(examples_json) or []
    if not examples:
        return ""
    lines = []
    for ex in examples:
        if isinstance(ex, dict):
            pairs = (f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in ex.items())
            lines.append(", ".join(pairs))
        else:
            lines.append(json.dumps(ex, ensure_ascii=False))
    return "<pre>" + "\n".join(_e(line) for line in lines) + "</pre>"


def _summary_table(summary: Mapping[str, object]) -> str:
    if not summary:
        return '<p class="muted">No counts were passed.</p>'
    out = ["<table>"]
    for key, value in summary.items():
        if isinstance(value, Mapping):
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) or "none"
        else:
            shown = str(value)
        out.append(f"<tr><th>{_e(key)}</th><td>{_e(shown)}</td></tr>")
    out.append("</table>")
    return "".join(out)


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
    """Write via a temporary file and rename, so a reader never sees half a report."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
