-- Release the ledger rows of the chosen files (same path and bytes; no bytes for files never
-- read), so discovery and the duplicate check no longer count them and the next run reads them.
-- A released record (a .jsonl line) releases its file, loaded for its other lines: the next run
-- reads it again, finds those lines unchanged and loads only what changed.
-- Copies of the released bytes (duplicate rows under other paths) are released with them:
-- otherwise the next run would match the released file against its own copy and never read it.
UPDATE source_files
SET released_at = now()
FROM staged_released r
WHERE source_files.released_at IS NULL
  AND (
    (
      source_files.path = r.path
      AND source_files.sha256 IS NOT DISTINCT FROM r.sha256
      AND (source_files.status = 'quarantined' OR r.record IS NOT NULL)
    )
    OR (source_files.sha256 = r.sha256 AND source_files.status = 'duplicate')
  )
