-- The run's end, stamped once its flow has done everything under the writer lock (the last
-- publish, the search index). Each batch's insert_run.sql wrote now(), the start of its own
-- transaction, which misses what came after the last publish.
UPDATE runs SET finished_at = $finished_at WHERE run_id = $run_id
