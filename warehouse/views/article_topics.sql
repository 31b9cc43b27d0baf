-- Per article, its top-level topics (no '/' in the value): the summed scores of the current
-- topic tags of its paragraph occurrences, the share of the article's total and the rank
-- (1 = highest score, ties by topic). A paragraph repeated in an article counts once per
-- occurrence. The same rule as transforms.tagging.article_topics.
CREATE OR REPLACE VIEW article_topics AS
WITH scores AS (
    SELECT o.article_id, t.tag_value AS topic, sum(t.score) AS score
    FROM occurrences o
    JOIN current_tags t USING (paragraph_hash)
    WHERE t.tag_type = 'topic' AND NOT contains(t.tag_value, '/')
    GROUP BY ALL
)
SELECT article_id, topic, score, score / sum(score) OVER (PARTITION BY article_id) AS share,
       row_number() OVER (PARTITION BY article_id ORDER BY score DESC, topic) AS rank
FROM scores;
