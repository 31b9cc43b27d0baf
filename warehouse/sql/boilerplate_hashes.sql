-- Paragraphs of the batch already flagged as boilerplate (for any source).
SELECT DISTINCT paragraph_hash
FROM boilerplate
WHERE paragraph_hash IN (SELECT paragraph_hash FROM staged_hashes)
