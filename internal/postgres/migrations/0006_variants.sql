-- Variants are the stocked unit (ADR 0012). Every existing product becomes a product with one
-- variant whose ID is the product's ID, carrying its SKU, stock, movements, reservation lines,
-- price and price history; attribute keys already in use are defined as text.
--
-- Attribute keys were free text (1-64 characters); typed attributes need keys a query string
-- can name (lower-case letters, digits and '_', starting with a letter). Each key in use maps
-- to one, as on the embedded store: lower-cased, with spaces, '-', '.' and '/' as '_' ("Screen
-- size" -> screen_size), or, when that is still no key, attr_ and its UTF-8 bytes in hex. The
-- definition keeps the key as it was written as its name, and products are rewritten to the
-- new keys below, so they stay editable.
CREATE TEMP TABLE attribute_keys ON COMMIT DROP AS
SELECT old, CASE WHEN norm ~ '^[a-z][a-z0-9_]{0,63}$' THEN norm
        ELSE left('attr_' || encode(convert_to(old, 'UTF8'), 'hex'), 64) END AS new
FROM (SELECT old, translate(lower(btrim(old)), ' -./', '____') AS norm
      FROM (SELECT DISTINCT jsonb_object_keys(attributes) AS old FROM products) k) n;

CREATE TABLE attribute_definitions (
    key         text PRIMARY KEY,
    name        text NOT NULL,
    type        text NOT NULL CHECK (type IN ('text', 'number', 'boolean', 'enum')),
    enum_values jsonb NOT NULL DEFAULT '[]',
    unit        text NOT NULL DEFAULT '',
    filterable  boolean NOT NULL DEFAULT false,
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

INSERT INTO attribute_definitions (key, name, type, version, created_at, updated_at)
SELECT new, min(old COLLATE "C"), 'text', 1, now(), now() FROM attribute_keys GROUP BY new;

CREATE TABLE variants (
    id             uuid PRIMARY KEY,
    product_id     uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku            text NOT NULL,
    -- Option name -> value. jsonb keeps one canonical form (keys sorted, no duplicates), so
    -- the unique index below allows each combination once per product.
    options        jsonb NOT NULL DEFAULT '{}',
    position       integer NOT NULL,
    barcode        text NOT NULL DEFAULT '',
    weight_grams   bigint CHECK (weight_grams >= 0),
    attributes     jsonb NOT NULL DEFAULT '{}',
    image          text NOT NULL DEFAULT '',
    purchase_limit bigint NOT NULL DEFAULT 0 CHECK (purchase_limit >= 0),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    -- The SKU is searched as the product's text is (ADR 0011): punctuation separates words.
    search         tsvector GENERATED ALWAYS AS (
        to_tsvector('catalog_english'::regconfig, regexp_replace(sku, '[[:punct:]]+', ' ', 'g'))
    ) STORED
);

INSERT INTO variants (id, product_id, sku, position, created_at, updated_at)
SELECT id, id, sku, 0, created_at, updated_at FROM products;

-- SKUs keep their case but are unique across the catalog regardless of it.
CREATE UNIQUE INDEX variants_sku ON variants (lower(sku));
CREATE UNIQUE INDEX variants_combination ON variants (product_id, options);
-- A product's variants in order; also what keeps a variant write from reading its siblings.
CREATE UNIQUE INDEX variants_product ON variants (product_id, position);
CREATE INDEX variants_attributes ON variants USING gin (attributes);
CREATE INDEX variants_search ON variants USING gin (search);

-- Stock moves from products to variants: a migrated variant's ID is its product's, so the
-- rows keep their keys; product_id stays for the per-product sums (stock version,
-- availability) and for the change notifications.
ALTER TABLE inventory DROP CONSTRAINT inventory_product_id_fkey;
ALTER TABLE inventory RENAME COLUMN product_id TO variant_id;
ALTER TABLE inventory ADD COLUMN product_id uuid;
UPDATE inventory SET product_id = variant_id;
ALTER TABLE inventory ALTER COLUMN product_id SET NOT NULL;
ALTER TABLE inventory ADD CONSTRAINT inventory_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES variants (id) ON DELETE CASCADE;
CREATE INDEX inventory_product ON inventory (product_id);

-- The logs gain the variant and its SKU (no foreign keys: they outlive what they describe).
ALTER TABLE stock_movements ADD COLUMN variant_id uuid, ADD COLUMN sku text NOT NULL DEFAULT '';
UPDATE stock_movements m SET variant_id = m.product_id, sku = k.sku
FROM (SELECT id, sku FROM products UNION ALL SELECT id, sku FROM deleted_products WHERE id NOT IN (SELECT id FROM products)) k
WHERE k.id = m.product_id;
UPDATE stock_movements SET variant_id = product_id WHERE variant_id IS NULL;
ALTER TABLE stock_movements ALTER COLUMN variant_id SET NOT NULL;
DROP INDEX stock_movements_product;
CREATE INDEX stock_movements_variant ON stock_movements (variant_id, id);

ALTER TABLE reservation_lines ADD COLUMN variant_id uuid;
UPDATE reservation_lines SET variant_id = product_id;
DROP INDEX reservation_lines_product;
CREATE INDEX reservation_lines_variant ON reservation_lines (variant_id);

-- Price history per variant and currency: set (now or scheduled, optionally a sale window
-- ending at valid_until) and revert (a window's end). ended_at: when a window's price stopped
-- being current, or when a scheduled price was cancelled before it applied.
ALTER TABLE price_history ADD COLUMN variant_id uuid,
    ADD COLUMN kind text NOT NULL DEFAULT 'set' CHECK (kind IN ('set', 'revert')),
    ADD COLUMN compare_at bigint,
    ADD COLUMN valid_until timestamptz,
    ADD COLUMN ended_at timestamptz;
UPDATE price_history SET variant_id = product_id;
ALTER TABLE price_history ALTER COLUMN variant_id SET NOT NULL;
-- A scheduled price of a product deleted before it applied will never apply: cancelled, so the
-- sweeper does not keep finding it.
UPDATE price_history h SET ended_at = now()
WHERE applied_at IS NULL AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = h.product_id);
DROP INDEX price_history_product;
DROP INDEX price_history_due;
CREATE INDEX price_history_variant ON price_history (variant_id, currency, id);
CREATE INDEX price_history_due ON price_history (valid_from) WHERE applied_at IS NULL AND ended_at IS NULL;

-- One current price per variant and currency. While a sale window's price is current,
-- revert_amount/revert_compare_at hold the price to go back to at window_ends_at (NULL
-- revert_amount: there was none; the price is removed), window_entry_id its history line.
CREATE TABLE variant_prices (
    variant_id        uuid NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    product_id        uuid NOT NULL,
    amount            bigint NOT NULL CHECK (amount >= 0),
    compare_at        bigint CHECK (compare_at > amount),
    prior_amount      bigint,
    revert_amount     bigint,
    revert_compare_at bigint,
    window_entry_id   bigint,
    window_ends_at    timestamptz,
    PRIMARY KEY (variant_id, currency)
);
-- A product's lowest and highest price in a currency, read through the index in O(log n).
CREATE INDEX variant_prices_product ON variant_prices (product_id, currency, amount);
CREATE INDEX variant_prices_window ON variant_prices (window_ends_at) WHERE window_ends_at IS NOT NULL;

INSERT INTO variant_prices (variant_id, currency, product_id, amount)
SELECT id, price_currency, id, price_amount FROM products;

-- Per product and currency, the lowest and highest current variant price: what lists sort,
-- filter and show ("from $12"). Kept in the transaction of every price change.
CREATE TABLE product_prices (
    product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency   text NOT NULL,
    min_amount bigint NOT NULL,
    max_amount bigint NOT NULL,
    PRIMARY KEY (product_id, currency)
);
CREATE INDEX product_prices_sort ON product_prices (currency, min_amount, product_id);

INSERT INTO product_prices (product_id, currency, min_amount, max_amount)
SELECT id, price_currency, price_amount, price_amount FROM products;

-- Products keep what the shopper sees; images become media (one rewrite of the table, with
-- the search column gone so it is not recomputed, rather than an UPDATE of every row); options
-- are new. variant_count is kept with the product's version (every variant write holds the
-- product row), so adding or removing a variant checks the limits without counting the others.
DROP INDEX products_status_price;
DROP INDEX products_price;
DROP INDEX products_sku;
DROP INDEX products_search;
ALTER TABLE products DROP COLUMN search;
CREATE FUNCTION pg_temp.catalog_media(images jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(jsonb_agg(jsonb_build_object('url', u) ORDER BY n), '[]') FROM jsonb_array_elements_text(images) WITH ORDINALITY AS e (u, n) $$;
CREATE FUNCTION pg_temp.catalog_attributes(a jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT coalesce(jsonb_object_agg(k.new, j.value ORDER BY j.key COLLATE "C"), '{}') FROM jsonb_each(a) j JOIN attribute_keys k ON k.old = j.key $$;
ALTER TABLE products ALTER COLUMN images DROP DEFAULT, ALTER COLUMN images TYPE jsonb USING pg_temp.catalog_media(images),
    ALTER COLUMN attributes TYPE jsonb USING pg_temp.catalog_attributes(attributes);
DROP FUNCTION pg_temp.catalog_media(jsonb);
DROP FUNCTION pg_temp.catalog_attributes(jsonb);
ALTER TABLE products RENAME COLUMN images TO media;
ALTER TABLE products ALTER COLUMN media SET DEFAULT '[]',
    ADD COLUMN options jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN variant_count integer NOT NULL DEFAULT 1 CHECK (variant_count >= 1);
ALTER TABLE products DROP COLUMN sku, DROP COLUMN price_currency, DROP COLUMN price_amount;
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(name, '[[:punct:]]+', ' ', 'g')), 'A') ||
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(brand, '[[:punct:]]+', ' ', 'g')), 'B') ||
    setweight(to_tsvector('catalog_english'::regconfig, regexp_replace(description, '[[:punct:]]+', ' ', 'g')), 'C')
) STORED;
CREATE INDEX products_search ON products USING gin (search);
CREATE INDEX products_attributes ON products USING gin (attributes);

-- A deleted variant is remembered as deleted products are, so the kept logs name it.
CREATE TABLE deleted_variants (
    id         uuid PRIMARY KEY,
    product_id uuid NOT NULL,
    sku        text NOT NULL,
    actor      text NOT NULL,
    deleted_at timestamptz NOT NULL
);
