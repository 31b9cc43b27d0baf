-- Paragraphs that are boilerplate, learnt per source (table boilerplate) or named by rule (a
-- sign-off or credit line: the quality tag likely_boilerplate). current_tags carries both.
CREATE OR REPLACE VIEW boilerplate_paragraphs AS
SELECT DISTINCT paragraph_hash
FROM current_tags
WHERE tag_type = 'quality' AND tag_value = 'likely_boilerplate';
