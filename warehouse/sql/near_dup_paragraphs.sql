-- Stored paragraphs a near-duplicate search reached and their canonicals: their text, canonical
-- and when they were first seen (published_at of their first article). The two IN filters run
-- on the hash columns alone, and the rows found are joined to the text on rowid: DuckDB still
-- scans the text column, but with one cheap semi join on an integer instead of two mark joins
-- on 64-character hashes over every row (see BENCHMARKS.md).
WITH hit AS (
    SELECT p.rowid AS r, p.near_dup_of FROM paragraphs p
    WHERE p.paragraph_hash IN (SELECT paragraph_hash FROM staged_wanted)
), found AS (
    SELECT r FROM hit
    UNION
    SELECT q.rowid FROM paragraphs q
    WHERE q.paragraph_hash IN (SELECT near_dup_of FROM hit WHERE near_dup_of IS NOT NULL)
)
SELECT p.paragraph_hash, p.text, p.near_dup_of, a.published_at AS seen_at
FROM paragraphs p
SEMI JOIN found ON p.rowid = found.r
LEFT JOIN articles a ON a.article_id = p.first_article_id
