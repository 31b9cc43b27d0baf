"""bench/evaluate_topics.py: how well nutgraf names an article's topic and language.

Usage: python3 -m uv run --frozen python bench/evaluate_topics.py [--corpora PATH] [--write FILE]

Scored against the shared corpora (``--corpora``, default NUTGRAF_CORPORA or
../shared/corpora beside the repository; read at run time, never copied into it).

**Topics, on the BBC corpus** (``bbc/<folder>/*.txt``: 2,225 articles, the folder is the label).

1. Each file is decoded as the pipeline decodes it (UTF-8, else cp1252), then split and
   normalised by the pipeline's own ``split_paragraphs`` and ``normalise_paragraphs``. The
   title line is not a paragraph, as in the pipeline: the warehouse holds no title paragraphs,
   so counting titles here would score a tagger the warehouse never runs.
2. The distinct paragraphs are tagged once with ``tag_topics`` (timed: paragraphs/s) and
   ``article_topics`` rolls the tags up over every occurrence, repeats included.
3. An article's prediction is its rank-1 topic, "none" when no paragraph reached the
   threshold; it is right when it is the IPTC topic of its folder (FOLDER_TOPICS). The 98
   byte-identical files of the corpus are counted as often as they occur, like any file.
4. Precision has no gold standard here, so the breadth of tagging stands in for it: the share
   of distinct paragraphs given any top-level topic, the mean number of top-level topics per
   tagged paragraph, and the paragraphs tagged with each topic. A rule set that wins accuracy
   by tagging everything with everything shows up there.

**Languages.** ``multilingual/<code>_*/*.txt``: the expected language is the folder's prefix
(``fr_dz_gilets_jaunes`` -> fr). Articles are split as above and given the pipeline's article
language (``assign_languages``: the language most of the article's judged characters are in;
an article none of whose paragraphs can be judged is judged on its whole text, title included).
Files the language tagger is not meant to judge are listed and not counted: "empty" (not a
single letter: a date alone) and "too short" (fewer than MIN_LETTERS_FOR_LANGUAGE letters in
the whole text, the tagger's own floor). A file with text to judge and no
language detected is "undetermined", an error. On the BBC corpus: the share of articles
detected as English.

Exit status 1 when primary-topic accuracy is below MIN_ACCURACY or any judged multilingual
article's language is wrong or undetermined. ``--write FILE`` puts the printed section, headed
by the date, machine and command, into FILE between marker comments (replacing an earlier run's
section there, else appended).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from transforms import schema as S
from transforms.decode import decode_text
from transforms.gazetteer import load_gazetteer
from transforms.normalise import normalise_paragraphs
from transforms.pipeline import assign_languages
from transforms.split import split_paragraphs
from transforms.tagging import (
    MIN_LETTERS_FOR_LANGUAGE,
    RANK,
    TOPIC,
    article_topics,
    tag_paragraphs,
    tag_topics,
    tagger_versions,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CORPORA = Path(os.environ.get("NUTGRAF_CORPORA", ROOT.parent / "shared" / "corpora"))

FOLDER_TOPICS = {
    "business": "economy-business-finance",
    "entertainment": "arts-culture-entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "science-technology",
}
MIN_ACCURACY = 0.90
TIMED_RUNS = 5
NONE = "none"  # predicted topic of an article no paragraph of which reached the threshold
# Article languages that are not a language code. Only UNDETERMINED is an error: the other
# two are articles the language tagger is not meant to judge.
EMPTY = "empty"  # not a single letter (a date alone)
TOO_SHORT = "too short"  # fewer than MIN_LETTERS_FOR_LANGUAGE letters in the whole text
UNDETERMINED = "undetermined"  # text to judge, but no language sure enough
NOT_JUDGED = (EMPTY, TOO_SHORT)
RUN = ["python3", "-m", "uv", "run", "--frozen", "python", "bench/evaluate_topics.py"]
SECTION_START = "<!-- evaluate_topics: start -->"
SECTION_END = "<!-- evaluate_topics: end -->"

# Columns of this script's frames.
FOLDER = "folder"
EXPECTED = "expected"
PREDICTED = "predicted"
CORRECT = "correct"
JUDGEABLE = "judgeable"


@dataclass(frozen=True)
class Outcome:
    """One part of the report: its markdown and whether it passed."""

    markdown: str
    passed: bool


@dataclass(frozen=True)
class Breadth:
    """How widely topics are tagged: the stand-in for precision."""

    tagged: int  # distinct paragraphs with at least one top-level topic
    mean_topics: float  # top-level topics per tagged paragraph
    per_topic: pl.DataFrame  # TOPIC, paragraphs, share (of all distinct paragraphs)


# ------------------------------------------------------------------------------ reading


def read_corpus(folder: Path, pattern: str) -> pl.DataFrame:
    """Files under `folder` matching `pattern` -> ARTICLE_ID (path relative to `folder`),
    FOLDER (its first folder), TEXT (decoded as the pipeline decodes; null if undecodable)."""
    paths = sorted(folder.glob(pattern))
    # One read and one decode per file: the unit of I/O, as in transforms.decode.
    texts = [decode_text(path.read_bytes())[0] for path in paths]
    names = [path.relative_to(folder).as_posix() for path in paths]
    return pl.DataFrame(
        {S.ARTICLE_ID: names, S.TEXT: texts}, schema={S.ARTICLE_ID: pl.String, S.TEXT: pl.String}
    ).with_columns(pl.col(S.ARTICLE_ID).str.extract(r"^([^/]+)/", 1).alias(FOLDER))


def split_corpus(articles: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_ID, TEXT -> NORMALISED paragraphs, the title line left out (as the pipeline)."""
    return normalise_paragraphs(split_paragraphs(articles.select(S.ARTICLE_ID, S.TEXT)))


