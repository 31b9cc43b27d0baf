-- First seen follows published_at: for the paragraphs a batch shares with earlier batches,
-- the occurrence in the earliest article (published_at, path, record, article_id; the order
-- of transforms.dedupe.FIRST_SEEN_ORDER) is 'first' and the others 'corpus', so a copy loaded
-- before its original turns into the copy when the original arrives. Repeats inside an
-- article stay repeats.
UPDATE occurrences o
SET kind = r.new_kind
FROM (
    SELECT o.article_id, o.position,
           CASE WHEN row_number() OVER (
                    PARTITION BY o.paragraph_hash
                    ORDER BY a.published_at NULLS LAST, a.path, a.record NULLS LAST,
                             a.article_id, o.position) = 1
                THEN 'first' ELSE 'corpus' END AS new_kind,
           o.kind AS old_kind
    FROM occurrences o
    JOIN articles a USING (article_id)
    WHERE o.kind <> 'repeat'
      AND o.paragraph_hash IN (SELECT paragraph_hash FROM staged_reordered)
) r
WHERE o.article_id = r.article_id AND o.position = r.position AND r.new_kind <> r.old_kind
