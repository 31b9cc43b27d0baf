-- Per ingest run and tagger, the run whose tags of that run's paragraphs are current: the
-- latest retag run that re-tagged them, else the ingest run itself.
CREATE OR REPLACE VIEW current_tagger_runs AS
SELECT ingest_run_id, tagger, run_id, kind, tagger_version, started_at
FROM tagger_runs
QUALIFY row_number() OVER (
    PARTITION BY ingest_run_id, tagger
    ORDER BY kind = 'retag' DESC, started_at DESC, run_id DESC) = 1;
