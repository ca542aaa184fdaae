-- Every change to a product or its stock is announced on the channel catalog_product with the
-- product ID, so instances drop it from their read caches. NOTIFY is transactional: listeners
-- hear of a change only when it commits, and duplicates within a transaction are folded.

CREATE FUNCTION catalog_notify_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('catalog_product', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION catalog_notify_inventory() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('catalog_product', OLD.product_id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER products_notify AFTER UPDATE OR DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION catalog_notify_product();
CREATE TRIGGER inventory_notify AFTER UPDATE OR DELETE ON inventory
    FOR EACH ROW EXECUTE FUNCTION catalog_notify_inventory();
