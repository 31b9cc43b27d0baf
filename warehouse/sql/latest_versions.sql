-- Every version of every article the batch's records may continue: same key (path), same
-- external id or same url as one of its versions.
WITH matched AS (
    SELECT DISTINCT a.article_key
    FROM articles a
    WHERE a.article_key IN (SELECT article_key FROM staged_keys)
       OR a.external_id IN (SELECT external_id FROM staged_keys WHERE external_id IS NOT NULL)
       OR a.url IN (SELECT url FROM staged_keys WHERE url IS NOT NULL)
)
SELECT a.article_key, a.version, a.content_sha256, a.external_id, a.url
FROM articles a
WHERE a.article_key IN (SELECT article_key FROM matched)
