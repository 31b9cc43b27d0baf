INSERT INTO paragraph_bands
SELECT paragraph_hash, band_0, band_1, band_2, band_3, band_4, band_5, band_6, band_7, band_8,
       band_9, band_10, band_11, signature, $run_id
FROM staged_bands
