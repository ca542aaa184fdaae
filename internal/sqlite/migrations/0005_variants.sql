-- Variants are the stocked unit (ADR 0012). Every product becomes a product with one variant
-- whose ID is the product's ID, carrying its SKU, price, stock, movements, reservation lines and
-- price history. Products lose sku and price, gain options, and their images become media.
-- SQLite cannot drop columns with indexes or foreign keys on them, so products, inventory and
-- the logs are rebuilt the documented way (create, copy, drop, rename); the migration runner
-- turns foreign_keys off around this file and checks them before it commits.

DROP TRIGGER products_fts_insert;
DROP TRIGGER products_fts_delete;
DROP TRIGGER products_fts_update;
DROP TABLE products_fts;

-- Attribute keys were free text (1-64 characters); typed attributes need keys a query string can
-- name (lower-case letters, digits and '_', starting with a letter). Each key in use maps to one:
-- lower-cased, with spaces, '-', '.' and '/' as '_' ("Screen size" -> screen_size), or, when
-- that is still no key, attr_ and its bytes in hex. The definition keeps the old key as its name.
CREATE TEMP TABLE attribute_keys AS
SELECT old, CASE
        WHEN norm GLOB '[a-z]*' AND norm NOT GLOB '*[^a-z0-9_]*' AND length(norm) <= 64 THEN norm
        ELSE substr('attr_' || lower(hex(old)), 1, 64) END AS new
FROM (SELECT old, replace(replace(replace(replace(lower(trim(old)), ' ', '_'), '-', '_'), '.', '_'), '/', '_') AS norm
      FROM (SELECT DISTINCT j.key AS old FROM products p, json_each(p.attributes) j));

