INSERT INTO quarantine (quarantine_id, run_id, path, sha256, reason_code, detail, rule)
SELECT quarantine_id, $run_id, path, sha256, reason, detail, rule
FROM staged_quarantine
