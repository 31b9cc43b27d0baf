-- The language tagger's new verdicts: paragraphs.language follows the current language tag.
UPDATE paragraphs
SET language = s.language
FROM staged_languages s
WHERE paragraphs.paragraph_hash = s.paragraph_hash
  AND paragraphs.language IS DISTINCT FROM s.language
