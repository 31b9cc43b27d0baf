-- Stored paragraphs whose group gained an earlier-seen canonical in this batch.
UPDATE paragraphs p
SET near_dup_of = r.near_dup_of, similarity = r.similarity
FROM staged_repointed r
WHERE p.paragraph_hash = r.paragraph_hash
