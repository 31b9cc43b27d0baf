-- Full-text search (warehouse/search.py): a BM25 index over paragraphs.text, built by DuckDB's
-- fts extension into the schema fts_main_paragraphs. The index is a snapshot: it does not
-- follow later inserts. One row per build, written in the build's transaction; the latest
-- row says what the index covers. Paragraphs are only ever added (content-addressed, never
-- rewritten or deleted), so the index is fresh while the paragraph count and the latest run
-- that stored paragraphs are still those recorded here (view search_index_status).
CREATE TABLE search_index (
    built_at      TIMESTAMPTZ NOT NULL,
    paragraphs    BIGINT NOT NULL,     -- paragraphs indexed: all those stored when it was built
    last_run_id   VARCHAR,             -- the latest run that had stored paragraphs (max paragraphs.run_id)
    index_version VARCHAR NOT NULL,    -- tokenizer, stemmer and stopwords together (search.INDEX_VERSION)
    stemmer       VARCHAR NOT NULL,    -- Snowball stemmer applied to text and queries ('english')
    stopwords     VARCHAR NOT NULL,    -- words left out of the index ('english': 571 common words)
    seconds       DOUBLE NOT NULL,     -- time the build took, commit excluded
    trigger       VARCHAR NOT NULL     -- 'run' (after a run that published) or 'search' (on demand)
);

-- Is the search index fresh? One row: the latest build and what the warehouse holds now.
CREATE VIEW search_index_status AS
WITH latest AS (
    SELECT * FROM search_index ORDER BY built_at DESC LIMIT 1
), now_held AS (
    SELECT count(*) AS paragraphs_now, max(run_id) AS last_run_id_now FROM paragraphs
)
SELECT l.built_at, l.paragraphs AS paragraphs_indexed, n.paragraphs_now,
       l.last_run_id AS last_run_id_indexed, n.last_run_id_now, l.index_version, l.stemmer,
       l.stopwords, l.seconds,
       coalesce(l.paragraphs = n.paragraphs_now
                AND l.last_run_id IS NOT DISTINCT FROM n.last_run_id_now, false) AS fresh
FROM now_held n
LEFT JOIN latest l ON true;
