"""The gate inside real flow runs: quarantine publishes the rest, a bad batch shape publishes
nothing, every check leaves a dq_results row, and Prefect shows the run as artifacts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from expectations.gate import Thresholds, build_suites
from tests.helpers import flow_settings, query, read_counts, run_ingest
from transforms.gazetteer import load_gazetteer, vocabulary

pytestmark = pytest.mark.usefixtures("prefect_harness")

SHARED = "The council said the new budget would be published in full on its website next week."
NEAR = (
    "Engineers from the water board inspected every pumping station along the river on Tuesday "
    "and found that three of them needed new motors before the winter storms arrive in {}."
)


def _good_article(i: int, *extra: str) -> str:
    paragraphs = [
        f"Councillors in district {i} approved a budget of {i * 7 + 3} million pounds on "
        f"Monday after a debate that lasted {i + 2} hours.",
        f"The leader of group {i} said residents of ward {i * 3} would see road repairs begin "
        f"in spring, and that libraries would keep their opening hours.",
        *extra,
    ]
    return f"Budget story number {i}\n\n" + "\n\n".join(paragraphs) + "\n"


def _n_checks() -> int:
    suites = build_suites(vocabulary(load_gazetteer()), Thresholds())
    return sum(len(suite.checks) for suite in suites)


def test_quarantine_sets_bad_articles_aside_and_publishes_the_rest(tmp_path: Path, landing: Path):
    for i in range(11):
        extra = (SHARED,) if i == 0 else (NEAR.format("December"),) if i == 5 else ()
        (landing / f"good_{i:02d}.txt").write_text(_good_article(i, *extra))
    # Sorted first, so it is the first to hold SHARED: once it is set aside, good_00 is.
    markup = landing / "a_markup.txt"  # pure markup, nothing a browser would run
    markup.write_text(
        "Scraped page\n\n"
        + SHARED
        + '\n\n<div class="ad-slot"><img src="ad.png"></div>\n\n'
        + "A paragraph of real words that only this page holds, about the weather today.\n\n"
        + NEAR.format("November")
        + "\n"
    )
    # Older, so its near copy of good_05's paragraph would be the canonical one of the two.
    os.utime(markup, (markup.stat().st_mtime - 86_400,) * 2)
    (landing / "table.txt").write_text("2024 | 13.5 | 14.2 | 99.1 | 0.4\n" * 20)
    (landing / "blank.txt").write_text("  \n\n\u200b\n")  # decodes, holds no paragraph

    settings = flow_settings(tmp_path, landing)
    summary = run_ingest(settings)
    w = settings.warehouse

    assert summary["status"] == "published"
    assert summary["gate"] == "passed"
    assert summary["files_quarantined"] == 3
    assert read_counts(w)["articles"] == 11
    assert sorted(query(w, "SELECT path, reason_code, rule FROM quarantine")) == [
        ("a_markup.txt", "dq_pure_markup", "paragraphs_suite_v4.not_pure_markup"),
        ("blank.txt", "empty", "articles_suite_v4.not_empty_after_splitting"),
        ("table.txt", "dq_no_words", "articles_suite_v4.has_words"),
    ]
    assert query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%<div%'") == [(0,)]
    assert query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%weather today%'") == [(0,)]
    # The shared paragraph still loads, first seen in the article that was kept.
    assert query(
        w,
        f"""SELECT a.path FROM paragraphs p JOIN articles a ON a.article_id = p.first_article_id
            WHERE p.text = '{SHARED}'""",
    ) == [("good_00.txt",)]
    assert query(w, "SELECT count(*) FROM occurrences WHERE kind <> 'first'") == [
        (0,)
    ]  # without the markup page, nothing repeats
    # Near duplicates are linked beside the gate on the whole batch; once the gate trimmed the
    # batch they are linked again, so good_05's paragraph has no link to the page set aside.
    assert query(w, "SELECT count(*) FROM paragraphs WHERE near_dup_of IS NOT NULL") == [(0,)]
    assert query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%storms arrive%'") == [(1,)]
    assert query(
        w,
        """SELECT expectation, success, unexpected_count FROM dq_results
           WHERE severity = 'quarantine' AND NOT success ORDER BY 1""",
    ) == [
        ("has_words", False, 2),  # the blank file has no letters either
        ("not_empty_after_splitting", False, 1),
        ("not_pure_markup", False, 1),
    ]
    # every expectation of the run is one row, and all fail-severity ones passed
    assert query(w, "SELECT count(*) FROM dq_results") == [(_n_checks(),)]
    assert query(w, "SELECT count(*) FROM dq_results WHERE severity = 'fail' AND NOT success") == [
        (0,)
    ]
    metrics = dict(query(w, "SELECT metric, value FROM batch_metrics"))
    assert metrics["n_files"] == 14
    assert metrics["empty_article_share"] == pytest.approx(1 / 14)
    assert metrics["language_share:en"] == 1.0


BOILERPLATE = [
    "Sign up for our newsletter to get the top stories in your inbox every morning.",
    "Follow us on social media for live updates throughout the day and evening.",
    "Copyright The Daily Example. All rights reserved. Reproduction is prohibited.",
]


def _boilerplate_feed(landing: Path) -> None:
    for i in range(12):
        (landing / f"page_{i:02d}.txt").write_text(
            f"Page {i}\n\n" + "\n\n".join(BOILERPLATE) + "\n"
        )


def test_a_boilerplate_feed_fails_the_batch_and_publishes_nothing(tmp_path: Path, landing: Path):
    _boilerplate_feed(landing)
    settings = flow_settings(tmp_path, landing)
    summary = run_ingest(settings)
    w = settings.warehouse

    assert summary["status"] == "gate_failed"
    assert "batch_suite_v4.repeated_paragraph_share_at_most_max" in summary["failed_checks"]
    counts = read_counts(w)
    assert counts["articles"] == counts["paragraphs"] == counts["occurrences"] == 0
    assert counts["batch_metrics"] == 0  # only published batches make history
    (observed,) = query(
        w,
        """SELECT observed->>'value' FROM dq_results
           WHERE expectation = 'repeated_paragraph_share_at_most_max' AND NOT success""",
    )[0]
    assert float(observed) == pytest.approx(33 / 36)
    report = Path(str(summary["report_path"])).read_text()
    assert "repeated_paragraph_share_at_most_max" in report


def test_a_mojibake_feed_fails_the_batch_with_the_reason_named(tmp_path: Path, landing: Path):
    for i in range(12):
        (landing / f"story_{i:02d}.txt").write_text(
            f"Story {i}\n\nThe cafÃ© owner said the councilâ€™s plan was a rÃ©sumÃ© of old "
            f"promises, number {i}, and that Ã©lections would tell.\n"
        )

    summary = run_ingest(flow_settings(tmp_path, landing))

    assert summary["status"] == "gate_failed"
    assert {
        "batch_suite_v4.mojibake_share_at_most_max",
        "batch_suite_v4.quarantined_share_at_most_max",
    } <= set(summary["failed_checks"])
    assert {q["reason"] for q in summary["quarantined"]} == {"mojibake"}


def test_a_run_stopped_by_the_gate_says_which_batches_it_published(
    tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from flows.cli import main

    for i in range(12):  # the first batch: good articles
        (landing / f"a_good_{i:02d}.txt").write_text(_good_article(i))
    for i in range(12):  # the second: a feed turned to mojibake
        (landing / f"b_story_{i:02d}.txt").write_text(
            f"Story {i}\n\nThe cafÃ© owner said the councilâ€™s plan was a rÃ©sumÃ© of old "
            f"promises, number {i}, and that Ã©lections would tell.\n"
        )
    monkeypatch.setenv("NUTGRAF_BATCH_FILES", "12")
    monkeypatch.setenv("NUTGRAF_SETTLE_SECONDS", "0")
    warehouse = tmp_path / "nutgraf.duckdb"

    code = main(
        ["run", "--landing", str(landing), "--warehouse", str(warehouse)]
        + ["--reports", str(tmp_path / "reports")]
    )

    out = capsys.readouterr().out
    assert code == 3
    assert "1 batch published before the gate stopped the run" in out
    assert "nothing was published" not in out
    assert query(warehouse, "SELECT count(*) FROM articles") == [(12,)]


def test_a_run_shows_its_summary_and_checks_as_prefect_artifacts(tmp_path: Path, landing: Path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.ingest import ARTIFACT_CHECKS_KEY, ARTIFACT_SUMMARY_KEY

    for i in range(3):
        (landing / f"good_{i:02d}.txt").write_text(_good_article(i))
    (landing / "table.txt").write_text("1 | 2 | 3\n" * 10)
    summary = run_ingest(flow_settings(tmp_path, landing))
    assert summary["status"] == "published"

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[ARTIFACT_SUMMARY_KEY, ARTIFACT_CHECKS_KEY])
            ),
            sort="CREATED_DESC",
        )
    latest = {}
    for artifact in found:
        latest.setdefault(artifact.key, artifact)
    markdown = latest[ARTIFACT_SUMMARY_KEY]
    assert markdown.type == "markdown"
    assert str(summary["run_id"]) in markdown.data
    assert "has_words" in markdown.data
    assert "table.txt" in markdown.data
    table = latest[ARTIFACT_CHECKS_KEY]
    assert table.type == "table"
    assert "has_words" in str(table.data)


def test_gate_thresholds_are_settings(tmp_path: Path, landing: Path):
    """The feed that fails at the default max_repeated_share (0.8) publishes at 0.95."""
    _boilerplate_feed(landing)

    summary = run_ingest(flow_settings(tmp_path, landing, max_repeated_share=0.95))

    assert summary["status"] == "published"
    assert read_counts(tmp_path / "nutgraf.duckdb")["articles"] == 12


def test_a_script_inside_a_paragraph_sets_its_article_aside(tmp_path: Path, landing: Path):
    for i in range(3):
        (landing / f"good_{i:02d}.txt").write_text(_good_article(i))
    script = 'The page title changed <script>document.title="x"</script> after the vote.'
    (landing / "scripted.txt").write_text(_good_article(7, script))

    settings = flow_settings(tmp_path, landing)
    summary = run_ingest(settings)
    w = settings.warehouse

    assert summary["status"] == "published"
    assert query(w, "SELECT path, reason_code, rule FROM quarantine") == [
        ("scripted.txt", "dq_active_content", "articles_suite_v4.no_active_content")
    ]
    assert read_counts(w)["articles"] == 3
    assert query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%<script>%'") == [(0,)]


def test_inline_markup_loads_as_written_and_is_tagged(tmp_path: Path, landing: Path):
    for i in range(3):
        (landing / f"good_{i:02d}.txt").write_text(_good_article(i))
    bold = "The mayor called the plan <b>bold</b> and promised a vote before the summer."
    (landing / "bold.txt").write_text(_good_article(8, bold))

    settings = flow_settings(tmp_path, landing)
    summary = run_ingest(settings)
    w = settings.warehouse

    assert summary["status"] == "published"
    assert query(w, "SELECT count(*) FROM quarantine") == [(0,)]
    assert read_counts(w)["articles"] == 4
    # the text keeps its markup; the tag says which element it holds
    assert query(
        w,
        """SELECT t.tag_detail, t.tagger_version FROM paragraph_tags t
           JOIN paragraphs p ON p.paragraph_hash = t.paragraph_hash
           WHERE t.tag_type = 'quality' AND t.tag_value = 'markup'""",
    ) == [("b", "quality_v3")]
    assert query(w, "SELECT count(*) FROM paragraphs WHERE text LIKE '%plan <b>bold</b> and%'") == [
        (1,)
    ]
