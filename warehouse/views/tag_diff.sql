-- Tags one version of a tagger gives and the other does not:
-- SELECT * FROM tag_diff('entities', 'entities_v1', 'entities_v2'). Only paragraphs both
-- versions tagged count (an ingest or retag run of each covered them; the latest run of each
-- version decides), so a paragraph the new version gives no tag at all shows as 'removed'.
-- `change` is 'added' (only the new version) or 'removed' (only the old one).
CREATE OR REPLACE MACRO tag_diff(tagger_name, old_version, new_version) AS TABLE
WITH runs_of AS (
    SELECT ingest_run_id, tagger_version, arg_max(run_id, started_at) AS run_id
    FROM tagger_runs
    WHERE tagger = tagger_name AND tagger_version IN (old_version, new_version)
    GROUP BY ALL
), both_versions AS (
    SELECT ingest_run_id,
           any_value(run_id) FILTER (WHERE tagger_version = old_version) AS old_run,
           any_value(run_id) FILTER (WHERE tagger_version = new_version) AS new_run
    FROM runs_of
    GROUP BY ingest_run_id
    HAVING old_run IS NOT NULL AND new_run IS NOT NULL
), old AS (
    SELECT t.paragraph_hash, t.tag_type, t.tag_value, t.span_start, t.span_end
    FROM paragraph_tags t
    JOIN paragraphs p USING (paragraph_hash)
    JOIN both_versions b ON b.ingest_run_id = p.run_id AND b.old_run = t.run_id
    WHERE t.tagger = tagger_name
), new AS (
    SELECT t.paragraph_hash, t.tag_type, t.tag_value, t.span_start, t.span_end
    FROM paragraph_tags t
    JOIN paragraphs p USING (paragraph_hash)
    JOIN both_versions b ON b.ingest_run_id = p.run_id AND b.new_run = t.run_id
    WHERE t.tagger = tagger_name
)
SELECT * FROM (
    SELECT *, 'added' AS change FROM (SELECT * FROM new EXCEPT SELECT * FROM old)
    UNION ALL
    SELECT *, 'removed' AS change FROM (SELECT * FROM old EXCEPT SELECT * FROM new)
)
ORDER BY paragraph_hash, tag_type, tag_value, span_start NULLS FIRST, change;
