-- Pairs of articles sharing paragraphs (boilerplate left out): the article that had them first
-- (earliest published_at) and the one that ran them again, with how many they share.
-- "Articles sharing at least 3 paragraphs": WHERE shared_paragraphs >= 3.
CREATE OR REPLACE VIEW syndication_pairs AS
SELECT f.article_id AS first_article_id, fa.source AS first_source,
       fa.published_at AS first_published_at, fa.path AS first_path,
       c.article_id AS copy_article_id, ca.source AS copy_source,
       ca.published_at AS copy_published_at, ca.path AS copy_path,
       count(DISTINCT c.paragraph_hash) AS shared_paragraphs
FROM occurrences c
JOIN occurrences f ON f.paragraph_hash = c.paragraph_hash AND f.kind = 'first'
JOIN articles fa ON fa.article_id = f.article_id
JOIN articles ca ON ca.article_id = c.article_id
WHERE c.kind = 'corpus'
  AND c.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate_paragraphs)
GROUP BY ALL;
