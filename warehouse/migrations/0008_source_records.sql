-- The ledger of records inside a file version: one row per article a file version held
-- (a .jsonl file: one per line), saying what became of it: 'loaded' (article_id), 'unchanged'
-- (its content was already a version of article_key, so nothing was loaded) or 'quarantined'
-- (reason). `record` is the .jsonl line, null for one-article formats.
CREATE TABLE source_records (
    path        VARCHAR NOT NULL,
    sha256      VARCHAR,
    record      INTEGER,
    status      VARCHAR NOT NULL,
    article_id  VARCHAR,
    article_key VARCHAR,
    reason      VARCHAR,
    run_id      VARCHAR NOT NULL
);
