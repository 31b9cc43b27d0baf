-- Ledger rows whose bytes match a file of the batch: those files are duplicates.
SELECT s.sha256, min(s.path) AS first_path
FROM source_files s
WHERE s.sha256 IN (SELECT sha256 FROM staged_hashes)
GROUP BY s.sha256
