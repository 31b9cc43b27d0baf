-- How many paragraphs the warehouse holds.
SELECT count(*) AS paragraphs FROM paragraphs
