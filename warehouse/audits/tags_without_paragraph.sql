-- Paragraph tags the batch wrote for a paragraph that is not stored: tags hang on a paragraph
-- hash, so they would count in views (current_tags, entity_mentions) for text nobody has.
WITH tagged AS (
    SELECT DISTINCT paragraph_hash FROM staged_tags
)
SELECT t.paragraph_hash
FROM tagged t
WHERE t.paragraph_hash NOT IN (
    SELECT paragraph_hash FROM paragraphs
    WHERE paragraph_hash IN (SELECT paragraph_hash FROM tagged)
)
