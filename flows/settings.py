"""The one typed settings object.

Precedence, lowest to highest: the defaults below < `nutgraf.toml` in the working directory
(or the file named by NUTGRAF_CONFIG) < environment variables `NUTGRAF_<FIELD>` < CLI flags.
Functions receive the values they need as parameters; only this module reads the environment.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path

import duckdb
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from warehouse.connection import open_writer

CONFIG_FILE = "nutgraf.toml"


class Settings(BaseSettings):
    """Where nutgraf reads, writes and how strict it is."""

    model_config = SettingsConfigDict(env_prefix="NUTGRAF_", extra="forbid")

    landing: Path = Field(Path("landing"), description="Folder watched for article files.")
    warehouse: Path = Field(Path("nutgraf.duckdb"), description="The DuckDB warehouse file.")
    reports: Path = Field(Path("reports"), description="Folder for data-quality reports.")
    report_retention_days: int = Field(
        90,
        ge=0,
        description="`nutgraf vacuum --prune-reports` deletes run reports older than this many "
        "days (never those of the latest runs); 0 keeps them all.",
    )
    prefect_home: Path = Field(
        Path(".nutgraf/prefect"),
        description="PREFECT_HOME used when none is set: Prefect's ephemeral database lives here.",
    )
    cache_dir: Path = Field(
        Path(".nutgraf/cache"),
        description="Derived files kept between runs (the language model, unpacked once).",
    )
    patterns: tuple[str, ...] = Field(
        ("*.txt", "*.md", "*.markdown", "*.json", "*.jsonl", "*.ndjson", "*.html", "*.htm"),
        description="Glob patterns of article files, matched recursively; the extension "
        "chooses the format (transforms/formats.py).",
    )
    json_title_field: str = Field("title", description="JSON / front-matter key of the title.")
    json_body_fields: tuple[str, ...] = Field(
        ("body", "text"), description="JSON / front-matter keys of the body: the first present."
    )
    json_url_field: str = Field("url", description="JSON / front-matter key of the url.")
    json_source_field: str = Field("source", description="JSON / front-matter key of the outlet.")
    json_published_at_field: str = Field(
        "published_at",
        description="JSON / front-matter key of the publication time (ISO 8601 or RFC 2822).",
    )
    json_author_field: str = Field("author", description="JSON / front-matter key of the author.")
    json_language_field: str = Field(
        "language", description="JSON / front-matter key of the declared language."
    )
    json_id_field: str = Field("id", description="JSON / front-matter key of the article's id.")
    near_dup_threshold: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Near-duplicate paragraphs: the Jaccard similarity of word-bigram sets at "
        "or above which a paragraph is linked to its group's canonical one.",
    )
    near_dup_min_words: int = Field(
        3, ge=2, description="Paragraphs of fewer words are left out of near-duplicate matching."
    )
    boilerplate_min_articles: int = Field(
        5,
        ge=2,
        description="Boilerplate: a paragraph in at least this many articles of one source ...",
    )
    boilerplate_edge_share: float = Field(
        0.8,
        ge=0,
        le=1,
        description="... at least this share of them as the first or last paragraph.",
    )
    source_from_folder: bool = Field(
        True,
        description="An article without a source takes the first folder under the landing "
        "folder (unless it is a number, like a year) as its source.",
    )
    default_source: str | None = Field(
        None,
        min_length=1,
        description="The source of an article that names none and lies directly in the landing "
        "folder (or with source_from_folder off); unset: the landing folder's name.",
    )
    max_file_bytes: int = Field(
        20_000_000, gt=0, description="Files larger than this are quarantined as oversized."
    )
    settle_seconds: float = Field(
        2.0,
        ge=0,
        description="A file is read only once its size and mtime have been stable this long.",
    )
    batch_files: int = Field(10_000, gt=0, description="At most this many files per batch.")
    batch_bytes: int = Field(
        256_000_000, gt=0, description="About this many bytes per batch (one transaction each)."
    )
    prepare_ahead: bool = Field(
        False,
        description="Prepare the next batch (read, split, language, tags) in a second thread "
        "while this one is finished and published: two batches in memory (measured on 2 "
        "cores: 7-19% less wall time, 1.7-2x the peak memory). Off: one batch at a time, and "
        "each stage's CPU seconds are its own.",
    )
    dask_address: str | None = Field(
        None,
        description="Scheduler of a running Dask cluster (`tcp://host:8786`): the per-batch "
        "transforms run on its workers, publishing stays in this process.",
    )
    dask_workers: int | None = Field(
        None,
        ge=1,
        description="Start a local Dask cluster of this many worker processes (one thread "
        "each) for the run's per-batch transforms; closed when the run ends.",
    )
    dask_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="How long to wait for the Dask scheduler of `dask_address` and its first "
        "worker before the run gives up (having changed nothing).",
    )
    writer_memory_limit: str | None = Field(
        "256MB",
        description="DuckDB memory limit of the run's connections to the warehouse (near-"
        "duplicate candidates, publishing, the search index): beyond it DuckDB spills to a "
        "temporary folder beside the file instead of growing. None: DuckDB's default, 80% of "
        "the machine's memory.",
    )
    lock_timeout_seconds: float = Field(
        300.0, ge=0, description="How long a run waits for another run to finish writing."
    )
    publish_slot: bool = Field(
        True,
        description="With a Prefect server (PREFECT_API_URL), each publish also holds the one "
        "slot of a Prefect global concurrency limit, so workers take turns writing.",
    )
    publish_limit: str | None = Field(
        None,
        description="Name of that limit; default `nutgraf-publish-` and a hash of the "
        "warehouse's absolute path. Set it when workers mount the warehouse under different paths.",
    )
    follow_symlinks: bool = Field(
        False, description="Read symlinks that point outside the landing folder."
    )
    fault_points: tuple[str, ...] = Field(
        (), description="Test hook: where to kill or fail a run (see flows/faults.py)."
    )
    tags_file: Path | None = Field(
        None, description="TOML file of extra people, organisations and topic keywords."
    )
    retag_chunk_paragraphs: int = Field(
        100_000,
        gt=0,
        description="`nutgraf retag` reads and tags this many stored paragraphs at a time.",
    )
    search_index: bool = Field(
        True,
        description="Keep the full-text search index in step in every publish (and rebuild it "
        "at the end of a run if it was stale). Off: runs leave it stale and `nutgraf search` "
        "rebuilds it when asked.",
    )
    fts_extension: Path | None = Field(
        None,
        description="The DuckDB fts extension file to load; default: the one the "
        "duckdb-extension-fts wheel ships (signed, loads offline).",
    )
    min_paragraph_chars: int = Field(1, ge=1, description="Gate: shortest paragraph allowed.")
    max_paragraph_chars: int = Field(20_000, gt=1, description="Gate: longest paragraph allowed.")
    max_quarantined_share: float = Field(
        0.5, ge=0, le=1, description="Gate: fail the batch above this share of quarantined files."
    )
    max_duplicate_file_share: float = Field(
        0.9, ge=0, le=1, description="Gate (warn): duplicate files above this share are flagged."
    )
    min_letter_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="An article whose first 2,000 characters hold fewer letters than this "
        "share is numeric (a table, results, index levels): it loads and counts in the "
        "batch's numeric_article_share.",
    )
    max_numeric_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Gate (warn): flag a batch in which more than this share of the articles "
        "are numeric (see min_letter_share).",
    )
    max_markup_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Gate (warn): flag a batch in which more than this share of the new "
        "paragraphs hold HTML elements (tagged markup; a plain-text feed holds almost none).",
    )
    max_garbage_marks: int = Field(
        2,
        ge=0,
        description="Gate (quarantine): an article with more control (C1), private-use or "
        "unassigned characters is set aside as garbage.",
    )
    min_article_chars: int = Field(
        1, ge=0, description="Gate (quarantine): shorter articles are set aside."
    )
    max_article_chars: int = Field(
        2_000_000, gt=0, description="Gate (quarantine): longer articles are set aside."
    )
    max_mojibake_marks: int = Field(
        2,
        ge=0,
        description="Gate (quarantine): an article with more mis-decoded pairs ('Ã©', 'â€') or "
        "replacement characters is set aside.",
    )
    max_empty_share: float = Field(
        0.5, ge=0, le=1, description="Gate: fail the batch above this share of empty new files."
    )
    max_mojibake_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Gate: fail the batch above this share of new files holding mojibake.",
    )
    max_repeated_share: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Gate: fail the batch when more of its paragraph occurrences than this "
        "repeat paragraphs already seen (boilerplate).",
    )
    max_repeated_share_rise: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Gate: fail the batch when its share of repeated paragraphs is this much "
        "above the mean of the last published batches.",
    )
    paragraph_length_ratio: tuple[float, float] = Field(
        (0.5, 2.0),
        description="Gate: fail the batch when its mean paragraph length divided by that of the "
        "last published batches falls outside this range.",
    )
    max_language_shift: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Gate (warn): total variation distance between the batch's article "
        "languages and those of the last published batches.",
    )
    history_batches: int = Field(
        10, ge=1, description="Gate: how many published batches the comparisons look back on."
    )
    min_history_batches: int = Field(
        3, ge=1, description="Gate: compare with history only once this many batches published."
    )
    min_shape_files: int = Field(
        10, ge=1, description="Gate: judge a batch's shares of files only from this many files on."
    )

    @property
    def fallback_source(self) -> tuple[str, str]:
        """(source, origin) of an article that names none and lies in no outlet folder."""
        # Imported here: this module must not load Polars (flows.runtime caps glibc's malloc
        # arenas before Polars starts its threads, and imports this module to do it).
        from transforms.schema import SOURCE_LANDING, SOURCE_SETTING

        if self.default_source is not None:
            return self.default_source, SOURCE_SETTING
        return self.landing.resolve().name or "landing", SOURCE_LANDING

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = Path(os.environ.get("NUTGRAF_CONFIG", CONFIG_FILE))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config))


def open_warehouse(settings: Settings) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
    """The run's read-write connection to its warehouse, with the writer memory limit."""
    return open_writer(settings.warehouse, memory_limit=settings.writer_memory_limit)


def load_settings(**overrides: object) -> Settings:
    """Settings from all sources; `overrides` (CLI flags) win, None values are ignored."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
