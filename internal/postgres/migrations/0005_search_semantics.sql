-- One query semantics on both stores (ADR 0011): search folds accents and covers the SKU.
-- catalog_english is PostgreSQL's english configuration with accents removed before stemming
-- (unaccent is a trusted extension: a role with CREATE on the database may create it; Aurora
-- PostgreSQL supports it).
-- ASCII punctuation becomes a space before parsing, as it separates words in the embedded
-- store and in the query's terms: PostgreSQL's parser would otherwise read "SPK-100" as "spk"
-- and the number "-100", and "1.5" as one number.
-- Rebuilding the generated column rewrites the table under an exclusive lock: about a minute
-- per million products, paid once at deploy.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION catalog_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION catalog_english
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

ALTER TABLE products DROP COLUMN search;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(sku, '[[:punct:]]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(brand, '[[:punct:]]+', ' ', 'g')), 'B') ||
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(description, '[[:punct:]]+', ' ', 'g')), 'C')
) STORED;
CREATE INDEX products_search ON products USING gin (search);
