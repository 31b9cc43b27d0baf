-- Row counts of every warehouse table, for summaries and tests.
SELECT 'source_files' AS table_name, count(*) AS n FROM source_files
UNION ALL SELECT 'articles', count(*) FROM articles
UNION ALL SELECT 'paragraphs', count(*) FROM paragraphs
UNION ALL SELECT 'occurrences', count(*) FROM occurrences
UNION ALL SELECT 'paragraph_tags', count(*) FROM paragraph_tags
UNION ALL SELECT 'runs', count(*) FROM runs
UNION ALL SELECT 'dq_results', count(*) FROM dq_results
UNION ALL SELECT 'quarantine', count(*) FROM quarantine
UNION ALL SELECT 'batch_metrics', count(*) FROM batch_metrics
UNION ALL SELECT 'retag_runs', count(*) FROM retag_runs
UNION ALL SELECT 'title_tags', count(*) FROM title_tags
