-- What facet counts read per product, kept on the product row (issue 16, ADR 0023), so a
-- category page counts its products in one scan instead of probing inventory and variants for
-- each of them:
--   in_stock      any variant has units available (on_hand > reserved);
--   facet_values  attribute key -> the distinct non-null values the product or any of its
--                 variants has, as a JSON array (equal numbers once: 10 and 10.0 are one value).
-- Triggers keep both in the transaction of every write that changes them, whichever code path
-- writes (single writes, batches, imports, reservations). Constant defaults: adding the
-- columns rewrites nothing; the backfill below writes each product once.
ALTER TABLE products ADD COLUMN in_stock boolean NOT NULL DEFAULT false,
    ADD COLUMN facet_values jsonb NOT NULL DEFAULT '{}';

-- The facet values of attribute objects (a product's and its variants').
CREATE FUNCTION catalog_facet_values(objs jsonb[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, vs), '{}') FROM (
        SELECT a.key AS k, jsonb_agg(DISTINCT a.value) AS vs
        FROM unnest(objs) o, jsonb_each(o) a
        WHERE jsonb_typeof(a.value) <> 'null'
        GROUP BY a.key) x
$$;

-- A product's own write: its attributes with those of its variants (none yet on insert).
CREATE FUNCTION catalog_product_facet_values() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.facet_values := catalog_facet_values(ARRAY[NEW.attributes]);
    ELSE
        NEW.facet_values := catalog_facet_values(array_prepend(NEW.attributes, ARRAY(SELECT v.attributes FROM variants v WHERE v.product_id = NEW.id)));
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER products_facet_values BEFORE INSERT OR UPDATE OF attributes ON products
    FOR EACH ROW EXECUTE FUNCTION catalog_product_facet_values();

-- Variant updates and deletes: once per statement, so a set-based write of N variants writes
-- each of their products once, and only when its values change. Every variant write already
-- holds its product's row (ADR 0012), so this takes no new lock. New variants are counted by
-- the inventory insert below: every variant gets its inventory row in the transaction that
-- creates it (the stock model, ADR 0012), and taking both columns there writes a new or
-- imported product once instead of twice.
CREATE FUNCTION catalog_refresh_facet_values(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    UPDATE products p SET facet_values = x.fv
    FROM (SELECT pr.id, catalog_facet_values(array_prepend(pr.attributes, ARRAY(SELECT v.attributes FROM variants v WHERE v.product_id = pr.id))) AS fv
          FROM products pr WHERE pr.id = ANY (ids)) x
    WHERE p.id = x.id AND p.facet_values IS DISTINCT FROM x.fv
$$;

CREATE FUNCTION catalog_variants_facet_values() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT product_id FROM removed WHERE attributes <> '{}');
    ELSE
        ids := ARRAY(SELECT unnest(ARRAY[n.product_id, o.product_id]) FROM added n JOIN removed o ON o.id = n.id
                     WHERE n.attributes IS DISTINCT FROM o.attributes OR n.product_id <> o.product_id);
    END IF;
    IF cardinality(ids) > 0 THEN
        PERFORM catalog_refresh_facet_values(ids);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER variants_facet_values_update AFTER UPDATE ON variants REFERENCING NEW TABLE AS added OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_variants_facet_values();
CREATE TRIGGER variants_facet_values_delete AFTER DELETE ON variants REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_variants_facet_values();

-- in_stock of the products ids, recounted from their inventory rows. The product rows are
-- locked first and counted in the next statement, which under read committed sees what the
-- lock waited for: two transactions emptying two variants of one product cannot each count
-- the other's variant as still available and leave the flag true.
CREATE FUNCTION catalog_refresh_in_stock(ids uuid[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM products WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
    UPDATE products p SET in_stock = x.s
    FROM (SELECT u.id, EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = u.id AND i.on_hand > i.reserved) AS s
          FROM unnest(ids) u (id)) x
    WHERE p.id = x.id AND p.in_stock <> x.s;
END
$$;

-- A stock change writes the product only when a variant's availability crosses zero, and
-- then at commit: a flash sale's reservations never touch the product row until one takes a
-- variant's last unit, and the product lock comes after every inventory row the transaction
-- holds (the lock order of internal/postgres/inventory.go: inventory rows, then products).
CREATE FUNCTION catalog_inventory_crossed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM catalog_refresh_in_stock(ARRAY[NEW.product_id]);
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER inventory_in_stock_crossed AFTER UPDATE ON inventory
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.on_hand > OLD.reserved) IS DISTINCT FROM (NEW.on_hand > NEW.reserved) OR OLD.product_id <> NEW.product_id)
    EXECUTE FUNCTION catalog_inventory_crossed();

-- New inventory rows (new variants: a product created or imported, a variant added): once
-- per statement, both columns of their products in one write, only where either changes.
-- Removed rows (a deleted variant, normally without stock): in_stock of their products. The
-- product rows are new or already held by the variant write.
CREATE FUNCTION catalog_inventory_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids uuid[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT product_id FROM added);
        PERFORM 1 FROM products WHERE id = ANY (ids) ORDER BY id FOR NO KEY UPDATE;
        UPDATE products p SET in_stock = x.s, facet_values = x.fv
        FROM (SELECT pr.id, EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = pr.id AND i.on_hand > i.reserved) AS s,
                  catalog_facet_values(array_prepend(pr.attributes, ARRAY(SELECT v.attributes FROM variants v WHERE v.product_id = pr.id))) AS fv
              FROM products pr WHERE pr.id = ANY (ids)) x
        WHERE p.id = x.id AND (p.in_stock <> x.s OR p.facet_values IS DISTINCT FROM x.fv);
        RETURN NULL;
    END IF;
    ids := ARRAY(SELECT DISTINCT product_id FROM removed WHERE on_hand > reserved);
    IF cardinality(ids) > 0 THEN
        PERFORM catalog_refresh_in_stock(ids);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER inventory_in_stock_insert AFTER INSERT ON inventory REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_inventory_rows();
CREATE TRIGGER inventory_in_stock_delete AFTER DELETE ON inventory REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_inventory_rows();

-- The backfill announces nothing: no cached read shows these columns.
ALTER TABLE products DISABLE TRIGGER products_notify;
UPDATE products p SET in_stock = EXISTS (SELECT 1 FROM inventory i WHERE i.product_id = p.id AND i.on_hand > i.reserved),
    facet_values = catalog_facet_values(array_prepend(p.attributes, ARRAY(SELECT v.attributes FROM variants v WHERE v.product_id = p.id)));
ALTER TABLE products ENABLE TRIGGER products_notify;
