-- The latest version of each article: a changed file is a new version, and the older ones
-- stay in `articles`.
CREATE OR REPLACE VIEW current_articles AS
SELECT a.* FROM articles a
QUALIFY a.version = max(a.version) OVER (PARTITION BY a.article_key);
