"""Who an article names (the article_entities view) in real flow runs: a person named by
surname alone takes the article's longer name ending in it, article by article, while the
paragraph two articles share keeps one set of stored tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import flow_settings, query, run_ingest

pytestmark = pytest.mark.usefixtures("prefect_harness")

SHARED = "President Reagan said the budget would pass before the summer recess."


def test_a_surname_takes_the_full_name_its_own_article_gives(tmp_path: Path, landing: Path):
    (landing / "full.txt").write_text(
        "Budget talks\n\n"
        "Ronald Reagan met congressional leaders at the White House on Tuesday.\n\n"
        f"{SHARED}\n"
    )
    (landing / "short.txt").write_text(f"Budget vote\n\n{SHARED}\n\nThe vote is due in May.\n")
    settings = flow_settings(tmp_path, landing)
    assert run_ingest(settings)["status"] == "published"

    people = query(
        settings.warehouse,
        """SELECT a.path, e.tag_value, e.mentions, e.resolved_mentions
           FROM article_entities e JOIN articles a USING (article_id)
           WHERE e.tag_type = 'person' ORDER BY ALL""",
    )
    assert people == [("full.txt", "Ronald Reagan", 2, 1), ("short.txt", "Reagan", 1, 0)]
    # the shared paragraph is tagged once, as the tagger read it
    stored = query(
        settings.warehouse,
        f"""SELECT DISTINCT t.tag_value FROM current_tags t JOIN paragraphs p USING (paragraph_hash)
            WHERE p.text = '{SHARED}' AND t.tag_type = 'person'""",
    )
    assert stored == [("Reagan",)]
