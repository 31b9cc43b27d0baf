-- Article-level duplicates: the same bytes (a duplicate file, nothing loaded), the same body as
-- an earlier article under another key (a re-issued wire story; `title_changed` says whether its
-- title differs), and a new version of an article.
CREATE OR REPLACE VIEW article_duplicates AS
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
