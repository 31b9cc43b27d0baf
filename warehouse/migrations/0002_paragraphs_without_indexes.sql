-- paragraphs and occurrences without their PRIMARY KEY indexes.
-- An ART index on a random sha256 key makes every published batch slower as the table grows
-- (see BENCHMARKS.md).
-- Uniqueness is kept by the single writer: a batch inserts only hashes the warehouse did not
-- hold when the batch was built under the writer lock, and (article_id, position) comes from
-- a new article version's own split. A batch published twice (a retried task) still fails
-- as a whole on the articles table's key, which stays. Tests compare tables after crashes
-- with a clean run.
CREATE TABLE paragraphs_v2 (
    paragraph_hash   VARCHAR NOT NULL,         -- sha256 hex of the normalised text
    text             VARCHAR NOT NULL,         -- normalised text (see README, "Normal form")
    n_chars          INTEGER NOT NULL,
    n_words          INTEGER NOT NULL,
    language         VARCHAR,
    first_article_id VARCHAR NOT NULL,
    near_dup_of      VARCHAR,                  -- filled by near-duplicate search (later)
    similarity       DOUBLE,
    run_id           VARCHAR NOT NULL
);
INSERT INTO paragraphs_v2 SELECT * FROM paragraphs;
DROP TABLE paragraphs;
ALTER TABLE paragraphs_v2 RENAME TO paragraphs;

CREATE TABLE occurrences_v2 (
    article_id          VARCHAR NOT NULL,
    position            INTEGER NOT NULL,
    paragraph_hash      VARCHAR NOT NULL,
    char_start          BIGINT NOT NULL,       -- offsets into the article's decoded text
    char_end            BIGINT NOT NULL,
    kind                VARCHAR NOT NULL,      -- first | repeat | corpus
    repeat_of_position  INTEGER
);
INSERT INTO occurrences_v2 SELECT * FROM occurrences;
DROP TABLE occurrences;
ALTER TABLE occurrences_v2 RENAME TO occurrences;
