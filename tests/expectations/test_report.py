"""The data-quality report pages: run page, index, charts, escaping, optional summary keys."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import polars as pl

from expectations.gate import DQ_RESULTS, GateResult
from expectations.report import write_report

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
QUOTES = "\"double\" and 'single' quotes"
HOSTILE = f"{SCRIPT} {IMG} {QUOTES}"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def check_row(name: str, *, success: bool = True, severity: str = "fail", **fields) -> dict:
    """One dq_results row; a failed one gets an unexpected count and an example."""
    row = {
        "suite": "paragraphs_suite_v1",
        "expectation": name,
        "column_name": "text",
        "severity": severity,
        "success": success,
        "observed": json.dumps(
            {"element_count": 10, "unexpected_count": 0 if success else 2, "unexpected_percent": 20}
        ),
        "unexpected_count": 0 if success else 2,
        "examples": json.dumps([] if success else [{"article_id": "a1", "text": "too short"}]),
    }
    return row | fields


def gate_result(*rows: dict) -> GateResult:
    """A GateResult as the gate would build it from these rows."""
    failed = [
        f"{r['suite']}.{r['expectation']}"
        for r in rows
        if not r["success"] and r["severity"] == "fail"
    ]
    return GateResult(
        success=not failed,
        results=pl.DataFrame(list(rows), schema=DQ_RESULTS),
        failed=failed,
        quarantine_article_ids=[],
    )


def run_summary(run_id: str, **overrides) -> dict:
    """A summary with the keys RunState.summary always has, none of the optional ones."""
    summary = {
        "run_id": run_id,
        "status": "published",
        "batches": 1,
        "files_seen": 10,
        "files_settling": 0,
        "files_new": 7,
        "files_duplicate": 2,
        "files_quarantined": 1,
        "files_touched": 0,
        "articles": 7,
        "paragraphs_new": 40,
        "occurrences": 52,
        "tags": 90,
        "occurrences_by_kind": {"corpus": 4, "first": 40, "repeat": 8},
        "tags_by_type": {"person": 12, "place": 30, "topic": 48},
        "quarantined": [{"path": "feed/empty.txt", "reason": "empty", "detail": "no text"}],
        "gate": "passed",
        "failed_checks": [],
        "report_path": None,
        "timings": {"gate": 1.2, "tag": 0.4},
    }
    return summary | overrides


def write_run(report_dir: Path, run_id: str, *rows: dict, **overrides) -> Path:
    rows = rows or (check_row("paragraph_length_in_range"),)
    return write_report(
        gate_result(*rows),
        run_id=run_id,
        report_dir=report_dir,
        summary=run_summary(run_id, **overrides),
    )


def index_run_ids(index: str) -> list[str]:
    """The run ids of the index table's rows, top to bottom."""
    return re.findall(r'<tr><td><a href="[^"]*"><code>([^<]*)</code>', index)


def test_index_lists_every_run_newest_first_with_links(tmp_path: Path):
    write_run(tmp_path, "20261102T080000-bbbbbbbb")
    write_run(tmp_path, "20261103T080000-cccccccc")
    write_run(tmp_path, "20261101T080000-aaaaaaaa")
    # An id without a time in it sorts by its started_at.
    write_run(tmp_path, "manual-run", started_at="2026-11-02T12:00:00+00:00")

    index = (tmp_path / "index.html").read_text(encoding="utf-8")

    assert index_run_ids(index) == [
        "20261103T080000-cccccccc",
        "manual-run",
        "20261102T080000-bbbbbbbb",
        "20261101T080000-aaaaaaaa",
    ]
    assert 'href="./20261103T080000-cccccccc.html"' in index
    assert "Runs (4, newest first)" in index


def test_rewriting_a_run_keeps_one_row_and_leaves_no_temporary_files(tmp_path: Path):
    run_id = "20261101T080000-aaaaaaaa"
    write_run(tmp_path, run_id, files_seen=5)
    write_run(tmp_path, run_id, files_seen=10, batches=2)  # after the run's second batch

    index = (tmp_path / "index.html").read_text(encoding="utf-8")

    assert index_run_ids(index) == [run_id]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{run_id}.html",
        f"{run_id}.json",
        "index.html",
    ]
    twin = json.loads((tmp_path / f"{run_id}.json").read_text(encoding="utf-8"))
    assert twin["summary"]["batches"] == 2


