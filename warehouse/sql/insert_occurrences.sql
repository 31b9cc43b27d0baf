INSERT INTO occurrences (article_id, position, paragraph_hash, char_start, char_end, kind,
                         repeat_of_position)
SELECT article_id, position, paragraph_hash, char_start, char_end, kind, repeat_of_position
FROM staged_occurrences