# ------------------------------------------------------------------------------ topics


def evaluate_topics(articles: pl.DataFrame, paragraphs: pl.DataFrame) -> Outcome:
    """BBC articles (ARTICLE_ID, FOLDER) and their NORMALISED paragraphs -> primary-topic
    accuracy, confusion, breadth of tagging and speed."""
    articles = articles.with_columns(
        pl.col(FOLDER).replace_strict(FOLDER_TOPICS, default=None).alias(EXPECTED)
    )
    distinct = paragraphs.unique(S.PARAGRAPH_HASH).select(S.PARAGRAPH_HASH, S.TEXT)
    gazetteer = load_gazetteer()
    seconds = []
    for _ in range(TIMED_RUNS):  # a fraction of a second each: the median steadies the figure
        start = time.perf_counter()
        tags = tag_topics(distinct, gazetteer=gazetteer)
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    everything = []
    for _ in range(TIMED_RUNS):
        start = time.perf_counter()
        tag_paragraphs(distinct.with_columns(pl.lit("en").alias(S.LANGUAGE)), gazetteer=gazetteer)
        everything.append(time.perf_counter() - start)
    all_taggers = statistics.median(everything)
    primary = article_topics(tags, paragraphs).filter(pl.col(RANK) == 1)
    judged = articles.join(
        primary.select(S.ARTICLE_ID, pl.col(TOPIC).alias(PREDICTED)), on=S.ARTICLE_ID, how="left"
    ).with_columns(
        pl.col(PREDICTED).fill_null(NONE),
        (pl.col(PREDICTED) == pl.col(EXPECTED)).fill_null(False).alias(CORRECT),
    )
    accuracy = judged[CORRECT].mean()
    breadth = tagging_breadth(tags, n_paragraphs=distinct.height)
    lines = [
        f"### Topics: BBC corpus ({tagger_versions()['topics']}, threshold "
        f"{gazetteer.topic_threshold:g})",
        "",
        f"{articles.height:,} articles, {paragraphs.height:,} paragraph occurrences "
        f"({distinct.height:,} distinct), titles not counted. **Primary-topic accuracy: "
        f"{accuracy:.1%}** ({judged[CORRECT].sum():,} of {judged.height:,}; "
        f"required {MIN_ACCURACY:.0%}).",
        "",
        table(per_folder_accuracy(judged)),
        "",
        "Confusion (rows: folder; columns: predicted primary topic):",
        "",
        table(confusion(judged)),
        "",
        f"Breadth of tagging: {breadth.tagged:,} of {distinct.height:,} distinct paragraphs "
        f"({breadth.tagged / distinct.height:.1%}) get a top-level topic, "
        f"{breadth.mean_topics:.2f} top-level topics per tagged paragraph on average.",
        "",
        table(breadth.per_topic),
        "",
        f"Speed: `tag_topics` on the {distinct.height:,} distinct paragraphs (gazetteer already "
        f"loaded) took {median:.2f} s, median of {TIMED_RUNS} calls: "
        f"{distinct.height / median:,.0f} paragraphs/s. All four taggers (`tag_paragraphs`, "
        f"{', '.join(tagger_versions().values())}) on the same paragraphs: {all_taggers:.2f} s, "
        f"{distinct.height / all_taggers:,.0f} paragraphs/s (at 100,000 generated articles: "
        "BENCHMARKS.md).",
    ]
    return Outcome("\n".join(lines), passed=accuracy >= MIN_ACCURACY)


