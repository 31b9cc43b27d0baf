"""bench/evaluate_wire.py: how nutgraf reads a real wire feed, judged against the feed's labels.

Usage: python3 -m uv run --frozen python bench/evaluate_wire.py [--corpora PATH] [--write FILE]
       (bench/evaluate-wire runs it and writes EVALUATION-WIRE.md)

The feed is ``reuters-train/articles/*.txt`` of the shared corpora (``--corpora``, default
NUTGRAF_CORPORA or ../shared/corpora beside the repository; read at run time, never copied):
Reuters stories of 1987 in their wire layout, with Reuters' own labels per story in
``metadata.jsonl``. The script runs ``nutgraf run`` on the folder exactly as a user would (a
fresh warehouse in a temporary folder, Prefect's ephemeral mode) and then reads the warehouse:

1. **Quarantine**: the share of files set aside, by reason, and every one of them listed.
2. **Boilerplate**: the ten paragraphs held by most articles among those the warehouse calls
   boilerplate (by rule: a sign-off or credit line; or learnt per source), with how each was
   found.
3. **Datelines**: stories whose first paragraph's dateline was recognised, with a country, and
   the most frequent dateline places.
4. **Country recall** against Reuters' PLACES: each label is mapped to an ISO 3166 code by
   ``bench/data/reuters_places.csv`` (labels that are no country are not scored); a label is
   found when the story's tags (``article_tags``: title and body) or its dateline name that
   country. Overall (over labels) and per top-10 place (over stories).
5. **Topic agreement**: Reuters' ten most frequent topics mapped to IPTC by
   ``bench/data/reuters_topics.csv``; a story agrees when the mapped topic is among the
   article's first two topics at the mapped level (``bench/wire_topics.py``).
6. **Duplicates**: byte-identical files and re-issued stories with the same body.

Exit status 1 when a target is missed: quarantine over 1% of the files, country recall under
0.90 overall or for the USA, topic agreement under 85%.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.wire_topics import (  # noqa: E402
    OVERALL_STRICT,
    REUTERS_TOPIC,
    read_mapping,
    topic_agreement,
)
from warehouse.queries import run_readonly_query  # noqa: E402

DEFAULT_CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))
PLACES_MAP = HERE / "data" / "reuters_places.csv"
TOPICS_MAP = HERE / "data" / "reuters_topics.csv"
MAX_QUARANTINED_SHARE = 0.01
MIN_COUNTRY_RECALL = 0.90
MIN_TOPIC_AGREEMENT = 0.85
TOP = 10

PATH = "path"
PLACE = "place"
ISO2 = "iso2"


def run_nutgraf(landing: Path, workdir: Path) -> tuple[dict, float, int]:
    """`nutgraf run --json` on the folder into a fresh warehouse: (summary, seconds, exit)."""
    command = [
        sys.executable,
        "-m",
        "flows.cli",
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(workdir / "wire.duckdb"),
        "--reports",
        str(workdir / "reports"),
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if not done.stdout.strip():
        raise SystemExit(f"nutgraf run printed no summary (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout), seconds, done.returncode


def read_labels(feed: Path) -> pl.DataFrame:
    """metadata.jsonl -> PATH (as the warehouse names it), places, topics, people, orgs."""
    labels = pl.read_ndjson(feed / "metadata.jsonl")
    return labels.select(
        pl.col("file").str.strip_prefix("articles/").alias(PATH),
        pl.col("places"),
        pl.col("topics"),
        pl.col("people"),
        pl.col("orgs"),
    )


def _table(frame: pl.DataFrame) -> str:
    """A frame as a markdown table."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = [
        "| " + " | ".join("" if v is None else _cell(v) for v in row) + " |"
        for row in frame.iter_rows()
    ]
    return "\n".join([header, rule, *rows])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def quarantine_section(w: Path, n_files: int) -> tuple[str, bool]:
    rows = run_readonly_query(
        w,
        """SELECT path, reason_code AS reason, detail FROM quarantine
           WHERE released_at IS NULL ORDER BY path""",
    )
    share = _share(rows.height, n_files)
    passed = share <= MAX_QUARANTINED_SHARE
    by_reason = rows.group_by("reason").len("files").sort("files", descending=True)
    lines = [
        "## Quarantine",
        "",
        f"**{rows.height:,} of {n_files:,} files set aside ({share:.2%}; target at most "
        f"{MAX_QUARANTINED_SHARE:.0%})**: {'met' if passed else 'MISSED'}.",
        "",
    ]
    if rows.height:
        lines += [_table(by_reason), "", "Every file set aside:", "", _table(rows)]
    return "\n".join(lines), passed


