-- Stored paragraphs that agree with a new one on at least one LSH band, with their MinHash
-- signature (the flow drops pairs whose estimate is far below the threshold).
SELECT s.paragraph_hash AS paragraph_hash_a, b.paragraph_hash AS paragraph_hash_b, b.signature
FROM staged_bands s JOIN paragraph_bands b ON s.band_0 = b.band_0
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_1 = b.band_1
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_2 = b.band_2
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_3 = b.band_3
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_4 = b.band_4
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_5 = b.band_5
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_6 = b.band_6
UNION SELECT s.paragraph_hash, b.paragraph_hash, b.signature FROM staged_bands s JOIN paragraph_bands b ON s.band_7 = b.band_7
