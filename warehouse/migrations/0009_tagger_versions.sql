-- Versioned taggers and re-tagging (`nutgraf retag`, flows/retag.py).
-- A tag row is written by one run: the ingest run that stored its paragraph, or a retag run
-- that re-tagged every stored paragraph with one tagger. Rows are never updated or deleted;
-- `current_tags` picks, per paragraph and tagger, the rows of the run that decides.

-- The tagger versions an ingest run tagged its new paragraphs with, as JSON
-- ({"entities": "entities_v1", ...}; transforms.gazetteer.TAGGER_VERSIONS).
ALTER TABLE runs ADD COLUMN tagger_versions JSON;
-- Runs from before this migration: the versions their stored tags carry; for a tagger a run
-- wrote no tag of, the first versions (TAGGER_VERSIONS had not changed before this migration).
UPDATE runs SET tagger_versions = json(
    '{"entities": "entities_v1", "topics": "topics_v1", "language": "language_v1", "quality": "quality_v1"}');
UPDATE runs SET tagger_versions = json_merge_patch(runs.tagger_versions, v.versions)
FROM (
    SELECT run_id, json_group_object(tagger, tagger_version) AS versions
    FROM (SELECT DISTINCT run_id, tagger, tagger_version FROM paragraph_tags)
    GROUP BY run_id
) v
WHERE runs.run_id = v.run_id;

-- One row per tagger re-tagged by `nutgraf retag`: all the paragraphs stored when it ran (the
-- ingest runs that stored them are listed in `ingest_runs`), in one transaction with its tags.
CREATE TABLE retag_runs (
    run_id         VARCHAR PRIMARY KEY,    -- also paragraph_tags.run_id of the rows it wrote
    tagger         VARCHAR NOT NULL,
    tagger_version VARCHAR NOT NULL,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    paragraphs     BIGINT,                 -- paragraphs re-tagged
    tags           BIGINT,                 -- tag rows written
    flow_run_id    VARCHAR,
    ingest_runs    VARCHAR[] NOT NULL      -- the runs that stored those paragraphs
);

-- Every run that tagged paragraphs, per tagger: an ingest run tagged the paragraphs it stored,
-- a retag run those of every ingest run in `ingest_runs`. One row per (run, tagger, ingest run).
CREATE VIEW tagger_runs AS
SELECT r.run_id, 'ingest' AS kind, k.tagger, r.tagger_versions ->> k.tagger AS tagger_version,
       r.started_at, r.run_id AS ingest_run_id
FROM runs r, unnest(json_keys(r.tagger_versions)) AS k(tagger)
UNION ALL
SELECT g.run_id, 'retag', g.tagger, g.tagger_version, g.started_at, i.ingest_run_id
FROM retag_runs g, unnest(g.ingest_runs) AS i(ingest_run_id);

-- Per ingest run and tagger, the run whose tags of that run's paragraphs are current: the
-- latest retag run that re-tagged them, else the ingest run itself.
CREATE VIEW current_tagger_runs AS
SELECT ingest_run_id, tagger, run_id, kind, tagger_version, started_at
FROM tagger_runs
QUALIFY row_number() OVER (
    PARTITION BY ingest_run_id, tagger
    ORDER BY kind = 'retag' DESC, started_at DESC, run_id DESC) = 1;

