-- Paragraphs of the batch already known as boilerplate: learnt for any source (table
-- boilerplate), or a sign-off or credit line by rule (quality tag likely_boilerplate).
SELECT paragraph_hash
FROM boilerplate
WHERE paragraph_hash IN (SELECT paragraph_hash FROM staged_hashes)
UNION
SELECT paragraph_hash
FROM paragraph_tags
WHERE tag_type = 'quality' AND tag_value = 'likely_boilerplate'
  AND paragraph_hash IN (SELECT paragraph_hash FROM staged_hashes)
