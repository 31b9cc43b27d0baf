-- The people, places and organisations each article names, one row per (article, type,
-- value), title and body together. A person named by a single word ("Reagan", "President
-- Reagan") takes the one longer person name of the same article that ends in that word
-- ("Ronald Reagan"), when the article has exactly one: paragraph tags stay as the tagger
-- stored them (a paragraph two articles share keeps one set), and the article decides here.
CREATE OR REPLACE VIEW article_entities AS
WITH named AS (
    SELECT article_id, part, tag_type, tag_value
    FROM article_tags
    WHERE tag_type IN ('person', 'place', 'organisation')
),
full_names AS (
    SELECT article_id, regexp_extract(tag_value, '(\S+)$', 1) AS surname,
           any_value(tag_value) AS full_name
    FROM (SELECT DISTINCT article_id, tag_value FROM named
          WHERE tag_type = 'person' AND contains(tag_value, ' '))
    GROUP BY ALL
    HAVING count(*) = 1
)
SELECT n.article_id, n.tag_type, coalesce(f.full_name, n.tag_value) AS tag_value,
       count(*) AS mentions, bool_or(n.part = 'title') AS in_title,
       count(f.full_name) AS resolved_mentions
FROM named n
LEFT JOIN full_names f
  ON n.tag_type = 'person' AND NOT contains(n.tag_value, ' ')
 AND f.article_id = n.article_id AND f.surname = n.tag_value
GROUP BY ALL;
