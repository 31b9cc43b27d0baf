-- Per tagger: the versions the current tags of the stored paragraphs were made with, and how
-- many paragraphs each covers (view current_tagger_runs, warehouse/views).
SELECT c.tagger, c.tagger_version, count(*) AS paragraphs
FROM paragraphs p
JOIN current_tagger_runs c ON c.ingest_run_id = p.run_id
GROUP BY ALL
ORDER BY ALL
