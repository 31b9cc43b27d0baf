-- Which parts of full-text search the warehouse holds: the freshness view (schema 0010 on),
-- the index (schema fts_main_paragraphs) and the search_paragraphs macro.
SELECT
    EXISTS (SELECT 1 FROM duckdb_views()
            WHERE schema_name = 'main' AND view_name = 'search_index_status') AS has_status,
    EXISTS (SELECT 1 FROM duckdb_tables()
            WHERE schema_name = 'fts_main_paragraphs' AND table_name = 'docs') AS has_index,
    EXISTS (SELECT 1 FROM duckdb_functions()
            WHERE schema_name = 'main' AND function_name = 'search_paragraphs') AS has_macro;
