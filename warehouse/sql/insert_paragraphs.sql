INSERT INTO paragraphs (paragraph_hash, text, n_chars, n_words, language, first_article_id,
                        near_dup_of, similarity, run_id)
SELECT paragraph_hash, text, n_chars, n_words, language, article_id, near_dup_of, similarity,
       $run_id
FROM staged_paragraphs
