-- Collections: named, hand-ordered lists of products (issue 15). Times are Unix microseconds.

CREATE TABLE collections (
    slug        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- product_count is kept by every write (and the trigger below), so reads never count.
    product_count INTEGER NOT NULL DEFAULT 0 CHECK (product_count >= 0),
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- position is a sparse key (catalog.PositionKeys), negative too: a move writes only the moved rows.
CREATE TABLE collection_products (
    collection TEXT NOT NULL REFERENCES collections (slug) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (collection, product_id)
) WITHOUT ROWID;
CREATE INDEX collection_products_order ON collection_products (collection, position, product_id);
CREATE INDEX collection_products_product ON collection_products (product_id);

-- Deleting a product drops it from its collections (the cascade) and changes their version, so
-- an ETag held for a collection's list goes stale.
CREATE TRIGGER collections_product_deleted BEFORE DELETE ON products BEGIN
    UPDATE collections SET version = version + 1, product_count = product_count - 1
    WHERE slug IN (SELECT collection FROM collection_products WHERE product_id = old.id);
END;
