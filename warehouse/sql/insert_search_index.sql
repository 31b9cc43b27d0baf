-- Record a build of the search index, in its transaction: what it covers is what the
-- transaction sees, the same snapshot create_fts_index read.
INSERT INTO search_index
    (built_at, paragraphs, last_run_id, index_version, stemmer, stopwords, seconds, trigger)
SELECT now(), count(*), max(run_id), $index_version, $stemmer, $stopwords, $seconds, $trigger
FROM paragraphs;
