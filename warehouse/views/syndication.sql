-- Paragraphs an article ran after another article had them first (occurrence kind 'corpus').
-- Boilerplate (boilerplate_paragraphs) is shared by design, so it does not count as syndication.
CREATE OR REPLACE VIEW syndication AS
SELECT p.paragraph_hash, p.first_article_id, o.article_id AS copy_article_id, o.position
FROM occurrences o
JOIN paragraphs p USING (paragraph_hash)
WHERE o.kind = 'corpus'
  AND o.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate_paragraphs);
