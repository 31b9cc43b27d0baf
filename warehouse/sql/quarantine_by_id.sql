-- One quarantine row, released or not.
SELECT quarantine_id, run_id, path, record, sha256, reason_code, rule, detail, released_at
FROM quarantine
WHERE quarantine_id = $quarantine_id
