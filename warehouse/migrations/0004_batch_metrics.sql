-- The shape of every published batch, for the gate's comparisons with recent history and for
-- people asking how a feed changed over time. One row per metric: n_files,
-- quarantined_file_share, duplicate_file_share, empty_article_share, mojibake_file_share,
-- repeated_paragraph_share, mean_paragraph_chars and language_share:<code> per language.
CREATE TABLE batch_metrics (
    run_id  VARCHAR NOT NULL,
    batch   INTEGER NOT NULL,
    metric  VARCHAR NOT NULL,
    value   DOUBLE
);
