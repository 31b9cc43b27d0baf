-- The batch's paragraphs are judged again below, over every article now stored.
DELETE FROM boilerplate
WHERE paragraph_hash IN (SELECT paragraph_hash FROM staged_batch_hashes)
