-- The retag runs of one `nutgraf retag`, one per tagger, each covering every paragraph stored
-- now (the ingest runs that stored them). Written first: a run id already there fails at once.
INSERT INTO retag_runs (run_id, tagger, tagger_version, started_at, finished_at, paragraphs,
                        tags, flow_run_id, ingest_runs)
SELECT r.run_id, r.tagger, r.tagger_version, r.started_at, now(), r.paragraphs, r.tags,
       r.flow_run_id,
       coalesce((SELECT list(DISTINCT run_id ORDER BY run_id) FROM paragraphs), [])
FROM staged_retag_runs r
