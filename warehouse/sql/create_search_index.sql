-- The BM25 index over paragraphs.text (schema fts_main_paragraphs), replacing the old one.
-- Keep in step with warehouse/search.py (INDEX_VERSION, STEMMER, STOPWORDS):
-- lower-cased, accents stripped ('Coopération' = 'cooperation'); every run of Unicode
-- punctuation or symbols separates words (digits are kept: 'G20', '2024'); words are cut to
-- their English Snowball stem ('cooperating' = 'cooperation'); 571 common English words are
-- left out. A PRAGMA takes no bound parameters: these are constants, never data.
PRAGMA create_fts_index(
    'paragraphs', 'paragraph_hash', 'text',
    stemmer = 'english', stopwords = 'english', ignore = '[\p{P}\p{S}]+',
    strip_accents = 1, lower = 1, overwrite = 1
);
