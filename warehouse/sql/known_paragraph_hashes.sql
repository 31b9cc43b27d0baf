-- Paragraphs of the batch that the warehouse already holds, with their stored language.
SELECT p.paragraph_hash, p.language
FROM paragraphs p
WHERE p.paragraph_hash IN (SELECT paragraph_hash FROM staged_hashes)
