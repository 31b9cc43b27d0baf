INSERT INTO title_tags (article_id, tag_type, tag_value, tag_detail, country_code, span_start,
                        span_end, surface, score, tagger, tagger_version, run_id)
SELECT article_id, tag_type, tag_value, tag_detail, country_code, span_start,
       span_end, surface, score, tagger, tagger_version, $run_id
FROM staged_title_tags