def boilerplate_section(w: Path) -> str:
    top = run_readonly_query(
        w,
        f"""WITH b AS (
                SELECT paragraph_hash,
                       bool_or(tagger = 'quality') AS by_rule,
                       bool_or(tagger = 'boilerplate') AS learnt
                FROM current_tags
                WHERE tag_type = 'quality' AND tag_value = 'likely_boilerplate'
                GROUP BY paragraph_hash)
            SELECT p.text, count(DISTINCT o.article_id) AS articles,
                   CASE WHEN b.by_rule AND b.learnt THEN 'rule and learnt'
                        WHEN b.by_rule THEN 'rule' ELSE 'learnt' END AS found_by
            FROM b JOIN paragraphs p USING (paragraph_hash)
            JOIN occurrences o USING (paragraph_hash)
            GROUP BY ALL ORDER BY articles DESC, p.text LIMIT {TOP}""",
    )
    ended = run_readonly_query(
        w,
        """SELECT count(DISTINCT o.article_id) AS n,
                  (SELECT count(*) FROM articles) AS articles
           FROM occurrences o JOIN articles a USING (article_id)
           WHERE o.position = a.n_paragraphs - 1
             AND o.paragraph_hash IN (SELECT paragraph_hash FROM boilerplate_paragraphs)""",
    ).row(0)
    return "\n".join(
        [
            "## Boilerplate",
            "",
            f"{ended[0]:,} of {ended[1]:,} stories ({_share(ended[0], ended[1]):.1%}) end with "
            "a paragraph the warehouse calls boilerplate (kept out of syndication and of the "
            "gate's repeated share). The ten held by most stories:",
            "",
            _table(top),
        ]
    )


def dateline_section(w: Path) -> str:
    counts = run_readonly_query(
        w,
        """SELECT count(*) AS articles, count(dateline) AS datelines,
                  count(dateline_country) AS with_country, count(dateline_date) AS with_date
           FROM articles""",
    ).row(0, named=True)
    top = run_readonly_query(
        w,
        f"""SELECT city, region, country_code, count(*) AS stories FROM article_datelines
            GROUP BY ALL ORDER BY stories DESC, city LIMIT {TOP}""",
    )
    n = counts["articles"]
    return "\n".join(
        [
            "## Datelines",
            "",
            f"Recognised in {counts['datelines']:,} of {n:,} stories "
            f"({_share(counts['datelines'], n):.1%}); with a country "
            f"{counts['with_country']:,} ({_share(counts['with_country'], n):.1%}); with a date "
            f"{counts['with_date']:,}. The most frequent places:",
            "",
            _table(top),
        ]
    )


