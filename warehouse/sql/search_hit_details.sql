-- For the paragraphs `$hashes` (search hits): how many other times, and in how many other
-- articles, each occurs besides its first occurrence, and its current person, place,
-- organisation and topic tags. list_contains on a bound list is pushed into current_tags'
-- branches (a semi join on a subquery is not, so each branch would read every paragraph's tags
-- before the hits were picked out).
WITH occurring AS (
    SELECT paragraph_hash, count(*) - 1 AS other_occurrences,
           count(DISTINCT article_id) - 1 AS other_articles
    FROM occurrences
    WHERE list_contains($hashes::VARCHAR[], paragraph_hash)
    GROUP BY paragraph_hash
), tagged AS (
    SELECT paragraph_hash,
           list(DISTINCT tag_value ORDER BY tag_value) FILTER (WHERE tag_type = 'person') AS people,
           list(DISTINCT tag_value ORDER BY tag_value) FILTER (WHERE tag_type = 'place') AS places,
           list(DISTINCT tag_value ORDER BY tag_value)
               FILTER (WHERE tag_type = 'organisation') AS organisations,
           list(DISTINCT tag_value ORDER BY tag_value) FILTER (WHERE tag_type = 'topic') AS topics
    FROM current_tags
    WHERE list_contains($hashes::VARCHAR[], paragraph_hash)
      AND tag_type IN ('person', 'place', 'organisation', 'topic')
    GROUP BY paragraph_hash
)
SELECT h.paragraph_hash,
       coalesce(o.other_occurrences, 0) AS other_occurrences,
       coalesce(o.other_articles, 0) AS other_articles,
       coalesce(t.people, []::VARCHAR[]) AS people,
       coalesce(t.places, []::VARCHAR[]) AS places,
       coalesce(t.organisations, []::VARCHAR[]) AS organisations,
       coalesce(t.topics, []::VARCHAR[]) AS topics
FROM (SELECT unnest($hashes::VARCHAR[]) AS paragraph_hash) h
LEFT JOIN occurring o USING (paragraph_hash)
LEFT JOIN tagged t USING (paragraph_hash);
