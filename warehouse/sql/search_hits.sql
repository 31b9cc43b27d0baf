-- The best `$limit` paragraphs for a full-text query, for `nutgraf search`: rank and score,
-- an excerpt of `$width` characters starting `$lead` before the first word of the query found
-- in the text, and the article the paragraph was first seen in. Tags and occurrences come from
-- search_hit_details.sql, looked up for these paragraphs only.
WITH hits AS MATERIALIZED (
    SELECT * FROM search_paragraphs($query, all_words := $all_words, top_n := $limit)
), words AS (
    -- the query's words as typed and as stemmed (the stemmer of create_search_index.sql),
    -- of those words the index holds: stopwords are not in its dictionary
    SELECT DISTINCT q.word, q.term
    FROM (SELECT word, stem(word, 'english') AS term
          FROM unnest(fts_main_paragraphs.tokenize($query)) AS w(word)) q
    JOIN fts_main_paragraphs.dict d ON d.term = q.term
), pattern AS (
    -- a regex of word starts (tokens hold no punctuation or symbols: no metacharacters)
    SELECT string_agg(DISTINCT w, '|') AS alternatives
    FROM (SELECT word AS w FROM words UNION SELECT term FROM words)
), found AS (
    SELECT h.*,
           greatest(coalesce(length(regexp_extract(
               lower(strip_accents(h.text)),
               '^(.*?)(?:^|[^\p{L}\p{N}])(?:' || p.alternatives || ')', 1)), 0) - $lead, 0)
               AS lead_at
    FROM hits h, pattern p
), located AS (
    -- start the excerpt at a word: after the next space when lead_at is inside one
    SELECT *,
           CASE WHEN lead_at = 0 OR substr(text, lead_at, 1) = ' ' THEN lead_at
                ELSE lead_at + instr(substr(text, lead_at + 1, 20), ' ') END AS excerpt_at
    FROM found
)
SELECT row_number() OVER (ORDER BY score DESC, paragraph_hash) AS rank,
       score, paragraph_hash,
       CASE WHEN excerpt_at > 0 THEN '…' ELSE '' END
           || substr(text, excerpt_at + 1, $width)
           || CASE WHEN excerpt_at + $width < length(text) THEN '…' ELSE '' END AS excerpt,
       text, language, article_id, path, title, published_at, source
FROM located
ORDER BY rank;
