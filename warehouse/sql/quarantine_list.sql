-- Quarantined files, newest run first (run ids sort by start time); released ones on request.
SELECT quarantine_id AS id, run_id AS run, path, record, reason_code AS reason, rule, released_at
FROM quarantine
WHERE $include_released OR released_at IS NULL
ORDER BY run_id DESC, path, record NULLS FIRST
