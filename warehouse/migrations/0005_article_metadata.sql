-- Article formats and metadata: where a story came from and when.
-- `record` is the 1-based line of a .jsonl record (null for one-article formats); `format` is
-- text | markdown | json | jsonl | html. `source_origin` says where `source` came from
-- (metadata | folder); `published_at_origin` where `published_at` came from
-- (metadata | path | mtime). `content_sha256` is the sha256 of the article's text: a record
-- whose content equals its article's latest version is not loaded again.
ALTER TABLE articles ADD COLUMN record INTEGER;
ALTER TABLE articles ADD COLUMN format VARCHAR;
ALTER TABLE articles ADD COLUMN content_sha256 VARCHAR;
ALTER TABLE articles ADD COLUMN source VARCHAR;
ALTER TABLE articles ADD COLUMN source_origin VARCHAR;
ALTER TABLE articles ADD COLUMN url VARCHAR;
ALTER TABLE articles ADD COLUMN published_at_origin VARCHAR;
ALTER TABLE articles ADD COLUMN author VARCHAR;
ALTER TABLE articles ADD COLUMN external_id VARCHAR;
ALTER TABLE articles ADD COLUMN language_hint VARCHAR;
ALTER TABLE quarantine ADD COLUMN record INTEGER;

-- Pairs of articles sharing paragraphs: the article that had them first (earliest
-- published_at) and the one that ran them again, with how many they share.
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
GROUP BY ALL;
