-- Each metric's mean over the last $n published batches, and how many batches that is. A
-- language share a batch lacks counts as 0 (it had no article in that language).
WITH recent AS (
    SELECT DISTINCT run_id, batch FROM batch_metrics ORDER BY run_id DESC, batch DESC LIMIT $n
), n AS (SELECT count(*) AS batches FROM recent)
SELECT
    m.metric,
    CASE WHEN m.metric LIKE 'language_share:%' THEN sum(m.value) / any_value(n.batches)
         ELSE avg(m.value) END AS value,
    any_value(n.batches) AS batches
FROM batch_metrics m JOIN recent USING (run_id, batch), n
GROUP BY m.metric
ORDER BY m.metric
