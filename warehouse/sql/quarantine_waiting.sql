-- Quarantined files (or .jsonl lines) waiting for release, per reason code, most first.
SELECT reason_code, count(*) AS waiting
FROM quarantine
WHERE released_at IS NULL
GROUP BY reason_code
ORDER BY waiting DESC, reason_code
