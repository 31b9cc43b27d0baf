-- Occurrences of the batch's articles whose paragraph is not stored: the article could not be
-- read back. A paragraph's text is stored once, by the batch that first had it, so a batch
-- that skipped a hash it did not already hold leaves such a hole.
WITH batch AS (
    SELECT article_id, position, paragraph_hash
    FROM occurrences
    WHERE article_id IN (SELECT article_id FROM staged_articles)
)
SELECT b.article_id, b.position, b.paragraph_hash
FROM batch b
WHERE b.paragraph_hash NOT IN (
    SELECT paragraph_hash FROM paragraphs
    WHERE paragraph_hash IN (SELECT paragraph_hash FROM batch)
)
