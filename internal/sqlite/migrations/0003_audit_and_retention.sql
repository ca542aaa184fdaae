-- The stock and price logs outlive their product (they are the audit of sales that happened),
-- adjustments keep their note apart from their reason, brand filters ignore case, and the
-- sweeper's purges of old idempotency keys and finished reservations find their rows by index.
-- SQLite cannot drop a foreign key, so the three logs are rebuilt without theirs.

CREATE TABLE stock_movements_new (
    id             INTEGER PRIMARY KEY,
    product_id     TEXT NOT NULL,
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
INSERT INTO stock_movements_new (id, product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, note, reservation_id, actor, at)
SELECT id, product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved,
    CASE WHEN kind = 'adjustment' AND instr(reason, ': ') > 0
        AND substr(reason, 1, instr(reason, ': ') - 1) IN ('received', 'returned', 'damaged', 'lost', 'count_correction', 'other')
        THEN substr(reason, 1, instr(reason, ': ') - 1) ELSE reason END,
    CASE WHEN kind = 'adjustment' AND instr(reason, ': ') > 0
        AND substr(reason, 1, instr(reason, ': ') - 1) IN ('received', 'returned', 'damaged', 'lost', 'count_correction', 'other')
        THEN substr(reason, instr(reason, ': ') + 2) ELSE '' END,
    reservation_id, actor, at
FROM stock_movements;
DROP TABLE stock_movements;
ALTER TABLE stock_movements_new RENAME TO stock_movements;
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

CREATE TABLE price_history_new (
    id         INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL,
    currency   TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    valid_from INTEGER NOT NULL,
    applied_at INTEGER,
    actor      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO price_history_new SELECT id, product_id, currency, amount, valid_from, applied_at, actor, created_at FROM price_history;
DROP TABLE price_history;
ALTER TABLE price_history_new RENAME TO price_history;
CREATE INDEX price_history_product ON price_history (product_id, valid_from);
CREATE INDEX price_history_due ON price_history (valid_from) WHERE applied_at IS NULL;

CREATE TABLE reservation_lines_new (
    reservation_id TEXT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    line           INTEGER NOT NULL,
    product_id     TEXT,
    sku            TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line)
);
INSERT INTO reservation_lines_new SELECT reservation_id, line, product_id, sku, quantity FROM reservation_lines;
DROP TABLE reservation_lines;
ALTER TABLE reservation_lines_new RENAME TO reservation_lines;
CREATE INDEX reservation_lines_product ON reservation_lines (product_id);

-- What a deleted product was, so the kept logs still name its SKU.
CREATE TABLE deleted_products (
    id         TEXT PRIMARY KEY,
    sku        TEXT NOT NULL,
    name       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    deleted_at INTEGER NOT NULL
);

DROP INDEX products_brand;
CREATE INDEX products_brand ON products (brand COLLATE NOCASE);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
CREATE INDEX reservations_finished ON reservations (updated_at) WHERE status <> 'held';
