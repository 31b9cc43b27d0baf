-- The current version of every article the batch's records may continue: by key (path), by
-- external id and by url.
SELECT a.article_key, a.version, a.content_sha256, a.external_id, a.url
FROM current_articles a
WHERE a.article_key IN (SELECT article_key FROM staged_keys)
   OR a.external_id IN (SELECT external_id FROM staged_keys WHERE external_id IS NOT NULL)
   OR a.url IN (SELECT url FROM staged_keys WHERE url IS NOT NULL)
