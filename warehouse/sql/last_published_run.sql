-- The newest run that published data: where `nutgraf report` points when the newest run
-- published nothing (nothing new, or its gate failed).
SELECT run_id, started_at, finished_at, report_path
FROM runs
WHERE status = 'published'
ORDER BY started_at DESC, run_id DESC
LIMIT 1