def per_folder_accuracy(judged: pl.DataFrame) -> pl.DataFrame:
    """FOLDER, EXPECTED, CORRECT per article -> one row per folder."""
    return (
        judged.group_by(FOLDER, EXPECTED)
        .agg(pl.len().alias("articles"), pl.col(CORRECT).sum().alias("right"))
        .sort(FOLDER)
        .select(
            FOLDER,
            pl.col(EXPECTED).alias("IPTC topic"),
            "articles",
            "right",
            (pl.col("right") / pl.col("articles")).map_batches(percent).alias("accuracy"),
        )
    )


def confusion(judged: pl.DataFrame) -> pl.DataFrame:
    """FOLDER, PREDICTED per article -> folders x predicted topics, counts of articles.

    Columns: the five expected topics, then any other predicted topic (most often first),
    then "none"."""
    counts = judged.group_by(PREDICTED).len().sort("len", PREDICTED, descending=[True, False])
    others = [t for t in counts[PREDICTED] if t not in FOLDER_TOPICS.values() and t != NONE]
    columns = [*FOLDER_TOPICS.values(), *others, NONE]
    pivoted = judged.pivot(PREDICTED, index=FOLDER, values=CORRECT, aggregate_function="len")
    missing = [pl.lit(0).alias(name) for name in columns if name not in pivoted.columns]
    return (
        pivoted.with_columns(missing)
        .select(FOLDER, *[pl.col(name).fill_null(0).cast(pl.Int64) for name in columns])
        .sort(FOLDER)
    )


def tagging_breadth(tags: pl.DataFrame, *, n_paragraphs: int) -> Breadth:
    """Topic TAGS of `n_paragraphs` distinct paragraphs -> Breadth (top-level topics only)."""
    top = tags.filter(~pl.col(S.TAG_VALUE).str.contains("/", literal=True))
    per_paragraph = top.group_by(S.PARAGRAPH_HASH).len()
    per_topic = (
        top.group_by(S.TAG_VALUE)
        .agg(pl.len().alias("paragraphs"))
        .sort("paragraphs", S.TAG_VALUE, descending=[True, False])
        .select(
            pl.col(S.TAG_VALUE).alias(TOPIC),
            "paragraphs",
            (pl.col("paragraphs") / n_paragraphs).map_batches(percent).alias("share"),
        )
    )
    return Breadth(
        tagged=per_paragraph.height,
        mean_topics=per_paragraph["len"].mean() if per_paragraph.height else 0.0,
        per_topic=per_topic,
    )


# ------------------------------------------------------------------------------ languages


def article_languages(articles: pl.DataFrame, paragraphs: pl.DataFrame) -> pl.DataFrame:
    """ARTICLE_ID, FOLDER, TEXT + their NORMALISED paragraphs -> same + LANGUAGE: the pipeline's
    article language, else EMPTY, TOO_SHORT or UNDETERMINED (see their comments)."""
    known = pl.DataFrame(schema={S.PARAGRAPH_HASH: pl.String, S.LANGUAGE: pl.String})
    languages, _ = assign_languages(paragraphs, known, articles)
    # the test transforms.tagging.detect_language applies before it judges a paragraph
    enough_letters = pl.col(S.TEXT).str.contains(
        rf"^(?:\P{{L}}*\p{{L}}){{{MIN_LETTERS_FOR_LANGUAGE}}}"
    )
    # an article no paragraph of which can be judged is judged on its whole text
    judgeable = articles.select(S.ARTICLE_ID, enough_letters.alias(JUDGEABLE))
    return (
        articles.join(languages, on=S.ARTICLE_ID, how="left")
        .join(judgeable, on=S.ARTICLE_ID, how="left")
        .with_columns(
            pl.when(~pl.col(S.TEXT).str.contains(r"\p{L}").fill_null(False))
            .then(pl.lit(EMPTY))
            .when(~pl.col(JUDGEABLE).fill_null(False))
            .then(pl.lit(TOO_SHORT))
            .otherwise(pl.col(S.LANGUAGE).fill_null(UNDETERMINED))
            .alias(S.LANGUAGE)
        )
        .drop(JUDGEABLE)
    )


