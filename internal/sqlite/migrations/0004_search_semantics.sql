-- One query semantics on both stores (ADR 0011): search covers the SKU as well. The full-text
-- table is rebuilt with the sku column and filled again from products.

DROP TRIGGER products_fts_insert;
DROP TRIGGER products_fts_delete;
DROP TRIGGER products_fts_update;
DROP TABLE products_fts;

CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, sku, brand, description,
    content = 'products', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, sku, brand, description)
    VALUES (new.seq, new.name, new.sku, new.brand, new.description);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, sku, brand, description)
    VALUES ('delete', old.seq, old.name, old.sku, old.brand, old.description);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, sku, brand, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, sku, brand, description)
    VALUES ('delete', old.seq, old.name, old.sku, old.brand, old.description);
    INSERT INTO products_fts (rowid, name, sku, brand, description)
    VALUES (new.seq, new.name, new.sku, new.brand, new.description);
END;
INSERT INTO products_fts (products_fts) VALUES ('rebuild');
