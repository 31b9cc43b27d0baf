-- The last $n taggers re-tagged by `nutgraf retag`, newest first (table from migration 0009).
SELECT run_id, tagger, tagger_version, started_at, finished_at, paragraphs, tags
FROM retag_runs
ORDER BY started_at DESC, run_id DESC
LIMIT $n
