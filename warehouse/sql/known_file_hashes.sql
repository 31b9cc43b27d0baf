-- Ledger rows whose bytes match a file of the batch: those files are duplicates.
-- Released rows do not count: a released file is loaded, not matched against its own bytes.
SELECT s.sha256, min(s.path) AS first_path
FROM source_files s
WHERE s.sha256 IN (SELECT sha256 FROM staged_hashes)
  AND s.released_at IS NULL
GROUP BY s.sha256
