"""bench/evaluate_stories.py: Reuters' PEOPLE and ORGS labels among each story's tags.

Usage: python3 -m uv run --frozen python bench/evaluate_stories.py [--corpora PATH]
       [--warehouse FILE]
       (bench/evaluate-tags runs it for EVALUATION-TAGS.md)

The feed is ``reuters-train`` of the shared corpora (``--corpora``, default NUTGRAF_CORPORA or
../shared/corpora beside the repository; read at run time, never copied), as for
bench/evaluate_wire.py, whose way of running nutgraf this script shares: ``nutgraf run`` on
``articles/`` into a fresh warehouse in a temporary folder (or, with ``--warehouse``, a
warehouse such a run already built), then the people and organisations each loaded story
names (``article_entities``: title and body, a surname resolved to the story's full name) are
read back.

Reuters' PEOPLE and ORGS codes are mapped to person and organisation tag values by
``bench/data/reuters_people_orgs.csv`` (which codes, and the rules for the values, are in its
header). A (story, code) pair is found when a tag of the story has the mapped tag type and one
of the mapped values, compared in lower case (:mod:`bench.story_entities`). Printed as markdown:
micro recall over all pairs of each kind, the most-missed codes, recall per code. There is no
target: the script exits 0 whatever the recall, 2 when the feed is missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.evaluate_wire import DEFAULT_CORPORA, PATH, _table, read_labels, run_nutgraf  # noqa: E402
from bench.story_entities import (  # noqa: E402
    FOUND,
    KIND,
    MISSED,
    ORGS,
    PEOPLE,
    RECALL,
    REUTERS_CODE,
    STORIES,
    SURNAME_ONLY,
    TAG_VALUES,
    code_recall,
    micro_recall,
    most_missed,
    read_mapping,
    story_hits,
)
from transforms import schema as S  # noqa: E402
from warehouse.queries import run_readonly_query  # noqa: E402

MOST_MISSED = 5
COMMAND = "python3 -m uv run --frozen python bench/evaluate_stories.py"
CODE_PATHS = (
    "bench",
    "transforms",
    "flows",
    "warehouse",
    "expectations",
    "pyproject.toml",
    "uv.lock",
)
"""What the figures depend on: the report names the last commit that changed them (so
committing the report itself does not change what a re-run prints), and says when they have
uncommitted changes."""


def read_story_labels(feed: Path) -> pl.DataFrame:
    """metadata.jsonl -> story_entities.LABELS, one row per story and PEOPLE or ORGS code; the
    story keyed by its PATH, as the warehouse names it."""
    labels = read_labels(feed)
    return pl.concat(
        [
            labels.select(
                pl.col(PATH).alias(S.ARTICLE_ID),
                pl.lit(kind).alias(KIND),
                pl.col(kind).alias(REUTERS_CODE),
            ).explode(REUTERS_CODE)
            for kind in (PEOPLE, ORGS)
        ]
    ).drop_nulls(REUTERS_CODE)


def read_story_tags(warehouse: Path) -> pl.DataFrame:
    """Every person and organisation each loaded story names (title and body, a surname
    resolved to the story's full name: the article_entities view), keyed by its path."""
    return run_readonly_query(
        warehouse,
        """SELECT DISTINCT a.path AS article_id, e.tag_type, e.tag_value
           FROM article_entities e JOIN articles a USING (article_id)
           WHERE e.tag_type IN ('person', 'organisation')""",
    )


def read_loaded(warehouse: Path) -> pl.DataFrame:
    """The paths of the stories the warehouse loaded, as ARTICLE_ID."""
    return run_readonly_query(warehouse, "SELECT DISTINCT path AS article_id FROM articles")


def commit() -> str:
    """The last commit that changed CODE_PATHS, marked when they have uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    sha = git("log", "-1", "--format=%h", "--", *CODE_PATHS) or "unknown"
    dirty = git("status", "--porcelain", "--", *CODE_PATHS)
    return f"{sha} with uncommitted changes" if dirty else sha


def section(
    tags: pl.DataFrame, labels: pl.DataFrame, loaded: pl.DataFrame, mapping: pl.DataFrame
) -> str:
    """The markdown section: how it was measured, micro recall, most missed, per code."""
    on_loaded = labels.join(loaded, on=S.ARTICLE_ID, how="semi")
    judged = story_hits(tags, on_loaded, mapping)
    recalls = code_recall(judged).join(
        mapping.select(KIND, REUTERS_CODE, TAG_VALUES), on=[KIND, REUTERS_CODE], how="left"
    )
    micro = {row[KIND]: row for row in micro_recall(judged).iter_rows(named=True)}
    not_loaded = (
        labels.join(mapping, on=[KIND, REUTERS_CODE], how="semi")
        .join(loaded, on=S.ARTICLE_ID, how="anti")[S.ARTICLE_ID]
        .n_unique()
    )
    n_codes = {kind: mapping.filter(pl.col(KIND) == kind).height for kind in (PEOPLE, ORGS)}

    def headline(kind: str) -> str:
        row = micro[kind]
        return f"{kind.upper()} {row[RECALL]:.3f} ({row[FOUND]:,} of {row[STORIES]:,} pairs)"

    people = micro[PEOPLE]
    surnames = (
        f"{people[SURNAME_ONLY]:,} of the {people[MISSED]:,} PEOPLE pairs missed have the "
        "surname (or the end of the name) as a person tag."
    )

    def per_code(kind: str) -> str:
        rows = recalls.filter(pl.col(KIND) == kind).drop(KIND)
        if kind == ORGS:
            rows = rows.drop(SURNAME_ONLY)
        return _table(
            rows.with_columns(pl.col(TAG_VALUES).str.replace_all("|", ", ", literal=True))
        )

    missed = pl.concat([most_missed(recalls, kind, MOST_MISSED) for kind in (PEOPLE, ORGS)])
    return "\n".join(
        [
            "## People and organisations per story (Reuters)",
            "",
            f"{datetime.now(UTC):%Y-%m-%d} · {platform.machine()} · {os.cpu_count()} cores · "
            f"code at commit {commit()} · `{COMMAND}`",
            "",
            "`nutgraf run` on `reuters-train/articles` into a fresh warehouse (as "
            "`bench/evaluate-wire`); the people and organisations each loaded story names "
            "(`article_entities`: title and body, a person named by surname alone resolved to "
            "the one longer name of the story ending in it), against the PEOPLE and ORGS codes "
            "Reuters filed it under. "
            f"`bench/data/reuters_people_orgs.csv` maps {n_codes[PEOPLE]} PEOPLE codes (the 30 "
            f"most frequent and those tied with the 30th) and all {n_codes[ORGS]} ORGS codes "
            "the file uses to the person or organisation tag value(s) nutgraf gives or should "
            "give: the gazetteer's canonical name where it has one, else the full name (and a "
            "body's acronym). A (story, code) pair is found when one of the story's tags of that "
            "type has a mapped value, compared in lower case; a surname alone is no match, but "
            "a missed person whose story has a person tag that is the end of a mapped name "
            "(`Reagan`, `du Plessis`) is counted under `surname_only`: the tagger saw the name "
            "and did not give it in full. "
            f"{judged[S.ARTICLE_ID].n_unique():,} stories carry a mapped code "
            f"among those loaded ({not_loaded:,} more are byte-identical copies of loaded files, "
            "not loaded again). No target.",
            "",
            f"**Micro recall: {headline(PEOPLE)}; {headline(ORGS)}.** {surnames}",
            "",
            f"### Most missed ({MOST_MISSED} codes of each kind, by stories missed)",
            "",
            _table(missed.select(KIND, REUTERS_CODE, STORIES, FOUND, MISSED, SURNAME_ONLY, RECALL)),
            "",
            "### PEOPLE codes",
            "",
            per_code(PEOPLE),
            "",
            "### ORGS codes",
            "",
            per_code(ORGS),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument(
        "--warehouse", type=Path, help="score this warehouse, built from the feed, without a run"
    )
    args = parser.parse_args(argv)
    feed = args.corpora / "reuters-train"
    if not (feed / "articles").is_dir():
        print(f"no wire feed at {feed}: set NUTGRAF_CORPORA or --corpora", file=sys.stderr)
        return 2
    labels = read_story_labels(feed)
    mapping = read_mapping()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = args.warehouse
        if warehouse is None:
            warehouse = Path(tmp) / "wire.duckdb"
            summary, _, code = run_nutgraf(feed / "articles", Path(tmp))
            if summary.get("status") != "published":
                print(f"nutgraf run did not publish (exit {code}): {summary}", file=sys.stderr)
                return 1
        markdown = section(read_story_tags(warehouse), labels, read_loaded(warehouse), mapping)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
