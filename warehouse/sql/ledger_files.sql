-- Every file version in the ledger: discovery skips files whose path, size and mtime match.
SELECT path, size, mtime, sha256, status
FROM source_files
