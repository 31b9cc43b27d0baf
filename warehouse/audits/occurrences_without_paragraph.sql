-- Occurrences of the run's articles whose paragraph is not stored: the article could not be
-- read back. A paragraph's text is stored once, by the batch that first had it, so a batch
-- that skipped a hash it did not already hold leaves such a hole.
WITH batch AS (
    SELECT o.article_id, o.position, o.paragraph_hash
    FROM occurrences o
    JOIN articles a USING (article_id)
    WHERE a.run_id = $run_id
)
SELECT b.article_id, b.position, b.paragraph_hash
FROM batch b
WHERE b.paragraph_hash NOT IN (
    SELECT paragraph_hash FROM paragraphs
    WHERE paragraph_hash IN (SELECT paragraph_hash FROM batch)
)
