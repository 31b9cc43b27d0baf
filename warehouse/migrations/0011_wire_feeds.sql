-- Wire feeds: datelines, headline tags, and boilerplate named by rule.

-- The dateline that opens an article's first paragraph ("GUILDERLAND, N.Y., March 16 -"),
-- as written, and what it says (transforms.dateline): null where the story has none.
ALTER TABLE articles ADD COLUMN dateline VARCHAR;
ALTER TABLE articles ADD COLUMN dateline_city VARCHAR;
ALTER TABLE articles ADD COLUMN dateline_region VARCHAR;   -- state or province as written
ALTER TABLE articles ADD COLUMN dateline_country VARCHAR;  -- ISO 3166 alpha-2
ALTER TABLE articles ADD COLUMN dateline_date VARCHAR;     -- the date as written ("March 16")
ALTER TABLE articles ADD COLUMN dateline_agency VARCHAR;   -- "(Reuters)" -> Reuters

CREATE VIEW article_datelines AS
SELECT article_id, path, source, dateline, dateline_city AS city, dateline_region AS region,
       dateline_country AS country_code, dateline_date AS date_text,
       dateline_agency AS agency, published_at, published_at_origin
FROM articles
WHERE dateline IS NOT NULL;

-- Tags of an article's title (headline), keyed by the article: a title is no paragraph, so
-- its tags cannot hang on a paragraph hash. Spans are offsets into the normalised title.
CREATE TABLE title_tags (
    article_id     VARCHAR NOT NULL,
    tag_type       VARCHAR NOT NULL,
    tag_value      VARCHAR NOT NULL,
    tag_detail     VARCHAR,
    country_code   VARCHAR,
    span_start     INTEGER,
    span_end       INTEGER,
    surface        VARCHAR,
    score          DOUBLE,
    tagger         VARCHAR NOT NULL,
    tagger_version VARCHAR NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- Every tag of an article, its title's and its paragraphs' (current tags, one row per
-- occurrence), with `part` saying which: "which stories mention the US" in one line.
CREATE VIEW article_tags AS
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

-- Paragraphs that are boilerplate, learnt per source (table boilerplate) or named by rule (a
-- sign-off or credit line: the quality tag likely_boilerplate). current_tags carries both.
CREATE VIEW boilerplate_paragraphs AS
SELECT DISTINCT paragraph_hash
FROM current_tags
WHERE tag_type = 'quality' AND tag_value = 'likely_boilerplate';

CREATE OR REPLACE VIEW syndication AS
SELECT p.paragraph_hash, p.first_article_id, o.article_id AS copy_article_id, o.position
FROM occurrences o
JOIN paragraphs p USING (paragraph_hash)
WHERE o.kind = 'corpus'
  AND o.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate_paragraphs);

CREATE OR REPLACE VIEW syndication_pairs AS
SELECT f.article_id AS first_article_id, fa.source AS first_source,
       fa.published_at AS first_published_at, fa.path AS first_path,
       c.article_id AS copy_article_id, ca.source AS copy_source,
       ca.published_at AS copy_published_at, ca.path AS copy_path,
       count(DISTINCT c.paragraph_hash) AS shared_paragraphs
FROM occurrences c
JOIN occurrences f ON f.paragraph_hash = c.paragraph_hash AND f.kind = 'first'
JOIN articles fa ON fa.article_id = f.article_id
JOIN articles ca ON ca.article_id = c.article_id
WHERE c.kind = 'corpus'
  AND c.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate_paragraphs)
GROUP BY ALL;
