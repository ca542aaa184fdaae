-- Collections: named, hand-ordered lists of products (issue 15).

CREATE TABLE collections (
    slug        text PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    -- product_count is kept by every write (and the trigger below), so reads never count.
    product_count bigint NOT NULL DEFAULT 0 CHECK (product_count >= 0),
    version     bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- position is a sparse key (catalog.PositionKeys), negative too: a move writes only the moved rows.
CREATE TABLE collection_products (
    collection text NOT NULL REFERENCES collections (slug) ON DELETE CASCADE,
    product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position   bigint NOT NULL,
    PRIMARY KEY (collection, product_id)
);
CREATE INDEX collection_products_order ON collection_products (collection, position, product_id);
CREATE INDEX collection_products_product ON collection_products (product_id);

-- Deleting a product drops it from its collections (the cascade) and changes their version, so
-- an ETag held for a collection's list goes stale. BEFORE: the memberships are still there.
CREATE FUNCTION collections_product_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE collections SET version = version + 1, product_count = product_count - 1
    WHERE slug IN (SELECT collection FROM collection_products WHERE product_id = OLD.id);
    RETURN OLD;
END
$$;
CREATE TRIGGER collections_product_deleted BEFORE DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION collections_product_deleted();
