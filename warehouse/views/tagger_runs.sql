-- Every run that tagged paragraphs, per tagger: an ingest run tagged the paragraphs it stored,
-- a retag run those of every ingest run in `ingest_runs`. One row per (run, tagger, ingest run).
CREATE OR REPLACE VIEW tagger_runs AS
SELECT r.run_id, 'ingest' AS kind, k.tagger, r.tagger_versions ->> k.tagger AS tagger_version,
       r.started_at, r.run_id AS ingest_run_id
FROM runs r, unnest(json_keys(r.tagger_versions)) AS k(tagger)
UNION ALL
SELECT g.run_id, 'retag', g.tagger, g.tagger_version, g.started_at, i.ingest_run_id
FROM retag_runs g, unnest(g.ingest_runs) AS i(ingest_run_id);
