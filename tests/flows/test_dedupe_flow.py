"""Dedupe through real flow runs: near-copies linked incrementally, the same tables whatever
order the files arrive in, article-level duplicates and version differences."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import flow_settings, query, run_ingest

pytestmark = pytest.mark.usefixtures("prefect_harness")


_WORDS = (
    "council road bridge steel price winter harbour ferry island school library budget plan "
    "minister river flood market share bank energy gas pipeline summit leader talks trade port "
    "strike union worker wage rail fare train station airport runway hospital doctor nurse ward "
    "police court judge trial jury farmer crop harvest weather storm coast village town city "
    "museum theatre concert festival season team match goal coach player league cup final"
).split()


def _para(topic: str, i: int) -> str:
    """A 30-word paragraph of words drawn for (topic, i): unrelated to every other one."""
    rng = random.Random(f"{topic}-{i}")
    words = [rng.choice(_WORDS) for _ in range(30)]
    return f"In {topic} on day {i} the " + " ".join(words) + "."


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def _write(landing: Path, path: str, title: str, paragraphs: list[str]) -> None:
    target = landing / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")


def test_near_copies_are_linked_and_a_run_compares_only_its_new_paragraphs(
    tmp_path: Path, landing: Path
):
    for i in range(6):
        _write(
            landing,
            f"a/2026/03/0{i + 1}/s{i}.txt",
            f"Story {i}",
            [_para(f"t{i}", j) for j in range(3)],
        )
    settings = flow_settings(tmp_path, landing)
    first = run_ingest(settings)
    assert first["near_dup_compared"] == 18 and first["near_dup_linked"] == 0

    original = _para("t0", 1)
    copy = _edit(original, "on day 1", "on day 99")
    fresh = "Library opening hours will stay the same over the winter, the council confirmed."
    _write(landing, "b/2026/03/09/copy.txt", "Copy", [copy, fresh])
    second = run_ingest(settings)

    assert second["near_dup_compared"] == 2  # the two new paragraphs, not the 20 stored
    assert second["near_dup_linked"] == 1
    w = settings.warehouse
    rows = query(
        w,
        "SELECT c.text, o.text, c.similarity FROM paragraphs c JOIN paragraphs o "
        "ON o.paragraph_hash = c.near_dup_of",
    )
    assert [(c, o) for c, o, _ in rows] == [(copy, original)]
    assert rows[0][2] >= 0.8
    groups = query(
        w, "SELECT is_canonical, similarity FROM near_duplicate_groups ORDER BY is_canonical"
    )
    assert groups[1] == (True, 1.0) and groups[0][0] is False
    assert query(w, "SELECT count(*) FROM paragraph_bands") == [(20,)]
    assert query(w, "SELECT DISTINCT shingling, hash_algorithm FROM runs") == [
        ("word-bigrams-lower-alnum_v1", "sha256")
    ]


def _replace(words: list[str], edits: dict[int, str]) -> list[str]:
    return [edits.get(i, word) for i, word in enumerate(words)]


def test_a_copy_of_a_copy_joins_the_group_of_a_canonical_it_never_met(
    tmp_path: Path, landing: Path
):
    """A new paragraph that meets only a stored member of a group (not its canonical, which it
    shares no LSH band with) is linked to the group's canonical, not to the member."""
    from transforms.neardup import BAND_COLUMNS, band_signatures, jaccard

    rng = random.Random("chain")
    words = [rng.choice(_WORDS) for _ in range(40)]
    original = " ".join(words) + "."
    copy = " ".join(_replace(words, {17: "peach", 21: "plum"})) + "."
    copy_of_copy = " ".join(_replace(words, {17: "peach", 21: "plum", 8: "pear", 27: "apple"}))
    copy_of_copy += "."
    # The premise: a chain of two links, whose ends never meet in a band.
    assert jaccard(copy, original) >= 0.8 and jaccard(copy_of_copy, copy) >= 0.8
    bands = band_signatures(
        pl.DataFrame({"paragraph_hash": ["o", "c"], "text": [original, copy_of_copy]}),
        min_words=3,
    )
    assert not any(bands[column][0] == bands[column][1] for column in BAND_COLUMNS)

    settings = flow_settings(tmp_path, landing)
    articles = {"wire": original, "herald": copy, "courier": copy_of_copy}
    for day, (source, paragraph) in enumerate(articles.items(), start=1):
        _write(landing, f"{source}/2026/03/0{day}/s.txt", source, [paragraph, _para(source, 1)])
        summary = run_ingest(settings)
        assert summary["near_dup_linked"] == (day > 1)

    linked = query(
        settings.warehouse,
        "SELECT p.text, c.text FROM paragraphs p JOIN paragraphs c "
        "ON c.paragraph_hash = p.near_dup_of ORDER BY p.similarity DESC",
    )
    assert linked == [(copy, original), (copy_of_copy, original)]


_TABLES = {
    "articles": "SELECT * EXCLUDE (run_id) FROM articles ORDER BY article_id",
    "paragraphs": "SELECT * EXCLUDE (run_id) FROM paragraphs ORDER BY paragraph_hash",
    "occurrences": "SELECT * FROM occurrences ORDER BY article_id, position",
    "bands": "SELECT * EXCLUDE (run_id) FROM paragraph_bands ORDER BY paragraph_hash",
    "tags": "SELECT * EXCLUDE (run_id) FROM paragraph_tags ORDER BY ALL",
}


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    return {name: query(warehouse, sql) for name, sql in _TABLES.items()}


