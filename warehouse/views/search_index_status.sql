-- Is the search index fresh? One row: the latest build and what the warehouse holds now.
CREATE OR REPLACE VIEW search_index_status AS
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
