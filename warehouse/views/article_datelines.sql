-- Articles whose first paragraph opens with a dateline ("GUILDERLAND, N.Y., March 16 -"), and
-- what it says (transforms.dateline).
CREATE OR REPLACE VIEW article_datelines AS
SELECT article_id, path, source, dateline, dateline_city AS city, dateline_region AS region,
       dateline_country AS country_code, dateline_date AS date_text,
       dateline_agency AS agency, published_at, published_at_origin
FROM articles
WHERE dateline IS NOT NULL;
