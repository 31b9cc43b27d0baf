-- The last $n runs, newest first, as `nutgraf status` lists them. `gate` as in a run's summary:
-- skipped when nothing was gated (nothing new), else passed or failed. `seconds`: wall time
-- from the flow's start to its end (finish_run.sql).
SELECT run_id, started_at, finished_at,
       date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds, status, batches, files_seen, files_new,
       files_duplicate, files_quarantined, articles, paragraphs_new,
       CASE WHEN gate_success IS NULL THEN 'skipped'
            WHEN gate_success THEN 'passed'
            ELSE 'failed' END AS gate,
       report_path
FROM runs
ORDER BY started_at DESC, run_id DESC
LIMIT $n
