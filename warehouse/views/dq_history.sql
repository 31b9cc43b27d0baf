-- Every expectation evaluated, with the start and status of its run.
CREATE OR REPLACE VIEW dq_history AS
SELECT r.started_at, r.status, d.*
FROM dq_results d JOIN runs r USING (run_id);
