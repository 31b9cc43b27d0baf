-- Stored paragraphs that agree with a new one on at least one LSH band, with their MinHash
-- signature (the flow drops pairs whose estimate is far below the threshold). Pairs are made
-- distinct before the signatures are joined, so each pair carries its 128 bytes once.
WITH pairs AS (
    SELECT s.paragraph_hash AS paragraph_hash_a, b.paragraph_hash AS paragraph_hash_b
    FROM staged_bands s JOIN paragraph_bands b ON s.band_0 = b.band_0
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_1 = b.band_1
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_2 = b.band_2
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_3 = b.band_3
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_4 = b.band_4
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_5 = b.band_5
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_6 = b.band_6
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_7 = b.band_7
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_8 = b.band_8
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_9 = b.band_9
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_10 = b.band_10
    UNION SELECT s.paragraph_hash, b.paragraph_hash FROM staged_bands s JOIN paragraph_bands b ON s.band_11 = b.band_11
), wanted AS (
    SELECT DISTINCT paragraph_hash_b FROM pairs
)
SELECT pairs.paragraph_hash_a, pairs.paragraph_hash_b, w.signature
FROM pairs
JOIN (
    SELECT b.paragraph_hash, b.signature
    FROM paragraph_bands b
    WHERE b.paragraph_hash IN (SELECT paragraph_hash_b FROM wanted)
) w ON w.paragraph_hash = pairs.paragraph_hash_b
