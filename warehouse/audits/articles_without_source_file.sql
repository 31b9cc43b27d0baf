-- Articles of the batch with no ledger row for the file version they came from (same path and
-- bytes): the ledger would not know the file was loaded, and the next run would load it again.
SELECT a.article_id, a.path, a.sha256
FROM articles a
WHERE a.article_id IN (SELECT article_id FROM staged_articles)
  AND NOT EXISTS (
      SELECT 1 FROM source_files s WHERE s.path = a.path AND s.sha256 = a.sha256
  )
