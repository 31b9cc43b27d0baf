-- Stored paragraphs a near-duplicate search reached: their text, canonical and when they were
-- first seen (published_at of their first article).
SELECT p.paragraph_hash, p.text, p.near_dup_of, a.published_at AS seen_at
FROM paragraphs p
LEFT JOIN articles a ON a.article_id = p.first_article_id
WHERE p.paragraph_hash IN (SELECT paragraph_hash FROM staged_wanted)
   OR p.paragraph_hash IN (
        SELECT q.near_dup_of FROM paragraphs q
        WHERE q.paragraph_hash IN (SELECT paragraph_hash FROM staged_wanted))
