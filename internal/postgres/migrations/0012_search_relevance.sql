-- Relevance-ranked search (ADR 0021): a query that is a variant's barcode ranks that product
-- first, and is found even when no word of it matches, so barcodes need an index as SKUs have.
-- A plain index, not a partial one on barcode <> '': a prepared statement's generic plan could
-- not prove its parameter non-empty and would not use a partial index.
CREATE INDEX variants_barcode ON variants (barcode);

-- The name tier and the name-or-brand tier as columns of their own, each with a GIN index: a
-- tier's matches can then be counted and fetched through an index (the weights of the search
-- column are not in its index: every candidate would be read to check them), and ANALYZE keeps
-- each column's common lexemes, which tell a common tier from a rare one without counting.
-- Adding stored generated columns rewrites the table under an exclusive lock: about a minute
-- per million products, once, as migration 0005 did.
ALTER TABLE products
    ADD COLUMN name_search tsvector GENERATED ALWAYS AS (
        to_tsvector('catalog_english'::regconfig, regexp_replace(name, '[[:punct:]]+', ' ', 'g'))
    ) STORED,
    ADD COLUMN label_search tsvector GENERATED ALWAYS AS (
        to_tsvector('catalog_english'::regconfig, regexp_replace(name, '[[:punct:]]+', ' ', 'g')) ||
        to_tsvector('catalog_english'::regconfig, regexp_replace(brand, '[[:punct:]]+', ' ', 'g'))
    ) STORED;
CREATE INDEX products_name_search ON products USING gin (name_search);
CREATE INDEX products_label_search ON products USING gin (label_search);
