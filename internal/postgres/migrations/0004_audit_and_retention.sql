-- The stock and price logs outlive their product (they are the audit of sales that happened),
-- adjustments keep their note apart from their reason, brand filters ignore case, and the
-- sweeper's purges of old idempotency keys and finished reservations find their rows by index.

-- No foreign key from the logs to products: deleting a product keeps its movements, its price
-- history and the lines of its finished reservations. Without them, no write path but the
-- product's own writes locks a product row, which is what keeps the lock order in
-- inventory.go acyclic.
ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_product_id_fkey;
ALTER TABLE price_history DROP CONSTRAINT price_history_product_id_fkey;
ALTER TABLE reservation_lines DROP CONSTRAINT reservation_lines_product_id_fkey;

-- What a deleted product was, so the kept logs still name its SKU.
CREATE TABLE deleted_products (
    id         uuid PRIMARY KEY,
    sku        text NOT NULL,
    name       text NOT NULL,
    actor      text NOT NULL,
    deleted_at timestamptz NOT NULL
);

ALTER TABLE stock_movements ADD COLUMN note text NOT NULL DEFAULT '';
-- Adjustments used to log "reason: note" in reason; split them.
UPDATE stock_movements
SET note = substr(reason, strpos(reason, ': ') + 2), reason = split_part(reason, ': ', 1)
WHERE kind = 'adjustment' AND strpos(reason, ': ') > 0
  AND split_part(reason, ': ', 1) IN ('received', 'returned', 'damaged', 'lost', 'count_correction', 'other');

DROP INDEX products_brand;
CREATE INDEX products_brand ON products (lower(brand));

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX reservations_finished ON reservations (updated_at) WHERE status <> 'held';
