-- One slice of a publish's new paragraphs into the BM25 index (see extend_search_index.sql):
-- staged_search_terms (docid, termid), one row per word, as create_fts_index stores them.
INSERT INTO fts_main_paragraphs.terms (docid, fieldid, termid)
SELECT docid, 0, termid FROM staged_search_terms;