def test_run_page_leads_with_the_verdict_and_lists_failures_first(tmp_path: Path):
    rows = (
        check_row("paragraph_hash_not_null"),
        check_row("language_present", success=False, severity="warn"),
        check_row("paragraph_length_in_range", success=False),
    )

    page = write_run(tmp_path, "20261101T080000-aaaaaaaa", *rows, status="gate_failed").read_text(
        encoding="utf-8"
    )

    banner = page[page.index('<header class="banner fail">') : page.index("</header>")]
    assert "GATE FAILED" in banner
    assert "paragraphs_suite_v1.paragraph_length_in_range" in banner
    assert "2 of 10 rows unexpected (20%)" in banner
    assert "language_present" in banner  # the warning is named too
    checks = page[page.index('id="checks"') :]
    names = ["paragraph_length_in_range", "language_present", "paragraph_hash_not_null"]
    positions = [checks.index(f">{name}<") for name in names]
    assert positions == sorted(positions)  # fail, then warn, then the passed check
    not_met = page[page.index('id="not-met"') : page.index('id="quarantined"')]
    assert "Checks not met (2)" in not_met and "paragraph_hash_not_null" not in not_met
    assert "article_id=&#34;a1&#34;, text=&#34;too short&#34;" in not_met  # the example
    for section in ("Quarantined files (1)", "feed/empty.txt", "Tags by type", "by kind"):
        assert section in page


def test_hostile_text_is_escaped_in_run_page_and_index(tmp_path: Path):
    row = check_row(
        f"check {HOSTILE}",
        success=False,
        observed=json.dumps({"error": HOSTILE}),
        examples=json.dumps([HOSTILE, {"text": HOSTILE}]),
    )
    path = write_run(
        tmp_path,
        f"run {HOSTILE}",
        row,
        status=HOSTILE,
        started_at=HOSTILE,
        quarantined=[{"path": f"feed/{HOSTILE}.txt", "reason": HOSTILE, "detail": HOSTILE}],
        duplicate_groups=[
            {"paragraph_hash": HOSTILE, "text": HOSTILE, "occurrences": 3, "articles": 2}
        ],
        batch_shape={HOSTILE: 0.5},
        tags_by_type={HOSTILE: 3},
        **{HOSTILE: HOSTILE},
    )
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    page = path.read_text(encoding="utf-8")

    for text in (page, index):
        for raw in ("<script", "<img", "alert(1)>", '"double"', "'single'"):
            assert raw not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "&#34;double&#34; and &#39;single&#39; quotes" in text
    assert path.parent == tmp_path  # the run id cannot name a file elsewhere


