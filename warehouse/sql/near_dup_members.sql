-- Stored members of groups whose canonical a new, earlier-seen paragraph replaces.
SELECT p.paragraph_hash, p.text, p.near_dup_of
FROM paragraphs p
WHERE p.near_dup_of IN (SELECT paragraph_hash FROM staged_replaced)
   OR p.paragraph_hash IN (SELECT paragraph_hash FROM staged_replaced)
