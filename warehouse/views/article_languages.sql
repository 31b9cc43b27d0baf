-- Per article, the languages of its paragraph occurrences (current language tags) weighted by
-- their characters, the share of the article's characters with a language, and the rank
-- (1 = most characters, ties by code). The ingest picks articles.language the same way but
-- before short paragraphs inherit one, so rank 1 is usually articles.language (until a retag).
CREATE OR REPLACE VIEW article_languages AS
WITH chars AS (
    SELECT o.article_id, t.tag_value AS language, sum(p.n_chars) AS chars
    FROM occurrences o
    JOIN paragraphs p USING (paragraph_hash)
    JOIN current_tags t USING (paragraph_hash)
    WHERE t.tag_type = 'language'
    GROUP BY ALL
)
SELECT article_id, language, chars, chars / sum(chars) OVER (PARTITION BY article_id) AS share,
       row_number() OVER (PARTITION BY article_id ORDER BY chars DESC, language) AS rank
FROM chars;
