-- Boilerplate: paragraphs that recur across many articles of one source, mostly as their
-- first or last paragraph (sign-offs, "Reporting by ...", newsletter pleas, a columnist's bio).
-- Refreshed by every publish for the paragraphs of its batch (settings boilerplate_min_articles
-- and boilerplate_edge_share). Boilerplate does not count as syndication, and paragraphs
-- already flagged do not count in a batch's share of repeated paragraphs.
CREATE TABLE boilerplate (
    source         VARCHAR NOT NULL,
    paragraph_hash VARCHAR NOT NULL,
    articles       BIGINT NOT NULL,        -- articles of the source holding it
    edge_share     DOUBLE NOT NULL,        -- share of those occurrences at the first or last position
    run_id         VARCHAR NOT NULL
);

DROP VIEW syndication_pairs;
DROP VIEW syndication;

CREATE VIEW syndication AS
SELECT p.paragraph_hash, p.first_article_id, o.article_id AS copy_article_id, o.position
FROM occurrences o
JOIN paragraphs p USING (paragraph_hash)
WHERE o.kind = 'corpus'
  AND o.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate);

-- Pairs of articles sharing paragraphs (boilerplate left out): the article that had them first
-- (earliest published_at) and the one that ran them again, with how many they share.
-- "Articles sharing at least 3 paragraphs": WHERE shared_paragraphs >= 3.
CREATE VIEW syndication_pairs AS
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
  AND c.paragraph_hash NOT IN (SELECT paragraph_hash FROM boilerplate)
GROUP BY ALL;
