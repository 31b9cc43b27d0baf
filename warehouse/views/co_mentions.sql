-- Entities named in the same paragraph (tags in force), each pair once:
-- (type_a, value_a) sorts before (type_b, value_b).
CREATE OR REPLACE VIEW co_mentions AS
SELECT a.paragraph_hash, a.tag_type AS type_a, a.tag_value AS value_a,
       b.tag_type AS type_b, b.tag_value AS value_b
FROM (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM current_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) a
JOIN (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM current_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) b
  ON a.paragraph_hash = b.paragraph_hash
 AND (a.tag_type, a.tag_value) < (b.tag_type, b.tag_value);
