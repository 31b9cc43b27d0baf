INSERT INTO articles (article_id, article_key, version, path, sha256, title, encoding, language,
                      n_paragraphs, n_chars, published_at, run_id)
SELECT article_id, article_key, version, path, sha256, title, encoding, language,
       n_paragraphs, n_chars, NULL, $run_id
FROM staged_articles
