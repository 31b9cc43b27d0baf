-- A chunk's new tags, each under the retag run of its tagger.
INSERT INTO paragraph_tags (paragraph_hash, tag_type, tag_value, tag_detail, country_code,
                            span_start, span_end, surface, score, tagger, tagger_version, run_id)
SELECT t.paragraph_hash, t.tag_type, t.tag_value, t.tag_detail, t.country_code,
       t.span_start, t.span_end, t.surface, t.score, t.tagger, t.tagger_version, r.run_id
FROM staged_tags t
JOIN staged_retag_runs r ON r.tagger = t.tagger AND r.tagger_version = t.tagger_version
