-- Stamp the chosen quarantine rows released (now() is the transaction's start: one time for all).
UPDATE quarantine
SET released_at = now()
FROM staged_released r
WHERE quarantine.quarantine_id = r.quarantine_id
  AND quarantine.released_at IS NULL
