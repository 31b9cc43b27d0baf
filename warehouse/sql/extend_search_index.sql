-- Extend the BM25 index (schema fts_main_paragraphs, made by create_search_index.sql) by the
-- batch's new paragraphs, inside the publish transaction: the index then covers exactly what
-- the commit stores. warehouse/search.py has already cut the paragraphs into words as the
-- index's tokenize macro does, stemmed each distinct word (search_stems.sql), given new terms
-- the next term ids and written the term rows (insert_search_terms.sql): staged_search_docs
-- (docid, name, len), staged_search_dict (termid, term, df: new terms) and staged_search_df
-- (termid, df: paragraphs of the batch holding a known term). Corpus statistics are
-- recomputed. BM25 scores afterwards equal those of a full rebuild
-- (tests/warehouse/test_search.py).
INSERT INTO fts_main_paragraphs.dict (termid, term, df)
SELECT termid, term, df FROM staged_search_dict;

INSERT INTO fts_main_paragraphs.docs (docid, name, len)
SELECT docid, name, len FROM staged_search_docs;

UPDATE fts_main_paragraphs.dict SET df = dict.df + n.df
FROM staged_search_df n
WHERE dict.termid = n.termid;

UPDATE fts_main_paragraphs.stats SET num_docs = s.num_docs, avgdl = s.avgdl
FROM (SELECT count(docid) AS num_docs, sum(len) / count(len) AS avgdl
      FROM fts_main_paragraphs.docs) s;
