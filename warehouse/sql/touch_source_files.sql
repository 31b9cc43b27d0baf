-- A file rewritten with the same bytes: remember its new mtime so discovery skips it again.
UPDATE source_files
SET mtime = t.mtime, size = t.size
FROM staged_touched t
WHERE source_files.path = t.path AND source_files.sha256 = t.sha256
