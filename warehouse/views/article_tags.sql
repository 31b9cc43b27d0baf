-- Every tag of an article, its title's and its paragraphs' (current tags, one row per
-- occurrence), with `part` saying which: "which stories mention the US" in one line.
CREATE OR REPLACE VIEW article_tags AS
SELECT article_id, 'title' AS part, NULL::INTEGER AS position, NULL::VARCHAR AS paragraph_hash,
       tag_type, tag_value, tag_detail, country_code, span_start, span_end, surface, score,
       tagger, tagger_version
FROM title_tags
UNION ALL
SELECT o.article_id, 'body', o.position, t.paragraph_hash,
       t.tag_type, t.tag_value, t.tag_detail, t.country_code, t.span_start, t.span_end,
       t.surface, t.score, t.tagger, t.tagger_version
FROM occurrences o
JOIN current_tags t USING (paragraph_hash);
