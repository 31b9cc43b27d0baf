-- The tags in force: per paragraph and tagger, only the rows of the deciding run (as in
-- current_tagger_runs). A version that emits no tag for a paragraph hides the older rows too,
-- and re-tagging with an older version brings its rows back as a new run. The retag coverage
-- is the explicit list `retag_runs.ingest_runs`, not a comparison of start times: an ingest
-- run takes its started_at before it waits for the writer lock, so it can start before a
-- retag and store its paragraphs after it. A retag covers every paragraph stored when it ran
-- and paragraphs are never deleted, so the latest retag of a tagger covers all that earlier
-- ones did: it alone decides, and paragraphs need not be joined.
CREATE OR REPLACE VIEW current_tags AS
WITH latest_retags AS (
    SELECT tagger, run_id, ingest_runs
    FROM retag_runs
    QUALIFY row_number() OVER (PARTITION BY tagger ORDER BY started_at DESC, run_id DESC) = 1
), replaced AS (
    SELECT tagger, unnest(ingest_runs) AS ingest_run_id FROM latest_retags
)
-- rows of ingest runs (run_id = the paragraph's own run) no retag of their tagger replaced
SELECT t.*
FROM paragraph_tags t
WHERE t.run_id NOT IN (SELECT run_id FROM retag_runs)
  AND NOT EXISTS (
      SELECT 1 FROM replaced r WHERE r.tagger = t.tagger AND r.ingest_run_id = t.run_id)
UNION ALL
-- rows of the latest retag run of their tagger
SELECT t.*
FROM paragraph_tags t
JOIN latest_retags l ON l.run_id = t.run_id
UNION ALL
-- likely_boilerplate comes from the dedupe stage (table boilerplate, refreshed by every
-- publish), not from a tagger: always current. tag_detail lists the sources it is boilerplate
-- of; score is the most articles of one source holding it.
SELECT b.paragraph_hash, 'quality', 'likely_boilerplate',
       string_agg(DISTINCT b.source, ',' ORDER BY b.source), NULL::VARCHAR,
       NULL::INTEGER, NULL::INTEGER, NULL::VARCHAR, max(b.articles)::DOUBLE,
       'boilerplate', 'boilerplate_v1', max(b.run_id)
FROM boilerplate b
GROUP BY b.paragraph_hash;
