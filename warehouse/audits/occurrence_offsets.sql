-- Occurrences of the batch's articles whose character span is empty, reversed or negative:
-- offsets point into the article's decoded text, and every paragraph holds some text.
SELECT o.article_id, o.position, o.char_start, o.char_end
FROM occurrences o
WHERE o.article_id IN (SELECT article_id FROM staged_articles)
  AND NOT (0 <= o.char_start AND o.char_start < o.char_end)
