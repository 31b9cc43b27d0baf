INSERT INTO batch_metrics (run_id, batch, metric, value)
SELECT $run_id, $batch, metric, value
FROM staged_batch_metrics
