-- Extend the BM25 index (schema fts_main_paragraphs, made by create_search_index.sql) by the
-- batch's new paragraphs, inside the publish transaction: the index then covers exactly what
-- the commit stores. warehouse/search.py has already cut the paragraphs into words as the
-- index's tokenize macro does, stemmed each distinct word (search_stems.sql), given new terms
-- the next term ids and written the term rows (insert_search_terms.sql): staged_search_docs
-- (docid, name, len), staged_search_dict (termid, term, df: new terms) and staged_search_df
-- (termid, df: paragraphs of the batch holding a known term). Corpus statistics are
-- recomputed with scalar subqueries: the same update written as UPDATE ... FROM a one-row
-- subquery left the empty index's (0, NULL) in place after a large first batch, and every
-- search then found nothing (warehouse/search.py checks the result). BM25 scores afterwards equal those of a full rebuild
-- (tests/warehouse/test_search.py).
INSERT INTO fts_main_paragraphs.dict (termid, term, df)
SELECT termid, term, df FROM staged_search_dict;

INSERT INTO fts_main_paragraphs.docs (docid, name, len)
SELECT docid, name, len FROM staged_search_docs;

UPDATE fts_main_paragraphs.dict SET df = dict.df + n.df
FROM staged_search_df n
WHERE dict.termid = n.termid;

UPDATE fts_main_paragraphs.stats
SET num_docs = (SELECT count(docid) FROM fts_main_paragraphs.docs),
    avgdl = (SELECT sum(len) / count(len) FROM fts_main_paragraphs.docs);
