"""Re-tagging through real flow runs: a real DuckDB file, the real retag flow under Prefect.

A new tagger version is made the way a developer makes one: its registry entry names it, and the
behaviour changes (a user tags file with a new person, a changed quality threshold).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.settings import Settings
from tests.helpers import (
    SAMPLES,
    NutgrafProcesses,
    flow_settings,
    query,
    run_ingest,
    set_tagger_version,
)
from transforms.errors import UnknownTagger
from transforms.tagging import tagger_versions

pytestmark = pytest.mark.usefixtures("prefect_harness")

NEW_PERSON = "Test Negotiator"
TAGS_FILE = f'[[person]]\nname = "{NEW_PERSON}"\naliases = ["union negotiator"]\n'
OTHER = ("topics", "language", "quality")
# Short, all-caps and short-and-numeric paragraphs: the samples have none to flag.
BRIEFS = (
    "In brief\n\nEnds.\n\nROADWORKS ON THE A64 WILL CLOSE THE BRIDGE ALL WEEKEND, THE COUNCIL "
    "SAID.\n\nUpdated 09:30\n\nThe town library reopens on Monday after a "
    "three-week refit, the council said.\n"
)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Path:
    """A folder holding the samples (`landing`) and a warehouse they were loaded into."""
    work = tmp_path_factory.mktemp("ingested")
    shutil.copytree(SAMPLES, work / "landing")
    (work / "landing" / "valley-post" / "2026-11-06-briefs.txt").write_text(BRIEFS)
    summary = run_ingest(flow_settings(work, work / "landing"))
    assert summary["status"] == "published"
    return work


@pytest.fixture
def work(tmp_path: Path, ingested: Path) -> Path:
    """A copy of the ingested warehouse and its landing folder, for one test to change."""
    shutil.copytree(ingested / "landing", tmp_path / "landing")
    shutil.copy(ingested / "nutgraf.duckdb", tmp_path / "nutgraf.duckdb")
    return tmp_path


def _settings(work: Path, **extra: object) -> Settings:
    # Pages of 7 paragraphs: the samples' ~60 paragraphs take several pages.
    extra.setdefault("retag_chunk_paragraphs", 7)
    return flow_settings(work, work / "landing", **extra)


def _retag(settings: Settings, taggers: tuple[str, ...] | None = None) -> dict[str, object]:
    from flows.retag import retag

    return retag(settings, taggers)


def _tags_file(work: Path) -> Path:
    path = work / "tags.toml"
    path.write_text(TAGS_FILE)
    return path


PARAGRAPHS = "SELECT * FROM paragraphs ORDER BY paragraph_hash"


def test_a_new_entities_version_retags_every_paragraph_and_only_entities(
    work: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = _settings(work, tags_file=_tags_file(work))
    w = settings.warehouse
    paragraphs_before = query(w, PARAGRAPHS)
    tags_before = query(w, "SELECT * FROM paragraph_tags ORDER BY ALL")
    assert query(w, "SELECT * FROM current_tags ORDER BY ALL") == tags_before
    assert NEW_PERSON not in {r[0] for r in query(w, "SELECT tag_value FROM current_tags")}
    (ingest_run,) = {r[0] for r in query(w, "SELECT DISTINCT run_id FROM paragraphs")}
    old = tagger_versions()["entities"]

    set_tagger_version(monkeypatch, "entities", "entities_test2")
    summary = _retag(settings)  # the default: only the tagger whose version changed

    assert summary["status"] == "retagged"
    n_paragraphs = len(paragraphs_before)
    assert summary["paragraphs"] == n_paragraphs and summary["pages"] == -(-n_paragraphs // 7)
    (row,) = summary["taggers"]
    assert (row["tagger"], row["old_versions"], row["new_version"]) == (
        "entities",
        [old],
        "entities_test2",
    )
    run_id = row["run_id"]
    assert run_id.endswith("-entities")
    # New rows: the new version under the retag run; nothing else was added or changed.
    added = query(w, f"SELECT tagger, tagger_version FROM paragraph_tags WHERE run_id = '{run_id}'")
    assert len(added) == row["tags"] > 0
    assert set(added) == {("entities", "entities_test2")}
    assert (
        query(w, f"SELECT * FROM paragraph_tags WHERE run_id <> '{run_id}' ORDER BY ALL")
        == tags_before
    )
    assert query(w, PARAGRAPHS) == paragraphs_before
    assert not (work / "nutgraf.duckdb.retag").exists()  # the pages' files are gone
    retag_runs = query(
        w, "SELECT run_id, tagger, tagger_version, paragraphs, tags, ingest_runs FROM retag_runs"
    )
    assert retag_runs == [
        (run_id, "entities", "entities_test2", n_paragraphs, row["tags"], [ingest_run])
    ]

    # current_tags: the new version's rows for entities, the ingest's rows for the others.
    current = query(
        w, "SELECT tagger, tagger_version, run_id, count(*) FROM current_tags GROUP BY ALL"
    )
    by_tagger = {tagger: (version, run) for tagger, version, run, _ in current}
    assert by_tagger["entities"] == ("entities_test2", run_id)
    for tagger in OTHER:
        assert by_tagger[tagger] == (tagger_versions()[tagger], ingest_run)
    assert query(w, "SELECT * FROM current_tags WHERE tagger <> 'entities' ORDER BY ALL") == [
        t
        for t in tags_before
        if t[9] != "entities"  # column 9: tagger
    ]
    mentions = query(w, "SELECT DISTINCT tagger_version FROM entity_mentions")
    assert mentions == [("entities_test2",)]
    assert (NEW_PERSON,) in query(w, "SELECT DISTINCT tag_value FROM entity_mentions")

    # Comparing the versions in SQL: the person the tags file adds, and nothing else.
    diff = query(
        w,
        "SELECT tag_type, tag_value, change, p.text[span_start + 1:span_end] "
        f"FROM tag_diff('entities', '{old}', 'entities_test2') "
        "JOIN paragraphs p USING (paragraph_hash)",
    )
    assert diff == [("person", NEW_PERSON, "added", "union negotiator")]
    back = query(
        w, f"SELECT tag_value, change FROM tag_diff('entities', 'entities_test2', '{old}')"
    )
    assert back == [(NEW_PERSON, "removed")]  # the other way round

    # Versions equal again: nothing to retag, nothing written.
    again = _retag(settings)
    assert again["status"] == "nothing_to_retag" and again["taggers"] == []
    assert query(w, "SELECT count(*) FROM retag_runs") == [(1,)]


def test_a_version_that_emits_no_tag_hides_the_old_ones(
    work: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = _settings(work)
    w = settings.warehouse
    short = set(query(w, "SELECT paragraph_hash FROM paragraph_tags WHERE tag_value = 'too_short'"))
    assert len(short) == 2  # "Ends.", "Updated 09:30"
    old = tagger_versions()["quality"]
    # quality_test2 flags no paragraph as too short.
    monkeypatch.setattr("transforms.tagging.quality.MIN_WORDS", 0)
    set_tagger_version(monkeypatch, "quality", "quality_test2")
    summary = _retag(settings, ("quality",))
    (row,) = summary["taggers"]
    assert row["old_versions"] == [old] and row["new_version"] == "quality_test2"

    assert query(w, "SELECT count(*) FROM current_tags WHERE tag_value = 'too_short'") == [(0,)]
    assert query(w, "SELECT count(*) FROM paragraph_tags WHERE tag_value = 'too_short'") == [
        (len(short),)
    ]  # the old rows stay, out of force
    removed = query(
        w,
        f"SELECT paragraph_hash, change FROM tag_diff('quality', '{old}', 'quality_test2') "
        "WHERE tag_value = 'too_short'",
    )
    assert {h for h, _ in removed} == {h for (h,) in short}
    assert {c for _, c in removed} == {"removed"}
    # Going back to the old version is a new run whose rows are the old ones again.
    monkeypatch.setattr("transforms.tagging.quality.MIN_WORDS", 5)
    set_tagger_version(monkeypatch, "quality", old)
    back = _retag(settings)
    assert [r["tagger"] for r in back["taggers"]] == ["quality"]
    assert back["taggers"][0]["old_versions"] == ["quality_test2"]
    assert (
        set(query(w, "SELECT paragraph_hash FROM current_tags WHERE tag_value = 'too_short'"))
        == short
    )


def test_an_ingest_after_a_retag_keeps_its_own_tags(work: Path, monkeypatch: pytest.MonkeyPatch):
    settings = _settings(work, tags_file=_tags_file(work))
    w = settings.warehouse
    set_tagger_version(monkeypatch, "entities", "entities_test2")
    retag_run = _retag(settings)["taggers"][0]["run_id"]  # type: ignore[index]

    story = work / "landing" / "harbour-times" / "2026-11-10-talks.txt"
    story.write_text(
        "Port talks resume\n\nThe union negotiator met port managers in Rotterdam on Tuesday "
        "as both sides sought to end the strike.\n"
    )
    summary = run_ingest(settings)
    assert summary["status"] == "published" and summary["paragraphs_new"] == 1
    (new_run,) = query(
        w, "SELECT run_id FROM runs WHERE status = 'published' AND paragraphs_new = 1"
    )
    new_run = new_run[0]
    mine = query(
        w,
        "SELECT DISTINCT t.tagger, t.tagger_version, t.run_id FROM current_tags t "
        f"JOIN paragraphs p USING (paragraph_hash) WHERE p.run_id = '{new_run}'",
    )
    assert {"entities", "language"} <= {tagger for tagger, _, _ in mine}
    assert all(v == tagger_versions()[tagger] and run == new_run for tagger, v, run in mine)
    assert (NEW_PERSON,) in query(
        w,
        "SELECT tag_value FROM current_tags t JOIN paragraphs p USING (paragraph_hash) "
        f"WHERE p.run_id = '{new_run}' AND t.tag_type = 'person'",
    )
    # The older paragraphs keep the retag's entity rows.
    older = query(
        w,
        "SELECT DISTINCT t.run_id FROM current_tags t JOIN paragraphs p USING (paragraph_hash) "
        f"WHERE p.run_id <> '{new_run}' AND t.tagger = 'entities'",
    )
    assert older == [(retag_run,)]
    # Every paragraph's entities are of the code's version: nothing to retag.
    assert _retag(settings)["status"] == "nothing_to_retag"


def test_a_language_retag_changes_only_the_language_column(
    work: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = _settings(work)
    w = settings.warehouse
    others = "SELECT * EXCLUDE (language) FROM paragraphs ORDER BY paragraph_hash"
    before = query(w, others)
    set_tagger_version(monkeypatch, "language", "language_test2")
    summary = _retag(settings)
    assert [r["tagger"] for r in summary["taggers"]] == ["language"]
    assert query(w, others) == before
    # paragraphs.language says what the current language tag says.
    mismatched = query(
        w,
        "SELECT count(*) FROM paragraphs p LEFT JOIN (SELECT * FROM current_tags "
        "WHERE tagger = 'language') t USING (paragraph_hash) "
        "WHERE p.language IS DISTINCT FROM t.tag_value",
    )
    assert mismatched == [(0,)]
    versions = query(
        w, "SELECT DISTINCT tagger_version FROM current_tags WHERE tagger = 'language'"
    )
    assert versions == [("language_test2",)]


def test_unknown_taggers_are_refused(work: Path, capsys: pytest.CaptureFixture[str]):
    settings = _settings(work)
    with pytest.raises(UnknownTagger, match="'sentiment'.*entities, topics, language, quality"):
        _retag(settings, ("entities", "sentiment"))
    from flows.cli import main

    code = main(["retag", "--tagger", "sentiment", "--warehouse", str(settings.warehouse)])
    assert code == 2
    assert "unknown tagger 'sentiment'" in capsys.readouterr().err
    assert query(settings.warehouse, "SELECT count(*) FROM retag_runs") == [(0,)]


def test_a_tags_file_topic_outside_the_vocabulary_stops_the_retag(work: Path):
    rules = work / "tags.toml"
    rules.write_text('[[topic]]\nkeyword = "strike"\ntopic = "labour-disputes-typo"\nweight = 5\n')
    settings = _settings(work, tags_file=rules)
    before = query(settings.warehouse, "SELECT count(*) FROM paragraph_tags")
    from transforms.errors import InvalidTags

    with pytest.raises(InvalidTags, match="labour-disputes-typo"):
        _retag(settings, ("topics",))
    assert query(settings.warehouse, "SELECT count(*) FROM paragraph_tags") == before
    assert query(settings.warehouse, "SELECT count(*) FROM retag_runs") == [(0,)]


SIGN_OFF = "Reporting by Jane Doe; editing by John Smith and the regional news desk team."


def test_boilerplate_is_a_current_quality_flag(tmp_path: Path, landing: Path):
    for i in range(5):
        body = (
            f"Wire story {i}\n\nThe harbour board met on day {i} to discuss fees.\n\n{SIGN_OFF}\n"
        )
        (landing / "wire" / f"2026-03-0{i + 1}-s{i}.txt").parent.mkdir(exist_ok=True)
        (landing / "wire" / f"2026-03-0{i + 1}-s{i}.txt").write_text(body)
    settings = flow_settings(tmp_path, landing, boilerplate_min_articles=5, min_shape_files=5)
    run_ingest(settings)
    rows = query(
        settings.warehouse,
        "SELECT p.text, t.tag_detail, t.score, t.tagger, t.tagger_version FROM current_tags t "
        "JOIN paragraphs p USING (paragraph_hash) WHERE t.tag_value = 'likely_boilerplate'",
    )
    assert rows == [(SIGN_OFF, "wire", 5.0, "boilerplate", "boilerplate_v1")]
    # It is never stored as a tag: it follows the boilerplate table.
    assert query(
        settings.warehouse,
        "SELECT count(*) FROM paragraph_tags WHERE tag_value = 'likely_boilerplate'",
    ) == [(0,)]


def test_article_topics_and_languages(work: Path):
    w = work / "nutgraf.duckdb"
    topics = query(w, "SELECT article_id, topic, score, share, rank FROM article_topics")
    assert topics
    expected = query(
        w,
        "SELECT o.article_id, t.tag_value, sum(t.score) FROM occurrences o "
        "JOIN paragraph_tags t USING (paragraph_hash) "
        "WHERE t.tag_type = 'topic' AND t.tag_value NOT LIKE '%/%' GROUP BY ALL",
    )
    assert {(a, t): s for a, t, s, _, _ in topics} == pytest.approx(
        {(a, t): s for a, t, s in expected}
    )
    by_article: dict[str, list[tuple]] = {}
    for article, topic, score, share, rank in topics:
        by_article.setdefault(article, []).append((rank, -score, topic, share))
    for rows in by_article.values():
        rows.sort()
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert rows == sorted(rows, key=lambda r: (r[1], r[2]))  # score down, then topic
        assert sum(r[3] for r in rows) == pytest.approx(1.0)

    languages = query(w, "SELECT article_id, language, chars, share, rank FROM article_languages")
    firsts = {a: lang for a, lang, _, _, rank in languages if rank == 1}
    stored = dict(query(w, "SELECT article_id, language FROM articles WHERE language IS NOT NULL"))
    assert firsts == stored
    for article in stored:
        shares = [s for a, _, _, s, _ in languages if a == article]
        assert sum(shares) == pytest.approx(1.0)


# --- a retag killed half-way ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "point",
    ["retag:page#2", "retag:insert_tags#2", "retag:update_languages", "retag:before-commit"],
)
def test_a_retag_killed_half_way_changes_nothing(
    point: str, work: Path, processes: NutgrafProcesses
):
    w = work / "nutgraf.duckdb"
    tables = {
        "paragraph_tags": "SELECT * FROM paragraph_tags ORDER BY ALL",
        "retag_runs": "SELECT * FROM retag_runs ORDER BY ALL",
        "paragraphs": PARAGRAPHS,
    }
    before = {name: query(w, sql) for name, sql in tables.items()}
    env = {
        "NUTGRAF_RETAG_CHUNK_PARAGRAPHS": "7",
        "NUTGRAF_FAULT_POINTS": json.dumps([f"kill@{point}"]),
    }
    argv = ["retag", "--tagger", "quality", "--tagger", "language", "--warehouse", str(w)]
    assert processes.run(argv, cwd=work, env=env, output=work / "out.txt") == -9
    assert {name: query(w, sql) for name, sql in tables.items()} == before
    assert (work / "nutgraf.duckdb.retag").is_dir()  # the pages' rows, left by the kill

    env.pop("NUTGRAF_FAULT_POINTS")
    assert processes.run(argv, cwd=work, env=env, output=work / "out.txt") == 0, (
        work / "out.txt"
    ).read_text()
    assert query(w, "SELECT tagger FROM retag_runs ORDER BY ALL") == [("language",), ("quality",)]
    assert "re-tagged" in (work / "out.txt").read_text()
    assert not (work / "nutgraf.duckdb.retag").exists()
