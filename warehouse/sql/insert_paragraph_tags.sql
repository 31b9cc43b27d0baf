INSERT INTO paragraph_tags (paragraph_hash, tag_type, tag_value, tag_detail, country_code,
                            span_start, span_end, surface, score, tagger, tagger_version, run_id)
SELECT paragraph_hash, tag_type, tag_value, tag_detail, country_code,
       span_start, span_end, surface, score, tagger, tagger_version, $run_id
FROM staged_tags
