-- Extend the BM25 index (schema fts_main_paragraphs, made by create_search_index.sql) by the
-- batch's new paragraphs (staged_paragraphs), inside the publish transaction: the index then
-- covers exactly what the commit stores. The same steps create_fts_index takes over a whole
-- table, over these rows only: the index's own tokenize macro (lower-case, accents stripped,
-- punctuation and symbols split words), stopwords left out, each distinct word stemmed once;
-- new terms get the next term ids, every term's document frequency grows by the new
-- paragraphs holding it, and the corpus statistics are recomputed. BM25 scores afterwards
-- equal those of a full rebuild (tests/warehouse/test_search.py).
CREATE OR REPLACE TEMP TABLE search_new_docs AS
SELECT (SELECT coalesce(max(docid) + 1, 0) FROM fts_main_paragraphs.docs)
           + row_number() OVER (ORDER BY paragraph_hash) - 1 AS docid,
       paragraph_hash AS name, text
FROM staged_paragraphs;

CREATE OR REPLACE TEMP TABLE search_new_words AS
SELECT docid, unnest(fts_main_paragraphs.tokenize(text)) AS w
FROM search_new_docs;

CREATE OR REPLACE TEMP TABLE search_new_terms AS
WITH stems AS (
    SELECT w, stem(w, 'english') AS term
    FROM (SELECT DISTINCT w FROM search_new_words)
    WHERE w IS NOT NULL AND len(w) > 0
      AND w NOT IN (SELECT sw FROM fts_main_paragraphs.stopwords)
)
SELECT n.docid, s.term FROM search_new_words n JOIN stems s USING (w);

INSERT INTO fts_main_paragraphs.dict (termid, term, df)
SELECT (SELECT coalesce(max(termid) + 1, 0) FROM fts_main_paragraphs.dict)
           + row_number() OVER (ORDER BY term) - 1,
       term, 0
FROM (SELECT DISTINCT term FROM search_new_terms) n
ANTI JOIN fts_main_paragraphs.dict d USING (term);

INSERT INTO fts_main_paragraphs.docs (docid, name, len)
SELECT n.docid, n.name, coalesce(c.len, 0)
FROM search_new_docs n
LEFT JOIN (SELECT docid, count(*) AS len FROM search_new_terms GROUP BY docid) c USING (docid);

INSERT INTO fts_main_paragraphs.terms (docid, fieldid, termid)
SELECT t.docid, 0, d.termid
FROM search_new_terms t JOIN fts_main_paragraphs.dict d USING (term);

UPDATE fts_main_paragraphs.dict SET df = dict.df + n.df
FROM (SELECT term, count(DISTINCT docid) AS df FROM search_new_terms GROUP BY term) n
WHERE dict.term = n.term;

UPDATE fts_main_paragraphs.stats SET num_docs = s.num_docs, avgdl = s.avgdl
FROM (SELECT count(docid) AS num_docs, sum(len) / count(len) AS avgdl
      FROM fts_main_paragraphs.docs) s;

DROP TABLE search_new_docs;
DROP TABLE search_new_words;
DROP TABLE search_new_terms;
