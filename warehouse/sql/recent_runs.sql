-- The last $n runs, newest first, as `nutgraf status` lists them. `gate` as in a run's summary:
-- skipped when nothing was gated (nothing new), else passed or failed.
SELECT run_id, started_at, finished_at, status, batches, files_seen, files_new,
       files_duplicate, files_quarantined, articles, paragraphs_new,
       CASE WHEN gate_success IS NULL THEN 'skipped'
            WHEN gate_success THEN 'passed'
            ELSE 'failed' END AS gate,
       report_path
FROM runs
ORDER BY started_at DESC, run_id DESC
LIMIT $n