def evaluate_languages(
    multilingual: pl.DataFrame, bbc: pl.DataFrame, bbc_paragraphs: pl.DataFrame
) -> Outcome:
    """Article languages of the multilingual corpus against its folder prefixes, and the share
    of BBC articles detected as English (articles as read_corpus gives them)."""
    judged = (
        article_languages(multilingual, split_corpus(multilingual))
        .with_columns(pl.col(FOLDER).str.extract(r"^([a-z]{2})_", 1).alias(EXPECTED))
        .with_columns(
            pl.when(pl.col(S.LANGUAGE).is_in(NOT_JUDGED))
            .then(None)
            .otherwise(pl.col(S.LANGUAGE) == pl.col(EXPECTED))
            .alias(CORRECT)
        )
    )
    summary = (
        judged.group_by(FOLDER, EXPECTED)
        .agg(
            pl.len().alias("files"),
            (pl.col(S.LANGUAGE) == EMPTY).sum().alias(EMPTY),
            (pl.col(S.LANGUAGE) == TOO_SHORT).sum().alias(TOO_SHORT),
            pl.col(CORRECT).sum().alias("right"),
            (~pl.col(CORRECT)).sum().alias("wrong"),
            pl.col(S.LANGUAGE).unique().sort().str.join(", ").alias("detected"),
        )
        .sort(FOLDER)
    )
    listed = (
        judged.filter(pl.col(CORRECT).not_().fill_null(True))
        .sort(S.ARTICLE_ID)
        .select(
            pl.col(S.ARTICLE_ID).alias("file"),
            EXPECTED,
            pl.col(S.LANGUAGE).alias("detected"),
            pl.col(S.TEXT)
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
            .str.head(60)
            .alias("text (start)"),
        )
    )
    n_wrong = int(summary["wrong"].sum())
    listing = (
        ["Files not counted as right:", "", table(listed)]
        if listed.height
        else ["Every file was judged, and right."]
    )
    bbc_languages = article_languages(bbc, bbc_paragraphs)
    english = (bbc_languages[S.LANGUAGE] == "en").sum()
    other = (
        bbc_languages.filter(pl.col(S.LANGUAGE) != "en")
        .group_by(S.LANGUAGE)
        .len()
        .sort("len", descending=True)
    )
    lines = [
        "### Languages",
        "",
        f"`multilingual/`: {judged.height} files, expected language = folder prefix; "
        f"{int(summary[EMPTY].sum())} empty (not a letter) and {int(summary[TOO_SHORT].sum())} "
        f"too short (fewer than {MIN_LETTERS_FOR_LANGUAGE} letters in the whole text): listed, "
        "not counted; "
        f"**{n_wrong} wrong or undetermined**.",
        "",
        table(summary),
        "",
        *listing,
        "",
        f"BBC: {english:,} of {bbc_languages.height:,} articles detected as `en` "
        f"({english / bbc_languages.height:.1%})"
        + (
            "; others: " + ", ".join(f"{lang} {n}" for lang, n in other.iter_rows())
            if other.height
            else ""
        )
        + ".",
    ]
    return Outcome("\n".join(lines), passed=n_wrong == 0)


# ------------------------------------------------------------------------------ output


def percent(values: pl.Series) -> pl.Series:
    """Shares -> "93.1%" strings."""
    return (values * 100).round(1).cast(pl.String) + "%"


def table(frame: pl.DataFrame) -> str:
    """A frame as a markdown table, every row and column."""
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=10_000,
        fmt_str_lengths=1_000,
    ):
        return str(frame)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()} · {os.cpu_count()} cores · {memory:.0f} GB"


def write_section(path: Path, text: str) -> None:
    """Put `text` between SECTION_START and SECTION_END in `path`: replacing the previous
    section when the file has one, else appended (a new file holds only the section)."""
    section = f"{SECTION_START}\n{text}\n{SECTION_END}\n"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if SECTION_START in old and SECTION_END in old:
        before, rest = old.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].removeprefix("\n")
        new = before + section + after
    else:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + section
    path.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpora",
        type=Path,
        default=DEFAULT_CORPORA,
        help=f"the shared corpora folder (default {DEFAULT_CORPORA})",
    )
    parser.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="also write the markdown section to FILE (replacing this script's earlier section)",
    )
    args = parser.parse_args(argv)
    bbc, multilingual = args.corpora / "bbc", args.corpora / "multilingual"
    for folder in (bbc, multilingual):
        if not folder.is_dir():
            parser.error(f"{folder} not found: pass --corpora or set NUTGRAF_CORPORA")
    bbc_articles = read_corpus(bbc, "*/*.txt")
    bbc_paragraphs = split_corpus(bbc_articles)
    outcomes = [
        evaluate_topics(bbc_articles, bbc_paragraphs),
        evaluate_languages(read_corpus(multilingual, "*/*.txt"), bbc_articles, bbc_paragraphs),
    ]
    command = shlex.join([*RUN, *(argv if argv is not None else sys.argv[1:])])
    text = "\n\n".join(
        [
            "## Topic and language tagging",
            f"{date.today()} · {machine()} · `{command}`",
            *(outcome.markdown for outcome in outcomes),
        ]
    )
    print(text)
    if args.write:
        write_section(args.write, text)
        print(f"\nwritten to {args.write}", file=sys.stderr)
    return 0 if all(outcome.passed for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
