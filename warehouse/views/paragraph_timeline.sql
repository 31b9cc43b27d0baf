-- Every place a paragraph ran, in time order (run_order 1 is where it was first seen).
CREATE OR REPLACE VIEW paragraph_timeline AS
SELECT o.paragraph_hash, a.published_at, a.source, o.article_id, a.path, a.title, o.position,
       o.kind,
       row_number() OVER (
           PARTITION BY o.paragraph_hash
           ORDER BY a.published_at NULLS LAST, a.path, a.record NULLS LAST, o.article_id,
                    o.position) AS run_order
FROM occurrences o
JOIN articles a USING (article_id);
