-- Every mention of a person, place or organisation, one row per occurrence of its paragraph.
-- Only the tags in force (current_tags), so a retag replaces the mentions it re-tagged.
CREATE OR REPLACE VIEW entity_mentions AS
SELECT t.tag_type, t.tag_value, t.country_code, t.surface, o.article_id, a.path, o.position,
       t.paragraph_hash, t.span_start, t.span_end, t.tagger_version
FROM current_tags t
JOIN occurrences o USING (paragraph_hash)
JOIN articles a USING (article_id)
WHERE t.tag_type IN ('person', 'place', 'organisation');
