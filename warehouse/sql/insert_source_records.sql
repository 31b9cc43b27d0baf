INSERT INTO source_records (path, sha256, record, status, article_id, article_key, reason, run_id)
SELECT path, sha256, record, status, article_id, article_key, reason, $run_id
FROM staged_source_records