def country_recall(w: Path, labels: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(every scored label: PATH, PLACE, ISO2, found; per place: PLACE, ISO2, stories,
    recall, most stories first) for the stories the warehouse loaded."""
    mapping = pl.read_csv(PLACES_MAP, comment_prefix="#").select(
        pl.col("reuters_code").alias(PLACE), pl.col(ISO2)
    )
    gold = (
        labels.select(PATH, pl.col("places").alias(PLACE))
        .explode(PLACE)
        .drop_nulls(PLACE)
        .join(mapping.drop_nulls(ISO2), on=PLACE, how="inner")
    )
    found = run_readonly_query(
        w,
        """SELECT DISTINCT a.path, t.country_code AS iso2
           FROM article_tags t JOIN articles a USING (article_id)
           WHERE t.tag_type = 'place' AND t.country_code IS NOT NULL
           UNION
           SELECT path, dateline_country FROM articles WHERE dateline_country IS NOT NULL""",
    ).with_columns(pl.lit(True).alias("found"))
    loaded = run_readonly_query(w, "SELECT DISTINCT path FROM articles")
    scored = (
        gold.join(loaded, on=PATH, how="semi")
        .join(found, on=[PATH, ISO2], how="left")
        .with_columns(pl.col("found").fill_null(False))
    )
    per_place = (
        scored.group_by(PLACE, ISO2)
        .agg(pl.len().alias("stories"), pl.col("found").mean().alias("recall"))
        .sort("stories", PLACE, descending=[True, False])
    )
    return scored, per_place


def country_section(w: Path, labels: pl.DataFrame) -> tuple[str, bool]:
    scored, per_place = country_recall(w, labels)
    per_place = per_place.head(TOP)
    overall = float(scored["found"].mean() or 0.0)
    usa = per_place.filter(pl.col(PLACE) == "usa")["recall"]
    usa_recall = float(usa[0]) if usa.len() else 0.0
    passed = overall >= MIN_COUNTRY_RECALL and usa_recall >= MIN_COUNTRY_RECALL
    lines = [
        "## Country recall against Reuters' PLACES",
        "",
        f"{scored.height:,} country labels on {scored[PATH].n_unique():,} loaded stories "
        f"(`bench/data/reuters_places.csv` maps them to ISO codes). **Recall {overall:.3f} "
        f"overall, {usa_recall:.3f} for the USA** (targets {MIN_COUNTRY_RECALL:.2f} each): "
        f"{'met' if passed else 'MISSED'}.",
        "",
        _table(per_place),
    ]
    return "\n".join(lines), passed


def topic_section(w: Path, labels: pl.DataFrame) -> tuple[str, bool]:
    mapping = read_mapping(TOPICS_MAP)
    # Every topic tag of an article, its title's and its paragraphs' (article_tags), summed
    # per article; top-level topics ranked among the top-level ones, subtopics among the
    # subtopics, as bench/wire_topics.py measures each mapping at its own level.
    topics = run_readonly_query(
        w,
        """WITH scores AS (
               SELECT a.path AS article_id, t.tag_value AS topic, sum(t.score) AS score,
                      contains(t.tag_value, '/') AS sub
               FROM article_tags t JOIN articles a USING (article_id)
               WHERE t.tag_type = 'topic'
               GROUP BY ALL)
           SELECT article_id, topic,
                  row_number() OVER (PARTITION BY article_id, sub
                                     ORDER BY score DESC, topic) AS rank
           FROM scores""",
    )
    wire = labels.select(pl.col(PATH).alias("article_id"), pl.col("topics").alias(REUTERS_TOPIC))
    wire = wire.explode(REUTERS_TOPIC).drop_nulls(REUTERS_TOPIC)
    mapped = topic_agreement(topics, wire, mapping)
    top_level = topic_agreement(topics, wire, mapping, top_level=True)
    table = mapped.join(
        top_level.select(REUTERS_TOPIC, pl.col("share").alias("share, top level")),
        on=REUTERS_TOPIC,
        how="left",
        maintain_order="left",
    )
    strict = float(mapped.filter(pl.col(REUTERS_TOPIC) == OVERALL_STRICT)["share"][0])
    passed = strict >= MIN_TOPIC_AGREEMENT
    return (
        "\n".join(
            [
                "## Wire topics against IPTC",
                "",
                "Reuters' ten most frequent topics, mapped by `bench/data/reuters_topics.csv` "
                "(a subtopic where nutgraf's vocabulary has one that fits). A story agrees on a "
                "topic when the mapped topic is among its article's first two topics at the "
                "mapped level (title and body tags); overall it agrees when it does on every "
                f"mapped topic it is filed under. **Agreement {strict:.1%}** (target "
                f"{MIN_TOPIC_AGREEMENT:.0%}): {'met' if passed else 'MISSED'}. The last column "
                "measures every mapping at its top-level topic.",
                "",
                _table(table),
            ]
        ),
        passed,
    )


def duplicate_section(w: Path, summary: dict) -> str:
    kinds = dict(
        run_readonly_query(
            w, "SELECT kind, count(*) FROM article_duplicates GROUP BY kind ORDER BY kind"
        ).rows()
    )
    return "\n".join(
        [
            "## Duplicates",
            "",
            f"- byte-identical files (nothing loaded twice): {kinds.get('same_bytes', 0):,} "
            f"(run summary: {summary.get('files_duplicate', 0):,})",
            f"- stories re-issued with the same body under another file: "
            f"{kinds.get('same_body', 0):,}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--write", type=Path, help="write the markdown to this file")
    args = parser.parse_args(argv)
    feed = args.corpora / "reuters-train"
    if not (feed / "articles").is_dir():
        print(f"no wire feed at {feed}: set NUTGRAF_CORPORA or --corpora", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        summary, seconds, code = run_nutgraf(feed / "articles", workdir)
        w = workdir / "wire.duckdb"
        labels = read_labels(feed)
        n_files = int(summary["files_seen"])
        quarantine, q_ok = quarantine_section(w, n_files)
        countries, c_ok = country_section(w, labels)
        topics, t_ok = topic_section(w, labels)
        parts = [
            "# Wire-feed evaluation",
            "",
            f"{datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · {os.cpu_count()} cores · "
            "`bench/evaluate-wire`",
            "",
            f"`nutgraf run` on `reuters-train/articles` ({n_files:,} files; a fresh warehouse): "
            f"exit {code}, {seconds:.0f} s, status {summary['status']}, "
            f"{summary['articles']:,} articles, {summary['paragraphs_new']:,} new paragraphs, "
            f"{summary['files_duplicate']:,} duplicate files.",
            "",
            quarantine,
            "",
            boilerplate_section(w),
            "",
            dateline_section(w),
            "",
            countries,
            "",
            topics,
            "",
            duplicate_section(w, summary),
            "",
        ]
    markdown = "\n".join(parts)
    print(markdown)
    if args.write:
        args.write.write_text(markdown)
    return 0 if (q_ok and c_ok and t_ok) else 1


if __name__ == "__main__":
    sys.exit(main())
