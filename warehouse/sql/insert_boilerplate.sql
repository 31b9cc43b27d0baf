-- Boilerplate among the batch's paragraphs: in at least $min_articles articles of one source,
-- and at least $edge_share of those occurrences the article's first or last paragraph.
INSERT INTO boilerplate
SELECT a.source, o.paragraph_hash, count(DISTINCT o.article_id) AS articles,
       avg(CASE WHEN o.position = 0 OR o.position = a.n_paragraphs - 1 THEN 1.0 ELSE 0.0 END)
           AS edge_share,
       $run_id
FROM occurrences o
JOIN articles a USING (article_id)
WHERE o.paragraph_hash IN (SELECT paragraph_hash FROM staged_batch_hashes)
  AND o.kind <> 'repeat'
  AND a.source IS NOT NULL
GROUP BY a.source, o.paragraph_hash
HAVING count(DISTINCT o.article_id) >= $min_articles
   AND avg(CASE WHEN o.position = 0 OR o.position = a.n_paragraphs - 1 THEN 1.0 ELSE 0.0 END)
       >= $edge_share
