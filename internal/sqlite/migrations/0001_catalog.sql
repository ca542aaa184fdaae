-- Products, categories and stock levels. Times are Unix microseconds (UTC).

CREATE TABLE categories (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent     TEXT REFERENCES categories (slug),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX categories_parent ON categories (parent);

CREATE TABLE products (
    -- seq is the stable rowid the full-text index points at (VACUUM may renumber implicit rowids).
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    sku            TEXT NOT NULL,
    name           TEXT NOT NULL,
    name_key       TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    category       TEXT NOT NULL REFERENCES categories (slug),
    brand          TEXT NOT NULL DEFAULT '',
    attributes     TEXT NOT NULL DEFAULT '{}',
    images         TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    price_currency TEXT NOT NULL CHECK (length(price_currency) = 3),
    price_amount   INTEGER NOT NULL CHECK (price_amount >= 0),
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- SKUs keep their case but are unique regardless of it.
CREATE UNIQUE INDEX products_sku ON products (sku COLLATE NOCASE);
-- One index per sort order, with and without the status filter lists use by default.
CREATE INDEX products_status_created ON products (status, created_at, id);
CREATE INDEX products_status_name ON products (status, name_key, id);
CREATE INDEX products_status_price ON products (status, price_amount, id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX products_name ON products (name_key, id);
CREATE INDEX products_price ON products (price_amount, id);
CREATE INDEX products_category ON products (category, name_key, id);
CREATE INDEX products_brand ON products (brand);

CREATE TABLE inventory (
    product_id TEXT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    on_hand    INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved   INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    version    INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, brand, description,
    content = 'products', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, brand, description)
    VALUES (new.seq, new.name, new.brand, new.description);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, brand, description)
    VALUES ('delete', old.seq, old.name, old.brand, old.description);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, brand, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, brand, description)
    VALUES ('delete', old.seq, old.name, old.brand, old.description);
    INSERT INTO products_fts (rowid, name, brand, description)
    VALUES (new.seq, new.name, new.brand, new.description);
END;
