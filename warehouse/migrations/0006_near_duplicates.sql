-- Near-duplicate paragraphs, article-level duplicates and the views that query them.
-- `paragraph_bands` holds the LSH band signatures (transforms/neardup.py) of every paragraph
-- long enough to be matched: a run compares only its new paragraphs against them.
CREATE TABLE paragraph_bands (
    paragraph_hash VARCHAR NOT NULL,
    band_0 UBIGINT NOT NULL, band_1 UBIGINT NOT NULL, band_2 UBIGINT NOT NULL,
    band_3 UBIGINT NOT NULL, band_4 UBIGINT NOT NULL, band_5 UBIGINT NOT NULL,
    band_6 UBIGINT NOT NULL, band_7 UBIGINT NOT NULL, band_8 UBIGINT NOT NULL,
    band_9 UBIGINT NOT NULL, band_10 UBIGINT NOT NULL, band_11 UBIGINT NOT NULL,
    signature BLOB NOT NULL,                -- the first 32 MinHash minima (uint32, little-endian)
    run_id VARCHAR NOT NULL
);
-- How a run normalised, hashed and shingled paragraphs (transforms/normalise.py, neardup.py).
ALTER TABLE runs ADD COLUMN normal_form VARCHAR;
ALTER TABLE runs ADD COLUMN hash_algorithm VARCHAR;
ALTER TABLE runs ADD COLUMN shingling VARCHAR;
-- sha256 of an article's paragraph hashes in order: the same body under any title or file.
ALTER TABLE articles ADD COLUMN body_sha256 VARCHAR;

-- Near-duplicate groups: each member with its canonical paragraph (the earliest seen, then the
-- lowest hash) and its Jaccard similarity to it; the canonical is listed too (similarity 1).
CREATE VIEW near_duplicate_groups AS
SELECT coalesce(p.near_dup_of, p.paragraph_hash) AS canonical_hash,
       p.paragraph_hash AS member_hash,
       p.near_dup_of IS NULL AS is_canonical,
       CASE WHEN p.near_dup_of IS NULL THEN 1.0 ELSE p.similarity END AS similarity,
       p.text
FROM paragraphs p
WHERE p.near_dup_of IS NOT NULL
   OR p.paragraph_hash IN (SELECT near_dup_of FROM paragraphs WHERE near_dup_of IS NOT NULL);

-- Every place a paragraph ran, in time order (run_order 1 is where it was first seen).
CREATE VIEW paragraph_timeline AS
SELECT o.paragraph_hash, a.published_at, a.source, o.article_id, a.path, a.title, o.position,
       o.kind,
       row_number() OVER (
           PARTITION BY o.paragraph_hash
           ORDER BY a.published_at NULLS LAST, a.path, a.record NULLS LAST, o.article_id,
                    o.position) AS run_order
FROM occurrences o
JOIN articles a USING (article_id);

-- Article-level duplicates: the same bytes (a duplicate file, nothing loaded), the same body as
-- an earlier article under another key (a re-issued wire story; `title_changed` says whether its
-- title differs), and a new version of an article.
CREATE VIEW article_duplicates AS
SELECT 'same_bytes' AS kind, s.path, NULL::VARCHAR AS article_id,
       s.duplicate_of AS duplicate_of_path, NULL::VARCHAR AS duplicate_of_article_id,
       NULL::BOOLEAN AS title_changed
FROM source_files s
WHERE s.status = 'duplicate'
UNION ALL
SELECT 'same_body', b.path, b.article_id, f.path, f.article_id, b.title IS DISTINCT FROM f.title
FROM articles b
JOIN (
    SELECT body_sha256, path, article_id, article_key, title
    FROM articles
    WHERE body_sha256 IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY body_sha256
        ORDER BY published_at NULLS LAST, path, record NULLS LAST, article_id) = 1
) f ON f.body_sha256 = b.body_sha256 AND f.article_id <> b.article_id
     AND f.article_key <> b.article_key
UNION ALL
SELECT 'new_version', b.path, b.article_id, a.path, a.article_id, b.title IS DISTINCT FROM a.title
FROM articles b
JOIN articles a ON a.article_key = b.article_key AND a.version = b.version - 1;

-- Paragraph-level difference between two versions of an article:
-- SELECT * FROM version_diff('path/or/key', 1, 2). `change` is 'kept', 'added', 'removed' or
-- 'changed' (a removed and an added paragraph of one near-duplicate group).
CREATE MACRO version_diff(key, old_version, new_version) AS TABLE
WITH old AS (
    SELECT o.position, o.paragraph_hash, coalesce(p.near_dup_of, p.paragraph_hash) AS grp
    FROM occurrences o JOIN articles a USING (article_id) JOIN paragraphs p USING (paragraph_hash)
    WHERE a.article_key = key AND a.version = old_version
), new AS (
    SELECT o.position, o.paragraph_hash, coalesce(p.near_dup_of, p.paragraph_hash) AS grp
    FROM occurrences o JOIN articles a USING (article_id) JOIN paragraphs p USING (paragraph_hash)
    WHERE a.article_key = key AND a.version = new_version
), removed AS (
    SELECT * FROM old WHERE paragraph_hash NOT IN (SELECT paragraph_hash FROM new)
), added AS (
    SELECT * FROM new WHERE paragraph_hash NOT IN (SELECT paragraph_hash FROM old)
), changed AS (
    SELECT r.position AS old_position, d.position AS new_position,
           r.paragraph_hash AS old_hash, d.paragraph_hash AS new_hash
    FROM removed r JOIN added d ON r.grp = d.grp
)
SELECT * FROM (
SELECT 'kept' AS change, o.position AS old_position, n.position AS new_position,
       o.paragraph_hash AS old_hash, n.paragraph_hash AS new_hash
FROM old o JOIN new n USING (paragraph_hash)
UNION ALL
SELECT 'changed', old_position, new_position, old_hash, new_hash FROM changed
UNION ALL
SELECT 'removed', position, NULL, paragraph_hash, NULL FROM removed
WHERE paragraph_hash NOT IN (SELECT old_hash FROM changed)
UNION ALL
SELECT 'added', NULL, position, NULL, paragraph_hash FROM added
WHERE paragraph_hash NOT IN (SELECT new_hash FROM changed)
)
ORDER BY coalesce(new_position, old_position), change;