def test_the_same_files_in_any_order_give_identical_tables(tmp_path: Path):
    base = [_para("north", i) for i in range(3)]
    edited = _edit(base[1], "on day 1", "on day 71")
    edited_again = _edit(edited, "In north", "In northern")
    files = {
        "wire/2026/03/01/original.txt": ("Original", base),
        "herald/2026/03/02/copy.txt": ("Copy", [base[0], edited, _para("south", 9)]),
        "courier/2026/03/03/copy-of-copy.txt": ("Copy of copy", [edited_again, _para("east", 4)]),
    }
    together = tmp_path / "together"
    for path, (title, paragraphs) in files.items():
        _write(together, path, title, paragraphs)
    run_ingest(flow_settings(tmp_path, together, "together.duckdb"))

    # The copies arrive first, the original a run later.
    apart = tmp_path / "apart"
    for path, (title, paragraphs) in files.items():
        if "original" not in path:
            _write(apart, path, title, paragraphs)
    settings = flow_settings(tmp_path, apart, "apart.duckdb")
    run_ingest(settings)
    title, paragraphs = files["wire/2026/03/01/original.txt"]
    _write(apart, "wire/2026/03/01/original.txt", title, paragraphs)
    later = run_ingest(settings)

    assert later["near_dup_repointed"] >= 1
    assert _tables(tmp_path / "apart.duckdb") == _tables(tmp_path / "together.duckdb")
    canon = query(
        tmp_path / "apart.duckdb",
        "SELECT DISTINCT o.text FROM paragraphs p JOIN paragraphs o ON o.paragraph_hash = "
        "p.near_dup_of",
    )
    assert canon == [(base[1],)]


def test_article_duplicates_and_version_differences_are_queryable(tmp_path: Path, landing: Path):
    body = [_para("west", i) for i in range(3)]
    _write(landing, "wire/2026/03/01/story.txt", "Bridges will cost more", body)
    _write(landing, "herald/2026/03/02/reissue.txt", "Council counts the cost", body)
    # after the story in path order, so the story is the file it duplicates
    (landing / "zeta").mkdir()
    (landing / "zeta" / "same-bytes.txt").write_bytes(
        (landing / "wire/2026/03/01/story.txt").read_bytes()
    )
    settings = flow_settings(tmp_path, landing)
    run_ingest(settings)

    new_body = [body[0], _edit(body[1], "on day 1", "on day 11"), _para("west", 7)]
    _write(landing, "wire/2026/03/01/story.txt", "Bridges will cost more", new_body)
    run_ingest(settings)

    w = settings.warehouse
    duplicates = query(
        w,
        "SELECT kind, path, duplicate_of_path, title_changed FROM article_duplicates ORDER BY ALL",
    )
    assert duplicates == [
        ("new_version", "wire/2026/03/01/story.txt", "wire/2026/03/01/story.txt", False),
        ("same_body", "herald/2026/03/02/reissue.txt", "wire/2026/03/01/story.txt", True),
        ("same_bytes", "zeta/same-bytes.txt", "wire/2026/03/01/story.txt", None),
    ]
    diff = query(
        w,
        "SELECT change, old_position, new_position "
        "FROM version_diff('wire/2026/03/01/story.txt', 1, 2)",
    )
    assert diff == [("kept", 0, 0), ("changed", 1, 1), ("added", None, 2), ("removed", 2, None)]


SIGN_OFF = "Reporting by Jane Doe; editing by John Smith and the regional news desk team."


def test_a_recurring_sign_off_is_boilerplate_not_syndication(tmp_path: Path, landing: Path):
    for i in range(6):
        body = [_para(f"wire{i}", 1), _para(f"wire{i}", 2), SIGN_OFF]
        _write(landing, f"wire/2026/03/0{i + 1}/s{i}.txt", f"Wire story {i}", body)
    # another outlet runs one wire story whole: real syndication
    _write(landing, "herald/2026/03/09/copy.txt", "Herald copy", [_para("wire0", 1), SIGN_OFF])
    settings = flow_settings(tmp_path, landing, boilerplate_min_articles=5, min_shape_files=5)
    run_ingest(settings)

    w = settings.warehouse
    flagged = query(w, "SELECT source, articles, edge_share FROM boilerplate")
    assert flagged == [("wire", 6, 1.0)]
    syndicated = query(
        w, "SELECT DISTINCT p.text FROM syndication s JOIN paragraphs p USING (paragraph_hash)"
    )
    assert syndicated == [(_para("wire0", 1),)]
    assert query(w, "SELECT shared_paragraphs FROM syndication_pairs") == [(1,)]

    # The next batch's sign-offs are expected repeats: its share of repeats stays at zero.
    for i in range(6, 12):
        body = [_para(f"wire{i}", 1), SIGN_OFF]
        _write(landing, f"wire/2026/03/{i + 10}/s{i}.txt", f"Wire story {i}", body)
    run_ingest(settings)
    shares = query(
        w,
        "SELECT value FROM batch_metrics WHERE metric = 'repeated_paragraph_share' ORDER BY run_id",
    )
    assert shares[-1] == (0.0,)
    assert query(w, "SELECT articles FROM boilerplate") == [(12,)]
