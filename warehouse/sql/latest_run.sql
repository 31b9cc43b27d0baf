SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1
