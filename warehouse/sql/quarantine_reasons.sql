-- Every reason code in the quarantine, with how many of its files wait for a release.
SELECT reason_code, count(*) FILTER (WHERE released_at IS NULL) AS waiting
FROM quarantine
GROUP BY reason_code
ORDER BY reason_code
