-- Stock movements, reservations, idempotency keys and price history. Times are Unix microseconds.

-- Append-only: per product, the deltas sum to inventory.on_hand and inventory.reserved.
CREATE TABLE stock_movements (
    id             INTEGER PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('initial', 'adjustment', 'reserve', 'commit', 'release', 'expire')),
    on_hand_delta  INTEGER NOT NULL,
    reserved_delta INTEGER NOT NULL,
    on_hand        INTEGER NOT NULL,
    reserved       INTEGER NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    reservation_id TEXT,
    actor          TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

-- Stock that existed before the log did enters it as one initial movement.
INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at)
SELECT product_id, 'initial', on_hand, reserved, on_hand, reserved, 'opening balance', 'migration', updated_at
FROM inventory WHERE on_hand > 0 OR reserved > 0;

CREATE TABLE reservations (
    id         TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired')),
    actor      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX reservations_held ON reservations (expires_at) WHERE status = 'held';

CREATE TABLE reservation_lines (
    reservation_id TEXT NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    line           INTEGER NOT NULL,
    -- A product with held units cannot be deleted; finished reservations keep the SKU.
    product_id     TEXT REFERENCES products (id) ON DELETE SET NULL,
    sku            TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line)
);
CREATE INDEX reservation_lines_product ON reservation_lines (product_id);

-- The first successful result of each (actor, key); failures are not kept, so a retry of a
-- failed request runs again.
CREATE TABLE idempotency_keys (
    actor       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
);

CREATE TABLE price_history (
    id         INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency   TEXT NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    valid_from INTEGER NOT NULL,
    applied_at INTEGER,
    actor      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX price_history_product ON price_history (product_id, valid_from);
CREATE INDEX price_history_due ON price_history (valid_from) WHERE applied_at IS NULL;

INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
SELECT id, price_currency, price_amount, created_at, created_at, 'migration', created_at FROM products;
