-- Paragraph-level difference between two versions of an article:
-- SELECT * FROM version_diff('path/or/key', 1, 2). `change` is 'kept', 'added', 'removed' or
-- 'changed' (a removed and an added paragraph of one near-duplicate group).
CREATE OR REPLACE MACRO version_diff(key, old_version, new_version) AS TABLE
WITH old AS (
    SELECT o.position, o.paragraph_hash, coalesce(p.near_dup_of, p.paragraph_hash) AS grp
    FROM occurrences o JOIN articles a USING (article_id) JOIN paragraphs p USING (paragraph_hash)
    WHERE a.article_key = key AND a.version = old_version
), new AS (
    SELECT o.position, o.paragraph_hash, coalesce(p.near_dup_of, p.paragraph_hash) AS grp
    FROM occurrences o JOIN articles a USING (article_id) JOIN paragraphs p USING (paragraph_hash)
    WHERE a.article_key = key AND a.version = new_version
), removed AS (
    SELECT * FROM old WHERE paragraph_hash NOT IN (SELECT paragraph_hash FROM new)
), added AS (
    SELECT * FROM new WHERE paragraph_hash NOT IN (SELECT paragraph_hash FROM old)
), changed AS (
    SELECT r.position AS old_position, d.position AS new_position,
           r.paragraph_hash AS old_hash, d.paragraph_hash AS new_hash
    FROM removed r JOIN added d ON r.grp = d.grp
)
SELECT * FROM (
SELECT 'kept' AS change, o.position AS old_position, n.position AS new_position,
       o.paragraph_hash AS old_hash, n.paragraph_hash AS new_hash
FROM old o JOIN new n USING (paragraph_hash)
UNION ALL
SELECT 'changed', old_position, new_position, old_hash, new_hash FROM changed
UNION ALL
SELECT 'removed', position, NULL, paragraph_hash, NULL FROM removed
WHERE paragraph_hash NOT IN (SELECT old_hash FROM changed)
UNION ALL
SELECT 'added', NULL, position, NULL, paragraph_hash FROM added
WHERE paragraph_hash NOT IN (SELECT new_hash FROM changed)
)
ORDER BY coalesce(new_position, old_position), change;
