-- Paragraph hashes of the batch stored more than once. paragraphs has no key index (migration
-- 0002), so only the single writer, inserting the hashes the warehouse did not hold, keeps
-- them unique; a copy would double every count and join on paragraphs.
SELECT paragraph_hash, count(*) AS copies, list(run_id ORDER BY run_id) AS run_ids
FROM paragraphs
WHERE paragraph_hash IN (SELECT paragraph_hash FROM staged_paragraphs)
GROUP BY paragraph_hash
HAVING count(*) > 1
