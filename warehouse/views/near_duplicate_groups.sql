-- Near-duplicate groups: each member with its canonical paragraph (the earliest seen, then the
-- lowest hash) and its Jaccard similarity to it; the canonical is listed too (similarity 1).
CREATE OR REPLACE VIEW near_duplicate_groups AS
SELECT coalesce(p.near_dup_of, p.paragraph_hash) AS canonical_hash,
       p.paragraph_hash AS member_hash,
       p.near_dup_of IS NULL AS is_canonical,
       CASE WHEN p.near_dup_of IS NULL THEN 1.0 ELSE p.similarity END AS similarity,
       p.text
FROM paragraphs p
WHERE p.near_dup_of IS NOT NULL
   OR p.paragraph_hash IN (SELECT near_dup_of FROM paragraphs WHERE near_dup_of IS NOT NULL);
