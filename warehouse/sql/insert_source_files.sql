INSERT INTO source_files (path, sha256, size, mtime, status, reason, duplicate_of, encoding, run_id)
SELECT path, sha256, size, mtime, status, reason, duplicate_of, encoding, $run_id
FROM staged_source_files
