-- Tag rows stored under each of the given retag runs.
SELECT run_id, count(*) AS tags
FROM paragraph_tags
WHERE run_id IN (SELECT unnest($run_ids))
GROUP BY run_id
