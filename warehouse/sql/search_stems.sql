-- The index terms of the batch's distinct words (staged_search_words: w), as create_fts_index
-- makes them: stopwords left out, each word cut to its Snowball English stem; with the id the
-- term already has in the index (null for a new term).
WITH stems AS (
    SELECT w, stem(w, 'english') AS term
    FROM staged_search_words
    WHERE w IS NOT NULL AND len(w) > 0
      AND w NOT IN (SELECT sw FROM fts_main_paragraphs.stopwords)
)
SELECT s.w, s.term, d.termid
FROM stems s LEFT JOIN fts_main_paragraphs.dict d USING (term)
