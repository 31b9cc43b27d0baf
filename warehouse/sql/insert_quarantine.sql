INSERT INTO quarantine (quarantine_id, run_id, path, sha256, reason_code, detail)
SELECT quarantine_id, $run_id, path, sha256, reason, detail
FROM staged_quarantine
