-- The latest build of the search index and what the warehouse holds now (one row).
SELECT built_at, paragraphs_indexed, paragraphs_now, last_run_id_indexed, last_run_id_now,
       index_version, seconds
FROM search_index_status;
