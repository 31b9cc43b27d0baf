-- paragraphs.first_article_id follows the occurrence reorder_first_seen marked 'first'.
UPDATE paragraphs p
SET first_article_id = f.article_id
FROM (
    SELECT paragraph_hash, article_id
    FROM occurrences
    WHERE kind = 'first' AND paragraph_hash IN (SELECT paragraph_hash FROM staged_reordered)
) f
WHERE p.paragraph_hash = f.paragraph_hash AND p.first_article_id <> f.article_id
