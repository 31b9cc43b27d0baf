INSERT INTO quarantine (quarantine_id, run_id, path, sha256, reason_code, detail, rule, record)
SELECT quarantine_id, $run_id, path, sha256, reason, detail, rule, record
FROM staged_quarantine
