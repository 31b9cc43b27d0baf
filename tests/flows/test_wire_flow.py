"""A wire feed in real flow runs: tables and results load, sign-offs are boilerplate, datelines
and headlines are read, and files without metadata get a source. The copy is written here in
the wire's layout (title line, blank line, indented paragraphs, hard-wrapped lines); no line
comes from a real feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import flow_settings, query, run_ingest

pytestmark = pytest.mark.usefixtures("prefect_harness")

EARNINGS = """EXAMPLEWORKS INC <EXW> 4TH QTR NET

    SPRINGFIELD, Ill., March 3 -
    Shr 41 cts vs 28 cts
    Net 3,112,000 vs 2,086,000
    Revs 61.4 mln vs 55.9 mln
    Year
    Shr 1.52 dlrs vs 1.07 dlrs
    Net 11,508,000 vs 8,121,000
    Revs 240.2 mln vs 213.7 mln
 Reuter
"""

MARKET = """SAMPLE EXCHANGE INDEX AT MIDDAY

    TORONTO, March 4 -
    Composite  3,412.07  up  12.40
    Metals     2,118.55  off  3.21
    Oils       4,006.90  up   0.87
 REUTER
"""

STORY = """LAKESIDE BANCORP <LKB> TO BUY RIVERVIEW UNIT

    PORTLAND, Ore., March 5 - Lakeside Bancorp said it agreed to
buy the savings unit of Riverview Financial Corp for about 40
mln dlrs in cash, subject to approval by regulators.
    Lakeside said the purchase would add eleven branches in the
state and that it expected to close the deal by midyear. Reuter
"""

SECOND = """U.S. FARM GROUP SEEKS WIDER EXPORT AID

    WASHINGTON, March 6 - A farm group asked the Agriculture
Department to widen its export subsidy programme to cover more
grain sales, saying growers faced the lowest prices in years.
    The group said it would take its case to members of Congress
next week.
    (Reporting by Ann Example; Editing by Bo Sample)
