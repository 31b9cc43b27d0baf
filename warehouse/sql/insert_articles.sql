INSERT INTO articles (article_id, article_key, version, path, sha256, title, encoding, language,
                      n_paragraphs, n_chars, published_at, run_id, record, format,
                      content_sha256, source, source_origin, url, published_at_origin, author,
                      external_id, language_hint, body_sha256, dateline, dateline_city,
                      dateline_region, dateline_country, dateline_date, dateline_agency)
SELECT article_id, article_key, version, path, sha256, title, encoding, language,
       n_paragraphs, n_chars, published_at, $run_id, record, format,
       content_sha256, source, source_origin, url, published_at_origin, author,
       external_id, language_hint, body_sha256, dateline, dateline_city,
       dateline_region, dateline_country, dateline_date, dateline_agency
FROM staged_articles
