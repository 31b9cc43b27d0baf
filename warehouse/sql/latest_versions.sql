-- The highest version already loaded for each article key of the batch.
SELECT a.article_key, max(a.version) AS version
FROM articles a
WHERE a.article_key IN (SELECT article_key FROM staged_keys)
GROUP BY a.article_key
