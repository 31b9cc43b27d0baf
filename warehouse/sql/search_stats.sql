-- The BM25 index's corpus statistics as stored, beside what its documents say they must be.
SELECT s.num_docs AS stored_docs, s.avgdl AS stored_avgdl, d.num_docs, d.avgdl
FROM fts_main_paragraphs.stats s,
     (SELECT count(docid) AS num_docs, sum(len) / count(len) AS avgdl
      FROM fts_main_paragraphs.docs) d