CREATE TABLE products_new (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL REFERENCES categories (slug),
    brand       TEXT NOT NULL DEFAULT '',
    attributes  TEXT NOT NULL DEFAULT '{}',
    media       TEXT NOT NULL DEFAULT '[]',
    options     TEXT NOT NULL DEFAULT '[]',
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    -- Kept by every variant write, so adding one to a product of 2,000 variants never counts
    -- them, and lists read the count from the row.
    variant_count INTEGER NOT NULL DEFAULT 0,
    next_position INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO products_new (seq, id, name, name_key, description, category, brand, attributes, media, options, status,
    variant_count, next_position, version, created_at, updated_at)
SELECT seq, id, name, name_key, description, category, brand,
    (SELECT json_group_object(k.new, j.value) FROM json_each(products.attributes) j JOIN attribute_keys k ON k.old = j.key),
    (SELECT json_group_array(json_object('url', j.value)) FROM json_each(products.images) j),
    '[]', status, 1, 1, version, created_at, updated_at
FROM products;

-- One row per SKU. options is canonical JSON (keys sorted, as Go's encoder writes maps), so the
-- unique index below allows each combination of option values once per product.
CREATE TABLE variants (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    product_id     TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku            TEXT NOT NULL,
    options        TEXT NOT NULL DEFAULT '{}',
    position       INTEGER NOT NULL,
    barcode        TEXT NOT NULL DEFAULT '',
    weight_grams   INTEGER,
    attributes     TEXT NOT NULL DEFAULT '{}',
    image          TEXT NOT NULL DEFAULT '',
    purchase_limit INTEGER NOT NULL DEFAULT 0 CHECK (purchase_limit >= 0),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
INSERT INTO variants (id, product_id, sku, options, position, created_at, updated_at)
SELECT id, id, sku, '{}', 0, created_at, updated_at FROM products ORDER BY seq;
-- SKUs keep their case but are unique across the catalog regardless of it.
CREATE UNIQUE INDEX variants_sku ON variants (sku COLLATE NOCASE);
CREATE UNIQUE INDEX variants_combination ON variants (product_id, options);
-- A variant write touches its product's variants through this index only, never a scan.
CREATE INDEX variants_product ON variants (product_id, position);

-- The current price per variant and currency. A running sale window keeps the price to revert
-- to (revert_amount NULL with window_ends_at set: there was none, the price goes away), its
-- history line and its end.
CREATE TABLE variant_prices (
    variant_id        TEXT NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    product_id        TEXT NOT NULL,
    currency          TEXT NOT NULL CHECK (length(currency) = 3),
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    compare_at        INTEGER,
    prior_amount      INTEGER,
    revert_amount     INTEGER,
    revert_compare_at INTEGER,
    window_entry_id   INTEGER,
    window_ends_at    INTEGER,
    PRIMARY KEY (variant_id, currency)
);
INSERT INTO variant_prices (variant_id, product_id, currency, amount)
SELECT id, id, price_currency, price_amount FROM products;
-- min/max per product and currency read the index, not the variants.
CREATE INDEX variant_prices_product ON variant_prices (product_id, currency, amount);
CREATE INDEX variant_prices_window ON variant_prices (window_ends_at) WHERE window_ends_at IS NOT NULL;

-- Lists sort and filter by a product's lowest price in one currency; every price change keeps
-- this summary in the same transaction.
CREATE TABLE product_prices (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency   TEXT NOT NULL,
    min_amount INTEGER NOT NULL,
    max_amount INTEGER NOT NULL,
    PRIMARY KEY (product_id, currency)
);
INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
SELECT id, price_currency, price_amount, price_amount FROM products;
CREATE INDEX product_prices_sort ON product_prices (currency, min_amount, product_id);

CREATE TABLE inventory_new (
    variant_id TEXT PRIMARY KEY REFERENCES variants (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    on_hand    INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved   INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    version    INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);
INSERT INTO inventory_new (variant_id, product_id, on_hand, reserved, version, updated_at)
SELECT product_id, product_id, on_hand, reserved, version, updated_at FROM inventory;
DROP TABLE inventory;
ALTER TABLE inventory_new RENAME TO inventory;
CREATE INDEX inventory_product ON inventory (product_id);

-- The logs keep no foreign keys (ADR 0006) and now name the variant, its product and its SKU.
CREATE TABLE stock_movements_new (
    id             INTEGER PRIMARY KEY,
    variant_id     TEXT NOT NULL,
    product_id     TEXT NOT NULL,
    sku            TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL CHECK (kind IN ('initial', 'adjustment', 'reserve', 'commit', 'release', 'expire')),
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand        INTEGER NOT NULL,
    reserved       INTEGER NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    reservation_id TEXT,
    actor          TEXT NOT NULL,
    at             INTEGER NOT NULL
);
INSERT INTO stock_movements_new (id, variant_id, product_id, sku, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at)
SELECT m.id, m.product_id, m.product_id, coalesce(p.sku, d.sku, ''), m.kind, m.on_hand_delta, m.reserved_delta, m.on_hand, m.reserved,
    m.reason, m.note, m.reservation_id, m.actor, m.at
FROM stock_movements m LEFT JOIN products p ON p.id = m.product_id LEFT JOIN deleted_products d ON d.id = m.product_id;
DROP TABLE stock_movements;
ALTER TABLE stock_movements_new RENAME TO stock_movements;
CREATE INDEX stock_movements_variant ON stock_movements (variant_id, id);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

CREATE TABLE reservation_lines_new (
    reservation_id TEXT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    line           INTEGER NOT NULL,
    variant_id     TEXT,
    product_id     TEXT,
    sku            TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line)
);
INSERT INTO reservation_lines_new (reservation_id, line, variant_id, product_id, sku, quantity)
SELECT reservation_id, line, product_id, product_id, sku, quantity FROM reservation_lines;
DROP TABLE reservation_lines;
ALTER TABLE reservation_lines_new RENAME TO reservation_lines;
CREATE INDEX reservation_lines_variant ON reservation_lines (variant_id);

-- kind 'set' or 'revert'; a scheduled line has applied_at NULL until the sweeper applies it;
-- ended_at closes a window's line (reverted or replaced) or cancels a scheduled one.
CREATE TABLE price_history_new (
    id          INTEGER PRIMARY KEY,
    variant_id  TEXT NOT NULL,
    product_id  TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'set' CHECK (kind IN ('set', 'revert')),
    currency    TEXT NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    compare_at  INTEGER,
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER,
    applied_at  INTEGER,
    ended_at    INTEGER,
    actor       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
INSERT INTO price_history_new (id, variant_id, product_id, kind, currency, amount, valid_from, applied_at, actor, created_at)
SELECT id, product_id, product_id, 'set', currency, amount, valid_from, applied_at, actor, created_at FROM price_history;
DROP TABLE price_history;
ALTER TABLE price_history_new RENAME TO price_history;
CREATE INDEX price_history_variant ON price_history (variant_id, currency, applied_at);
CREATE INDEX price_history_due ON price_history (valid_from) WHERE applied_at IS NULL AND ended_at IS NULL;

-- Typed attribute definitions. Keys already in use become text, not filterable, named as they
-- were written.
CREATE TABLE attribute_definitions (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'enum')),
    "values"   TEXT NOT NULL DEFAULT '[]',
    unit       TEXT NOT NULL DEFAULT '',
    filterable INTEGER NOT NULL DEFAULT 0,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
INSERT INTO attribute_definitions (key, name, type, created_at, updated_at)
SELECT k.new, min(k.old), 'text', min(p.created_at), min(p.created_at)
FROM attribute_keys k, products p, json_each(p.attributes) j WHERE j.key = k.old GROUP BY k.new;

-- Every attribute value of a product (variant_id NULL) or variant, typed, so attr.* filters and
-- "is this value in use" read an index. Writes replace the rows of what they change.
CREATE TABLE attribute_values (
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    variant_id TEXT REFERENCES variants (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    text_value TEXT,
    num_value  REAL
);
INSERT INTO attribute_values (product_id, key, text_value)
SELECT p.id, j.key, CAST(j.value AS TEXT) FROM products_new p, json_each(p.attributes) j;
CREATE INDEX attribute_values_text ON attribute_values (key, text_value, product_id);
CREATE INDEX attribute_values_num ON attribute_values (key, num_value, product_id);
CREATE INDEX attribute_values_product ON attribute_values (product_id, variant_id);
CREATE INDEX attribute_values_variant ON attribute_values (variant_id) WHERE variant_id IS NOT NULL;

DROP TABLE products;
ALTER TABLE products_new RENAME TO products;
CREATE INDEX products_status_created ON products (status, created_at, id);
CREATE INDEX products_status_name ON products (status, name_key, id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX products_name ON products (name_key, id);
CREATE INDEX products_category ON products (category, name_key, id);
CREATE INDEX products_brand ON products (brand COLLATE NOCASE);

-- Search (ADR 0011) covers name, brand, description and every variant's SKU. SKUs get their
-- own index, so adding one variant re-indexes that SKU only, not the product's 2,000 others.
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
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE variants_fts USING fts5 (
    sku,
    content = 'variants', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER variants_fts_insert AFTER INSERT ON variants BEGIN
    INSERT INTO variants_fts (rowid, sku) VALUES (new.seq, new.sku);
END;
CREATE TRIGGER variants_fts_delete AFTER DELETE ON variants BEGIN
    INSERT INTO variants_fts (variants_fts, rowid, sku) VALUES ('delete', old.seq, old.sku);
END;
CREATE TRIGGER variants_fts_update AFTER UPDATE OF sku ON variants BEGIN
    INSERT INTO variants_fts (variants_fts, rowid, sku) VALUES ('delete', old.seq, old.sku);
    INSERT INTO variants_fts (rowid, sku) VALUES (new.seq, new.sku);
END;
INSERT INTO variants_fts (variants_fts) VALUES ('rebuild');

DROP TABLE attribute_keys;