class TagCollector(HTMLParser):
    """Every element and attribute name a browser's parser would see in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_markup_and_template_syntax_in_the_data_stay_text(tmp_path: Path):
    payloads = (SCRIPT, '"><img src=x onerror=alert(1)>', "{{ 7*7 }}")
    hostile = " ".join(payloads)
    row = check_row(
        f"tag_value_in_vocabulary[{hostile}]",
        success=False,
        examples=json.dumps([{"title": hostile, "tag_value": hostile}]),
    )
    path = write_run(
        tmp_path,
        f"20261101T080000-{hostile}",  # the run id is the page's title
        row,
        started_at="2026-11-01T08:00:00+00:00",
        quarantined=[{"path": f"feed/{hostile}.html", "reason": "empty", "detail": hostile}],
        tags_by_type={hostile: 3},
    )
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    page = path.read_text(encoding="utf-8")

    assert "<title>GATE FAILED — nutgraf run 20261101T080000-&lt;script&gt;alert(1)" in page
    for text in (page, index):
        assert SCRIPT not in text and "<img" not in text
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in text
        assert "{{ 7*7 }}" in text and "49" not in text  # shown as typed, never evaluated
        parsed = TagCollector()
        parsed.feed(text)
        assert not parsed.tags & {"script", "img"}
        assert not {a for a in parsed.attributes if a.startswith("on")}
    # Each place the payload lands: the path, the check's name, its example, the tag chart.
    for where in ("<code>feed/", "<code class=name>tag_", "<pre>title=", "Tags by type</h3>"):
        start = page.index(where)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page[start : start + 400], where


def test_summary_without_optional_keys_renders(tmp_path: Path):
    page = write_run(tmp_path, "20261101T080000-aaaaaaaa").read_text(encoding="utf-8")
    bare = write_report(
        gate_result(), run_id="20261102T080000-bbbbbbbb", report_dir=tmp_path, summary={}
    ).read_text(encoding="utf-8")

    assert "Largest duplicate groups" in page and "Not recorded for this run." in page
    assert "Batch shape" not in page
    assert "PASSED" in bare and "No checks ran." in bare
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index_run_ids(index) == ["20261102T080000-bbbbbbbb", "20261101T080000-aaaaaaaa"]


def test_optional_keys_are_shown_when_present(tmp_path: Path):
    page = write_run(
        tmp_path,
        "20261101T080000-aaaaaaaa",
        started_at="2026-11-01T08:00:00+00:00",
        duplicate_groups=[
            {
                "paragraph_hash": "ab" * 32,
                "text": "Follow us on social media.",
                "occurrences": 120,
                "articles": 118,
            }
        ],
        batch_shape={
            "duplicate_file_share": 0.25,
            "mean_paragraph_chars": 312.5,
            "mean_paragraph_chars_ratio": None,  # no earlier batches to compare with
        },
    ).read_text(encoding="utf-8")

    assert "started 2026-11-01T08:00:00+00:00" in page
    assert "Follow us on social media." in page and "118" in page
    assert "25.0%" in page and "312" in page and "mean_paragraph_chars_ratio" not in page


def test_timings_show_cpu_seconds_where_measured(tmp_path: Path):
    plain = write_run(tmp_path, "20261101T080000-aaaaaaaa").read_text(encoding="utf-8")
    measured = write_run(tmp_path, "20261102T080000-bbbbbbbb", cpu_seconds={"gate": 2.5}).read_text(
        encoding="utf-8"
    )

    gate = "<tr><td>gate</td><td class=n>1.200</td><td class=n>2.500</td></tr>"
    assert gate in measured
    assert "<tr><td>tag</td><td class=n>0.400</td><td class=n></td></tr>" in measured
    assert "<tr><td>gate</td><td class=n>1.200</td><td class=n></td></tr>" in plain
    assert "cpu_seconds" not in measured  # shown in the table, not again under other fields


def test_index_skips_files_that_are_not_run_reports(tmp_path: Path):
    old_doc = {  # written before summaries had counts beyond these
        "run_id": "20261030T080000-oooooooo",
        "status": "passed",
        "success": True,
        "failed": [],
        "summary": {"status": "published", "files_seen": 3},
        "results": [],
    }
    (tmp_path / "20261030T080000-oooooooo.json").write_text(json.dumps(old_doc))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "other.json").write_text("[1, 2]")

    write_run(tmp_path, "20261101T080000-aaaaaaaa")

    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index_run_ids(index) == ["20261101T080000-aaaaaaaa", "20261030T080000-oooooooo"]


def test_pages_have_svg_charts_and_are_self_contained(tmp_path: Path):
    write_run(tmp_path, "20261101T080000-aaaaaaaa", files_duplicate=0)
    page = write_run(tmp_path, "20261102T080000-bbbbbbbb").read_text(encoding="utf-8")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")

    assert page.count("<svg") >= 3  # files, occurrences, tags, history
    assert "Recent runs" in page and "this run" in page
    chart = index[index.index("<svg") : index.index("</svg>")]
    for label in ("duplicate-file share", "quarantined-file share", "share of files considered"):
        assert label in chart
    assert "runs, oldest to newest" in chart
    for text in (page, index):
        assert "http://" not in text and "https://" not in text
        assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in text
        assert "<script" not in text and "<link" not in text and "<img" not in text


# --- issue 25: judged vs not judged, open ranges, explained counts, severities -------------------

NOT_JUDGED_NOTE = "not judged: too few new files or published batches so far"


def history_row(name: str, *, success: bool, value: object, **bounds: float) -> dict:
    """A batch-suite row as the gate stores it: the metric's value, its bounds, and the note
    when the value could not be measured."""
    observed: dict[str, object] = {"value": value, **bounds}
    if value is None:
        observed["note"] = NOT_JUDGED_NOTE
    return check_row(
        name,
        success=success,
        suite="batch_suite_v4",
        column_name=name,
        observed=json.dumps(observed),
        unexpected_count=None,
        examples=json.dumps([]),
    )


def check_cells(page: str, name: str) -> str:
    """The table row of the check `name` in the "All checks" table (last table naming it)."""
    rows = re.findall(r"<tr[^>]*>(?:(?!</tr>).)*</tr>", page, flags=re.S)
    found = [r for r in rows if f"<code class=name>{name}</code>" in r]
    assert found, f"no row for {name}"
    return found[-1]


def test_a_check_that_could_not_judge_says_so_with_its_reason_in_grey(tmp_path: Path):
    rows = (
        check_row("paragraph_length_in_range"),
        history_row(
            "repeated_paragraph_share_near_history", success=True, value=None, max_value=0.3
        ),
    )
    page = write_run(tmp_path, "20261104T080000-aaaaaaaa", *rows).read_text()
    row = check_cells(page, "repeated_paragraph_share_near_history")
    assert "not judged" in row and "too few new files or published batches so far" in row
    assert 'class="pill not-judged"' in row  # grey, not the green pill
    assert "pill ok" not in row and "None" not in row
    assert "1 not judged" in page  # and the banner counts it apart from the checks met
    judged = check_cells(page, "paragraph_length_in_range")
    assert 'class="pill ok">ok<' in judged


def test_a_range_with_one_open_end_is_said_in_words(tmp_path: Path):
    rows = (
        history_row(
            "repeated_paragraph_share_at_most_max", success=False, value=0.45, max_value=0.3
        ),
        history_row("mean_paragraph_length_ratio", success=False, value=0.2, min_value=0.5),
        history_row(
            "quarantined_share_in_range", success=True, value=0.2, min_value=0.1, max_value=0.3
        ),
    )
    page = write_run(tmp_path, "20261104T080000-aaaaaaaa", *rows).read_text()
    assert "value 0.45 (at most 0.3)" in page
    assert "value 0.2 (at least 0.5)" in page
    assert "value 0.2 (allowed 0.1–0.3)" in page
    assert "(allowed –" not in page and "– 0.3)" not in page and "allowed None" not in page


def test_every_count_on_the_page_is_explained(tmp_path: Path):
    page = write_run(tmp_path, "20261104T080000-aaaaaaaa", files_touched=10).read_text()
    assert "files whose mtime changed but whose bytes did not" in page
    cards = re.findall(r"<div class=card[^>]*>", page)
    assert cards and all('title="' in c for c in cards)
    legend = re.search(r'<dl class="legend".*?</dl>', page, flags=re.S)
    assert legend is not None
    for label in (
        "files seen",
        "new files",
        "duplicate files",
        "quarantined files",
        "touched",
        "settling",
        "articles",
        "new paragraphs",
        "occurrences",
        "tags",
    ):
        assert f"<dt>{label}</dt>" in legend.group(0), label
    index = (tmp_path / "index.html").read_text()
    headers = re.findall(r'<th scope="col" class=n[^>]*>', index)
    assert headers and all('title="' in th for th in headers)


def test_severities_are_named_as_the_readme_names_them_and_quarantine_agrees_with_the_list(
    tmp_path: Path,
):
    rows = (
        check_row("paragraph_hash_unique", success=False, severity="fail"),
        check_row("language_present", success=False, severity="warn"),
    )
    # One file set aside on reading (empty), no quarantine check failed.
    page = write_run(tmp_path, "20261104T080000-aaaaaaaa", *rows).read_text()
    banner = page[page.index("<header") : page.index("</header>")]
    assert "fail: 1 check not met" in banner and "warn: 1 check not met" in banner
    assert "quarantine: 1 set aside (empty 1)" in banner
    assert "0 quarantine" not in page
    assert "<b>fail</b>" in banner and "<b>warn</b>" in banner
    assert "<b>failed</b>" not in banner and "<b>warning</b>" not in banner


def test_a_reason_not_judged_from_stored_text_is_escaped(tmp_path: Path):
    hostile = history_row("odd_metric", success=True, value=None)
    hostile["observed"] = json.dumps({"value": None, "note": f"not judged: {HOSTILE}"})
    page = write_run(tmp_path, "20261104T080000-aaaaaaaa", hostile).read_text()
    assert SCRIPT not in page and IMG not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
