-- Paragraphs the batch stored that appear in no article: text nothing leads to, and a hash
-- later batches would count as already seen. A paragraph the batch stored has one of the
-- batch's articles as its first.
WITH stored AS (
    SELECT paragraph_hash, first_article_id
    FROM paragraphs
    WHERE first_article_id IN (SELECT article_id FROM staged_articles)
)
SELECT s.paragraph_hash, s.first_article_id
FROM stored s
WHERE s.paragraph_hash NOT IN (
    SELECT paragraph_hash FROM occurrences
    WHERE paragraph_hash IN (SELECT paragraph_hash FROM stored)
)
