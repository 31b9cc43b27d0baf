SELECT path, reason_code, detail FROM quarantine WHERE run_id = $run_id ORDER BY path