"""

LEARNT = "Follow the Example Wire desk for market updates through the trading day."


def _story(i: int, closing: str) -> str:
    return (
        f"COUNTY {i} APPROVES ROAD BUDGET\n\n"
        f"    GREENVILLE, S.C., March {i + 1} - County council {i} approved a road budget of\n"
        f"{i + 3} mln dlrs on Monday after a long debate about repairs.\n"
        f"    The council said work on route {i * 7} would begin in the spring.\n"
        f"    {closing}\n"
    )


def test_a_wire_feed_loads_and_is_read_as_wire_copy(tmp_path: Path, landing: Path):
    (landing / "earnings.txt").write_text(EARNINGS)
    (landing / "market.txt").write_text(MARKET)
    (landing / "story.txt").write_text(STORY)
    nested = landing / "farm-desk" / "1987"
    nested.mkdir(parents=True)
    (nested / "second.txt").write_text(SECOND)

    settings = flow_settings(tmp_path, landing, min_shape_files=1)
    summary = run_ingest(settings)
    w = settings.warehouse

    # 1. Numbers are news: the table and the market report load, tagged, and counted.
    assert summary["status"] == "published"
    assert summary["files_quarantined"] == 0
    assert query(w, "SELECT count(*) FROM articles") == [(4,)]
    tables = query(
        w,
        """SELECT DISTINCT a.path FROM article_tags t JOIN articles a USING (article_id)
           WHERE t.tag_type = 'quality' AND t.tag_value = 'numeric_table' ORDER BY 1""",
    )
    assert tables == [("earnings.txt",), ("market.txt",)]
    (numeric,) = query(w, "SELECT value FROM batch_metrics WHERE metric = 'numeric_article_share'")[
        0
    ]
    assert numeric == pytest.approx(2 / 4)

    # 2. Sources from where the files lie, marked as inferred.
    sources = dict(
        (path, (source, origin))
        for path, source, origin in query(w, "SELECT path, source, source_origin FROM articles")
    )
    assert sources["story.txt"] == ("landing", "landing")
    assert sources["farm-desk/1987/second.txt"] == ("farm-desk", "folder")

    # 3. Sign-offs and credit lines: in their own paragraph or ending the last one.
    signed = query(
        w,
        """SELECT a.path, p.text FROM occurrences o JOIN articles a USING (article_id)
           JOIN paragraphs p USING (paragraph_hash)
           WHERE o.position = a.n_paragraphs - 1
             AND o.paragraph_hash IN (SELECT paragraph_hash FROM boilerplate_paragraphs)
           ORDER BY 1""",
    )
    assert signed == [
        ("earnings.txt", "Reuter"),
        ("farm-desk/1987/second.txt", "(Reporting by Ann Example; Editing by Bo Sample)"),
        ("market.txt", "REUTER"),
        ("story.txt", "Reuter"),
    ]
    # the sign-off was cut from the sentence it ended, which keeps its own text
    assert query(
        w,
        """SELECT count(*) FROM paragraphs
           WHERE text = 'Lakeside said the purchase would add eleven branches in the state and '
                        || 'that it expected to close the deal by midyear.'""",
    ) == [(1,)]
    # ... and a sign-off shared by every story makes no syndication
    assert query(w, "SELECT count(*) FROM syndication") == [(0,)]

    # 4. Datelines, per article, with their country.
    datelines = query(
        w, "SELECT path, city, region, country_code, date_text FROM article_datelines ORDER BY 1"
    )
    assert datelines == [
        ("earnings.txt", "Springfield", "Ill.", "US", "March 3"),
        ("farm-desk/1987/second.txt", "Washington", None, "US", "March 6"),
        ("market.txt", "Toronto", None, "CA", "March 4"),
        ("story.txt", "Portland", "Ore.", "US", "March 5"),
    ]
    # a date without its year leaves published_at where it came from
    assert set(query(w, "SELECT DISTINCT published_at_origin FROM articles")) == {("mtime",)}
    countries = query(
        w,
        """SELECT a.path FROM article_tags t JOIN articles a USING (article_id)
           WHERE t.tag_type = 'place' AND t.country_code = 'US'
           GROUP BY 1 ORDER BY 1""",
    )
    assert countries == [("earnings.txt",), ("farm-desk/1987/second.txt",), ("story.txt",)]

    # 5. Headlines are tagged like text: the US in capitals, tickers with their company.
    title = query(
        w,
        """SELECT t.tag_type, t.tag_value, t.tag_detail, t.country_code
           FROM title_tags t JOIN articles a USING (article_id)
           WHERE a.path IN ('farm-desk/1987/second.txt', 'story.txt')
             AND t.tag_type IN ('place', 'organisation')
           ORDER BY a.path, t.span_start""",
    )
    assert ("place", "US", "country", "US") in title
    assert ("organisation", "LKB", "ticker", None) in title
    assert ("organisation", "Lakeside Bancorp", "ticker_name", None) in title


def test_boilerplate_of_a_plain_folder_is_learnt_across_runs(tmp_path: Path, landing: Path):
    settings = flow_settings(tmp_path, landing, boilerplate_min_articles=5)
    for i in range(3):
        (landing / f"county_{i}.txt").write_text(_story(i, LEARNT))
    run_ingest(settings)
    assert query(settings.warehouse, "SELECT count(*) FROM boilerplate") == [(0,)]

    for i in range(3, 6):
        (landing / f"county_{i}.txt").write_text(_story(i, LEARNT))
    summary = run_ingest(settings)

    assert summary["status"] == "published"
    learnt = query(
        settings.warehouse,
        """SELECT b.source, p.text, b.articles FROM boilerplate b
           JOIN paragraphs p USING (paragraph_hash)""",
    )
    assert learnt == [("landing", LEARNT, 6)]
    assert query(
        settings.warehouse,
        """SELECT count(*) FROM syndication s JOIN paragraphs p USING (paragraph_hash)
           WHERE p.text = ?""".replace("?", f"'{LEARNT}'"),
    ) == [(0,)]
