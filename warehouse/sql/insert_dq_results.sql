INSERT INTO dq_results (run_id, batch, suite, expectation, column_name, severity, success,
                        observed, unexpected_count, examples)
SELECT $run_id, $batch, suite, expectation, column_name, severity, success, observed,
       unexpected_count, examples
FROM staged_dq_results
