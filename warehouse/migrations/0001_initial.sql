-- The warehouse tables of nutgraf v1. Documented in README.md, "Tables".

CREATE TABLE runs (
    run_id          VARCHAR PRIMARY KEY,
    flow_run_id     VARCHAR,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,          -- published | nothing_new | gate_failed
    batches         INTEGER NOT NULL,          -- batches published so far (one transaction each)
    landing         VARCHAR NOT NULL,
    files_seen      INTEGER NOT NULL,
    files_new       INTEGER NOT NULL,
    files_duplicate INTEGER NOT NULL,
    files_quarantined INTEGER NOT NULL,
    articles        INTEGER NOT NULL,
    paragraphs_new  INTEGER NOT NULL,
    occurrences     INTEGER NOT NULL,
    tags            INTEGER NOT NULL,
    counts          JSON,                      -- occurrences by kind, tags by type
    gate_success    BOOLEAN,
    failed_checks   VARCHAR[],
    report_path     VARCHAR
);

CREATE TABLE source_files (
    path        VARCHAR NOT NULL,              -- relative to the landing folder, posix
    sha256      VARCHAR,                       -- of the bytes: the identity of a file version;
                                               -- null when the file was not read (see reason)
    size        BIGINT NOT NULL,
    mtime       DOUBLE NOT NULL,
    status      VARCHAR NOT NULL,              -- loaded | duplicate | quarantined
    reason      VARCHAR,
    duplicate_of VARCHAR,                      -- path of the first file with these bytes
    encoding    VARCHAR,
    run_id      VARCHAR NOT NULL
);

CREATE TABLE articles (
    article_id   VARCHAR PRIMARY KEY,          -- one article version
    article_key  VARCHAR NOT NULL,             -- the article across versions (its path in v1)
    version      INTEGER NOT NULL,
    path         VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    title        VARCHAR,
    encoding     VARCHAR NOT NULL,
    language     VARCHAR,
    n_paragraphs INTEGER NOT NULL,
    n_chars      BIGINT NOT NULL,
    published_at TIMESTAMPTZ,
    run_id       VARCHAR NOT NULL,
    UNIQUE (article_key, version)
);

CREATE TABLE paragraphs (
    paragraph_hash   VARCHAR PRIMARY KEY,      -- sha256 hex of the normalised text
    text             VARCHAR NOT NULL,         -- normalised text (see README, "Normal form")
    n_chars          INTEGER NOT NULL,
    n_words          INTEGER NOT NULL,
    language         VARCHAR,
    first_article_id VARCHAR NOT NULL,
    near_dup_of      VARCHAR,                  -- filled by near-duplicate search (later)
    similarity       DOUBLE,
    run_id           VARCHAR NOT NULL
);

CREATE TABLE occurrences (
    article_id          VARCHAR NOT NULL,
    position            INTEGER NOT NULL,
    paragraph_hash      VARCHAR NOT NULL,
    char_start          BIGINT NOT NULL,       -- offsets into the article's decoded text
    char_end            BIGINT NOT NULL,
    kind                VARCHAR NOT NULL,      -- first | repeat | corpus
    repeat_of_position  INTEGER,
    PRIMARY KEY (article_id, position)
);

CREATE TABLE paragraph_tags (
    paragraph_hash VARCHAR NOT NULL,
    tag_type       VARCHAR NOT NULL,           -- person | place | organisation | topic | language | quality
    tag_value      VARCHAR NOT NULL,
    tag_detail     VARCHAR,
    country_code   VARCHAR,
    span_start     INTEGER,                    -- offsets into paragraphs.text; null for whole-paragraph tags
    span_end       INTEGER,
    surface        VARCHAR,
    score          DOUBLE,
    tagger         VARCHAR NOT NULL,
    tagger_version VARCHAR NOT NULL,
    run_id         VARCHAR NOT NULL
);

CREATE TABLE dq_results (
    run_id           VARCHAR NOT NULL,
    batch            INTEGER NOT NULL,
    suite            VARCHAR NOT NULL,
    expectation      VARCHAR NOT NULL,
    column_name      VARCHAR,
    severity         VARCHAR NOT NULL,         -- fail | quarantine | warn
    success          BOOLEAN NOT NULL,
    observed         JSON,
    unexpected_count BIGINT,
    examples         JSON
);

CREATE TABLE quarantine (
    quarantine_id VARCHAR PRIMARY KEY,
    run_id        VARCHAR NOT NULL,
    path          VARCHAR NOT NULL,
    sha256        VARCHAR,
    reason_code   VARCHAR NOT NULL,
    detail        VARCHAR,
    released_at   TIMESTAMPTZ
);

CREATE VIEW current_articles AS
SELECT a.* FROM articles a
QUALIFY a.version = max(a.version) OVER (PARTITION BY a.article_key);

CREATE VIEW article_text AS
SELECT o.article_id, a.path, a.version, a.title, o.position, o.kind, p.text, p.paragraph_hash
FROM occurrences o
JOIN articles a USING (article_id)
JOIN paragraphs p USING (paragraph_hash);

CREATE VIEW entity_mentions AS
SELECT t.tag_type, t.tag_value, t.country_code, t.surface, o.article_id, a.path, o.position,
       t.paragraph_hash, t.span_start, t.span_end, t.tagger_version
FROM paragraph_tags t
JOIN occurrences o USING (paragraph_hash)
JOIN articles a USING (article_id)
WHERE t.tag_type IN ('person', 'place', 'organisation');

CREATE VIEW co_mentions AS
SELECT a.paragraph_hash, a.tag_type AS type_a, a.tag_value AS value_a,
       b.tag_type AS type_b, b.tag_value AS value_b
FROM (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM paragraph_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) a
JOIN (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM paragraph_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) b
  ON a.paragraph_hash = b.paragraph_hash
 AND (a.tag_type, a.tag_value) < (b.tag_type, b.tag_value);

CREATE VIEW syndication AS
SELECT p.paragraph_hash, p.first_article_id, o.article_id AS copy_article_id, o.position
FROM occurrences o
JOIN paragraphs p USING (paragraph_hash)
WHERE o.kind = 'corpus';

CREATE VIEW dq_history AS
SELECT r.started_at, r.status, d.*
FROM dq_results d JOIN runs r USING (run_id);
