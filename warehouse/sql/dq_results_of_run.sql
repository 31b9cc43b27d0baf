SELECT suite, expectation, column_name, severity, success, observed, unexpected_count, examples
FROM dq_results
WHERE run_id = $run_id
ORDER BY success, CASE severity WHEN 'fail' THEN 0 WHEN 'quarantine' THEN 1 ELSE 2 END,
         suite, expectation
