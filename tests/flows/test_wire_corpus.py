"""The whole reuters-train feed in one real run, judged against Reuters' own labels: what
bench/evaluate-wire reports, held to the wire-feed targets (numbers are news, sign-offs are
boilerplate, countries are found)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from bench.evaluate_wire import (
    MAX_QUARANTINED_SHARE,
    MIN_COUNTRY_RECALL,
    country_recall,
    read_labels,
)
from tests.helpers import corpus, flow_settings, query, run_ingest

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

BROKEN = {"empty", "dq_no_words", "binary", "undecodable", "mojibake", "dq_mojibake", "dq_garbage"}
"""Reasons that say a file is empty or truly broken: nothing else may set a wire story aside."""


def test_the_reuters_feed_loads_and_is_judged_right(tmp_path: Path):
    feed = corpus("reuters-train")
    settings = flow_settings(tmp_path, feed / "articles")
    summary = run_ingest(settings)
    w = settings.warehouse

    assert summary["status"] == "published", summary["failed_checks"]
    # 1. Tables, results and market reports load; only empty or broken files are set aside.
    quarantined = query(w, "SELECT reason_code FROM quarantine")
    assert len(quarantined) <= MAX_QUARANTINED_SHARE * int(summary["files_seen"])
    assert {reason for (reason,) in quarantined} <= BROKEN
    (numeric,) = query(
        w,
        """SELECT count(DISTINCT paragraph_hash) FROM current_tags
           WHERE tag_type = 'quality' AND tag_value = 'numeric_table'""",
    )[0]
    assert numeric > 1000

    # 3. The sign-off that ends most stories is boilerplate, and never syndication.
    (ended, articles) = query(
        w,
        """SELECT count(DISTINCT o.article_id), (SELECT count(*) FROM articles)
           FROM occurrences o JOIN articles a USING (article_id)
           WHERE o.position = a.n_paragraphs - 1
             AND o.paragraph_hash IN (SELECT paragraph_hash FROM boilerplate_paragraphs)""",
    )[0]
    assert ended / articles > 0.75
    assert query(
        w,
        """SELECT count(*) FROM syndication s JOIN paragraphs p USING (paragraph_hash)
           WHERE p.text IN ('Reuter', 'REUTER')""",
    ) == [(0,)]

    # 7. Reuters' PLACES countries are among the stories' tags (title, body, dateline).
    scored, per_place = country_recall(w, read_labels(feed))
    assert scored["found"].mean() >= MIN_COUNTRY_RECALL
    usa = per_place.filter(pl.col("place") == "usa")["recall"].item()
    assert usa >= MIN_COUNTRY_RECALL
