-- Products, categories and stock levels.

CREATE TABLE categories (
    slug       text PRIMARY KEY,
    name       text NOT NULL,
    parent     text REFERENCES categories (slug),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX categories_parent ON categories (parent);

CREATE TABLE products (
    id             uuid PRIMARY KEY,
    sku            text NOT NULL,
    name           text NOT NULL,
    -- name_key is lower(name) computed by the service; byte order ("C") sorts it exactly like
    -- the embedded store does.
    name_key       text COLLATE "C" NOT NULL,
    description    text NOT NULL DEFAULT '',
    category       text NOT NULL REFERENCES categories (slug),
    brand          text NOT NULL DEFAULT '',
    attributes     jsonb NOT NULL DEFAULT '{}',
    images         jsonb NOT NULL DEFAULT '[]',
    status         text NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    price_currency text NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
    price_amount   bigint NOT NULL CHECK (price_amount >= 0),
    version        bigint NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    search         tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A') ||
        setweight(to_tsvector('english'::regconfig, brand), 'B') ||
        setweight(to_tsvector('english'::regconfig, description), 'C')
    ) STORED
);
-- SKUs keep their case but are unique regardless of it.
CREATE UNIQUE INDEX products_sku ON products (lower(sku));
-- One index per sort order, with and without the status filter lists use by default.
CREATE INDEX products_status_created ON products (status, created_at, id);
CREATE INDEX products_status_name ON products (status, name_key, id);
CREATE INDEX products_status_price ON products (status, price_amount, id);
CREATE INDEX products_created ON products (created_at, id);
CREATE INDEX products_name ON products (name_key, id);
CREATE INDEX products_price ON products (price_amount, id);
CREATE INDEX products_category ON products (category, name_key, id);
CREATE INDEX products_brand ON products (brand);
CREATE INDEX products_search ON products USING gin (search);

CREATE TABLE inventory (
    product_id uuid PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    on_hand    bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    version    bigint NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL
);
