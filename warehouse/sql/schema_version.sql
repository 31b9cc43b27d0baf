-- The newest migration the warehouse file has applied (0: none).
SELECT coalesce(max(version), 0) AS version FROM schema_migrations
