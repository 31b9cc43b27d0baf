-- Rows `nutgraf quarantine release --all` picks: every unreleased one, or those of one reason.
SELECT quarantine_id, run_id, path, record, sha256, reason_code, rule, detail, released_at
FROM quarantine
WHERE released_at IS NULL
  AND ($reason_code IS NULL OR reason_code = $reason_code)
ORDER BY run_id DESC, path, record NULLS FIRST
