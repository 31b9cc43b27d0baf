-- An article's paragraphs with their text: a paragraph's text is stored once per hash, so
-- reading an article back joins it to its occurrences (ORDER BY position).
CREATE OR REPLACE VIEW article_text AS
SELECT o.article_id, a.path, a.version, a.title, o.position, o.kind, p.text, p.paragraph_hash
FROM occurrences o
JOIN articles a USING (article_id)
JOIN paragraphs p USING (paragraph_hash);