-- The tags in force: per paragraph and tagger, only the rows of the deciding run (above). A
-- version that emits no tag for a paragraph hides the older rows too, and re-tagging with an
-- older version brings its rows back as a new run. The retag coverage is the explicit list
-- `retag_runs.ingest_runs`, not a comparison of start times: an ingest run takes its
-- started_at before it waits for the writer lock, so it can start before a retag and store
-- its paragraphs after it. A retag covers every paragraph stored when it ran and paragraphs
-- are never deleted, so the latest retag of a tagger covers all that earlier ones did: it
-- alone decides, and paragraphs need not be joined.
CREATE VIEW current_tags AS
WITH latest_retags AS (
    SELECT tagger, run_id, ingest_runs
    FROM retag_runs
    QUALIFY row_number() OVER (PARTITION BY tagger ORDER BY started_at DESC, run_id DESC) = 1
), replaced AS (
    SELECT tagger, unnest(ingest_runs) AS ingest_run_id FROM latest_retags
)
-- rows of ingest runs (run_id = the paragraph's own run) no retag of their tagger replaced
SELECT t.*
FROM paragraph_tags t
WHERE t.run_id NOT IN (SELECT run_id FROM retag_runs)
  AND NOT EXISTS (
      SELECT 1 FROM replaced r WHERE r.tagger = t.tagger AND r.ingest_run_id = t.run_id)
UNION ALL
-- rows of the latest retag run of their tagger
SELECT t.*
FROM paragraph_tags t
JOIN latest_retags l ON l.run_id = t.run_id
UNION ALL
-- likely_boilerplate comes from the dedupe stage (table boilerplate, refreshed by every
-- publish), not from a tagger: always current. tag_detail lists the sources it is boilerplate
-- of; score is the most articles of one source holding it.
SELECT b.paragraph_hash, 'quality', 'likely_boilerplate',
       string_agg(DISTINCT b.source, ',' ORDER BY b.source), NULL::VARCHAR,
       NULL::INTEGER, NULL::INTEGER, NULL::VARCHAR, max(b.articles)::DOUBLE,
       'boilerplate', 'boilerplate_v1', max(b.run_id)
FROM boilerplate b
GROUP BY b.paragraph_hash;

CREATE OR REPLACE VIEW entity_mentions AS
SELECT t.tag_type, t.tag_value, t.country_code, t.surface, o.article_id, a.path, o.position,
       t.paragraph_hash, t.span_start, t.span_end, t.tagger_version
FROM current_tags t
JOIN occurrences o USING (paragraph_hash)
JOIN articles a USING (article_id)
WHERE t.tag_type IN ('person', 'place', 'organisation');

CREATE OR REPLACE VIEW co_mentions AS
SELECT a.paragraph_hash, a.tag_type AS type_a, a.tag_value AS value_a,
       b.tag_type AS type_b, b.tag_value AS value_b
FROM (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM current_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) a
JOIN (SELECT DISTINCT paragraph_hash, tag_type, tag_value FROM current_tags
      WHERE tag_type IN ('person', 'place', 'organisation')) b
  ON a.paragraph_hash = b.paragraph_hash
 AND (a.tag_type, a.tag_value) < (b.tag_type, b.tag_value);

-- Tags one version of a tagger gives and the other does not:
-- SELECT * FROM tag_diff('entities', 'entities_v1', 'entities_v2'). Only paragraphs both
-- versions tagged count (an ingest or retag run of each covered them; the latest run of each
-- version decides), so a paragraph the new version gives no tag at all shows as 'removed'.
-- `change` is 'added' (only the new version) or 'removed' (only the old one).
CREATE MACRO tag_diff(tagger_name, old_version, new_version) AS TABLE
WITH runs_of AS (
    SELECT ingest_run_id, tagger_version, arg_max(run_id, started_at) AS run_id
    FROM tagger_runs
    WHERE tagger = tagger_name AND tagger_version IN (old_version, new_version)
    GROUP BY ALL
), both_versions AS (
    SELECT ingest_run_id,
           any_value(run_id) FILTER (WHERE tagger_version = old_version) AS old_run,
           any_value(run_id) FILTER (WHERE tagger_version = new_version) AS new_run
    FROM runs_of
    GROUP BY ingest_run_id
    HAVING old_run IS NOT NULL AND new_run IS NOT NULL
), old AS (
    SELECT t.paragraph_hash, t.tag_type, t.tag_value, t.span_start, t.span_end
    FROM paragraph_tags t
    JOIN paragraphs p USING (paragraph_hash)
    JOIN both_versions b ON b.ingest_run_id = p.run_id AND b.old_run = t.run_id
    WHERE t.tagger = tagger_name
), new AS (
    SELECT t.paragraph_hash, t.tag_type, t.tag_value, t.span_start, t.span_end
    FROM paragraph_tags t
    JOIN paragraphs p USING (paragraph_hash)
    JOIN both_versions b ON b.ingest_run_id = p.run_id AND b.new_run = t.run_id
    WHERE t.tagger = tagger_name
)
SELECT * FROM (
    SELECT *, 'added' AS change FROM (SELECT * FROM new EXCEPT SELECT * FROM old)
    UNION ALL
    SELECT *, 'removed' AS change FROM (SELECT * FROM old EXCEPT SELECT * FROM new)
)
ORDER BY paragraph_hash, tag_type, tag_value, span_start NULLS FIRST, change;

-- Per article, its top-level topics (no '/' in the value): the summed scores of the current
-- topic tags of its paragraph occurrences, the share of the article's total and the rank
-- (1 = highest score, ties by topic). A paragraph repeated in an article counts once per
-- occurrence. The same rule as transforms.tag.article_topics.
CREATE VIEW article_topics AS
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

-- Per article, the languages of its paragraph occurrences (current language tags) weighted by
-- their characters, the share of the article's characters with a language, and the rank
-- (1 = most characters, ties by code). The ingest picks articles.language the same way but
-- before short paragraphs inherit one, so rank 1 is usually articles.language (until a retag).
CREATE VIEW article_languages AS
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
