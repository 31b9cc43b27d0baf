-- Paragraph hashes of the batch that the warehouse already holds.
SELECT p.paragraph_hash
FROM paragraphs p
WHERE p.paragraph_hash IN (SELECT paragraph_hash FROM staged_hashes)
