-- Paragraphs matching a full-text query, best BM25 score first, with the article each was
-- first seen in:  SELECT * FROM search_paragraphs('energy cooperation', top_n := 10)
-- `all_words := true` keeps only paragraphs holding every word of the query (after stemming,
-- stopwords left out); by default any word counts and more of them rank higher. `top_n` keeps
-- the best n before texts and articles are joined: faster than a LIMIT outside (which works
-- too) on a large warehouse. Created with the index (warehouse/search.py): DuckDB binds a
-- macro's body when it is created, and fts_main_paragraphs.match_bm25 exists only once the
-- index does.
CREATE OR REPLACE MACRO search_paragraphs(query_string, all_words := false, top_n := NULL)
AS TABLE
WITH best AS (
    SELECT paragraph_hash, score
    FROM (
        SELECT paragraph_hash,
               fts_main_paragraphs.match_bm25(paragraph_hash, query_string,
                                              conjunctive := all_words) AS score
        FROM paragraphs
    )
    WHERE score IS NOT NULL
    ORDER BY score DESC, paragraph_hash
    LIMIT top_n
)
SELECT b.score, p.paragraph_hash, p.text, p.language, p.first_article_id AS article_id,
       a.path, a.title, a.published_at, a.source
FROM best b
JOIN paragraphs p USING (paragraph_hash)
LEFT JOIN articles a ON a.article_id = p.first_article_id
ORDER BY b.score DESC, b.paragraph_hash;
