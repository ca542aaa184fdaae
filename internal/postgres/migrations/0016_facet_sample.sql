-- Facet counts over a selection larger than the store's facet budget count a sample of it:
-- the products whose ID hashes lowest (ADR 0023, 2026-12-02). These indexes give a category's
-- products, and the whole catalog's, in that order, so the sample is read without reading the
-- rest of the selection. An expression index needs no column: every path that writes a
-- product (create, import, clone) keeps it, and building it does not rewrite the table.
CREATE INDEX products_category_idhash ON products (category, uuid_hash(id));
CREATE INDEX products_idhash ON products (uuid_hash(id));
