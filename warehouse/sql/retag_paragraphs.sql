-- A page of stored paragraphs to re-tag: the first $limit after hash $after, in hash order,
-- with the stored language and that of the article each was first seen in.
WITH page AS (
    SELECT paragraph_hash, text, language, first_article_id
    FROM paragraphs
    WHERE paragraph_hash > $after
    ORDER BY paragraph_hash
    LIMIT $limit
)
SELECT page.paragraph_hash, page.text, page.language, a.language AS article_language
FROM page
LEFT JOIN articles a ON a.article_id = page.first_article_id
ORDER BY page.paragraph_hash
