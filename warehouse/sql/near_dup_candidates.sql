-- Stored paragraphs that agree with a new one on at least one LSH band, with their MinHash
-- signature (the flow drops pairs whose estimate is far below the threshold). The band joins
-- and the union that makes pairs distinct run on integers (the new paragraph's row number i in
-- staged_bands, the stored one's rowid), not on 64-character hashes, which are costlier to
-- carry through the joins and to compare in the union. Each distinct pair then carries its
-- 128 bytes once.
WITH pairs AS (
    SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_0 = b.band_0
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_1 = b.band_1
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_2 = b.band_2
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_3 = b.band_3
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_4 = b.band_4
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_5 = b.band_5
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_6 = b.band_6
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_7 = b.band_7
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_8 = b.band_8
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_9 = b.band_9
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_10 = b.band_10
    UNION SELECT s.i, b.rowid AS r FROM staged_bands s JOIN paragraph_bands b ON s.band_11 = b.band_11
)
SELECT s.paragraph_hash AS paragraph_hash_a, b.paragraph_hash AS paragraph_hash_b, b.signature
FROM pairs
JOIN staged_bands s USING (i)
JOIN paragraph_bands b ON b.rowid = pairs.r
