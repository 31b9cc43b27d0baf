-- The next free document id and term id of the BM25 index (0 for an empty one).
SELECT (SELECT coalesce(max(docid) + 1, 0) FROM fts_main_paragraphs.docs) AS docid,
       (SELECT coalesce(max(termid) + 1, 0) FROM fts_main_paragraphs.dict) AS termid
