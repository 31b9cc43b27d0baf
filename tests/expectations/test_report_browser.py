"""The report in a real browser: hostile article text shows as text and never runs.

Drives Debian's Chromium (``/usr/bin/chromium``) through Playwright, so no browser download is
needed. Without either, the test is skipped on a developer's machine and fails in CI (``CI=true``),
where ``.ci/run`` installs Chromium first.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from expectations.gate import DQ_RESULTS, GateResult
from expectations.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE = f"Breaking: {SCRIPT} and {IMG} in the copy"
RUN_ID = "20261101T080000-0bad0bad"


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (`uv sync` installs the dev group)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (`apt-get install chromium` installs Debian's)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for the module; skipped without one, except in CI."""
    missing = browser_missing()
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def hostile_report(report_dir: Path) -> Path:
    """A failed run whose examples, quarantined path and duplicate text carry markup."""
    rows = [
        {
            "suite": "paragraphs_suite_v1",
            "expectation": "paragraph_length_in_range",
            "column_name": "n_chars",
            "severity": "fail",
            "success": False,
            "observed": json.dumps({"element_count": 4, "unexpected_count": 1}),
            "unexpected_count": 1,
            "examples": json.dumps([HOSTILE, {"article_id": "a1", "text": HOSTILE}]),
        },
        {
            "suite": "articles_suite_v1",
            "expectation": "article_id_not_null",
            "column_name": "article_id",
            "severity": "fail",
            "success": True,
            "observed": json.dumps({"element_count": 4, "unexpected_count": 0}),
            "unexpected_count": 0,
            "examples": "[]",
        },
    ]
    result = GateResult(
        success=False,
        results=pl.DataFrame(rows, schema=DQ_RESULTS),
        failed=["paragraphs_suite_v1.paragraph_length_in_range"],
        quarantine_article_ids=[],
    )
    summary = {
        "run_id": RUN_ID,
        "status": "gate_failed",
        "started_at": "2026-11-01T08:00:00+00:00",
        "files_seen": 5,
        "files_new": 3,
        "files_duplicate": 1,
        "files_quarantined": 1,
        "articles": 3,
        "paragraphs_new": 4,
        "occurrences_by_kind": {"first": 4, "repeat": 1},
        "tags_by_type": {"place": 2, "topic": 3},
        "quarantined": [{"path": f"feed/{IMG}.txt", "reason": "binary", "detail": SCRIPT}],
        "duplicate_groups": [
            {"paragraph_hash": "ab" * 32, "text": HOSTILE, "occurrences": 2, "articles": 2}
        ],
        "gate": "failed",
        "failed_checks": result.failed,
    }
    return write_report(result, run_id=RUN_ID, report_dir=report_dir, summary=summary)


def open_quietly(browser: Any, path: Path) -> tuple[Any, dict[str, list[str]]]:
    """Open a report file at 1280 px wide, recording console errors, page errors, dialogs and
    any request that leaves the file system (all should stay empty)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events: dict[str, list[str]] = {"console": [], "pageerror": [], "dialog": [], "network": []}
    page.on("console", lambda m: m.type == "error" and events["console"].append(m.text))
    page.on("pageerror", lambda e: events["pageerror"].append(str(e)))
    page.on("dialog", lambda d: (events["dialog"].append(d.message), d.dismiss()))
    page.on(
        "request",
        lambda r: not r.url.startswith(("file:", "data:")) and events["network"].append(r.url),
    )
    page.goto(path.as_uri(), wait_until="load")
    return page, events


def assert_screenshot(page: Any, path: Path) -> None:
    """A full-page PNG of more than blank-page size."""
    page.screenshot(path=str(path), full_page=True)
    png = path.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000


def test_run_page_shows_hostile_text_literally_and_runs_nothing(browser: Any, tmp_path: Path):
    report = hostile_report(tmp_path / "reports")

    page, events = open_quietly(browser, report)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    text = page.inner_text("body")
    assert "GATE FAILED" in text and "<script>" in text
    assert HOSTILE in text and f"feed/{IMG}.txt" in text
    assert page.locator("svg").count() >= 3  # files, occurrences, tags, recent runs
    assert_screenshot(page, tmp_path / "run.png")
    page.close()
    assert events == {"console": [], "pageerror": [], "dialog": [], "network": []}


def test_index_page_renders_quietly(browser: Any, tmp_path: Path):
    report = hostile_report(tmp_path / "reports")

    page, events = open_quietly(browser, report.parent / "index.html")

    assert page.evaluate("typeof window.__pwned") == "undefined"
    text = page.inner_text("body")
    assert RUN_ID in text and "gate_failed" in text
    assert page.locator("svg").count() == 1
    assert_screenshot(page, tmp_path / "index.png")
    page.locator(f"a[href='./{RUN_ID}.html']").click()  # the run's link leads to its page
    page.wait_for_load_state("load")
    assert page.url == report.as_uri()
    page.close()
    assert events == {"console": [], "pageerror": [], "dialog": [], "network": []}


def test_a_check_not_judged_shows_grey_with_its_reason(browser: Any, tmp_path: Path):
    note = "not judged: too few new files or published batches so far"
    rows = [
        {
            "suite": "batch_suite_v4",
            "expectation": "repeated_paragraph_share_near_history",
            "column_name": "repeated_paragraph_share_rise",
            "severity": "fail",
            "success": True,
            "observed": json.dumps({"value": None, "max_value": 0.3, "note": note}),
            "unexpected_count": None,
            "examples": "[]",
        },
        {
            "suite": "batch_suite_v4",
            "expectation": "numeric_article_share_at_most_max",
            "column_name": "numeric_article_share",
            "severity": "warn",
            "success": False,
            "observed": json.dumps({"value": 0.45, "max_value": 0.3}),
            "unexpected_count": None,
            "examples": "[]",
        },
    ]
    result = GateResult(
        success=True,
        results=pl.DataFrame(rows, schema=DQ_RESULTS),
        failed=[],
        quarantine_article_ids=[],
    )
    summary = {"run_id": RUN_ID, "status": "published", "files_seen": 3, "files_touched": 2}
    report = write_report(result, run_id=RUN_ID, report_dir=tmp_path, summary=summary)

    page, events = open_quietly(browser, report)

    row = page.locator("tr", has_text="repeated_paragraph_share_near_history").last
    assert "too few new files or published batches so far" in row.inner_text()
    assert "None" not in row.inner_text()
    pill = row.locator(".pill")
    assert pill.inner_text() == "not judged"
    colour = pill.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(110, 119, 129)"  # grey, not the green of a check met
    text = page.inner_text("body")
    assert "value 0.45 (at most 0.3)" in text
    assert "files whose mtime changed but whose bytes did not" in text
    page.close()
    assert events == {"console": [], "pageerror": [], "dialog": [], "network": []}
