-- Every file version in the ledger: discovery skips files whose path, size and mtime match.
-- Released rows (`nutgraf quarantine release`) do not count, so their files are read again.
SELECT path, size, mtime, sha256, status
FROM source_files
WHERE released_at IS NULL
