-- Stock movements, reservations, idempotency keys and price history.

-- Append-only: per product, the deltas sum to inventory.on_hand and inventory.reserved.
CREATE TABLE stock_movements (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id     uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('initial', 'adjustment', 'reserve', 'commit', 'release', 'expire')),
    on_hand_delta  bigint NOT NULL,
    reserved_delta bigint NOT NULL,
    on_hand        bigint NOT NULL,
    reserved       bigint NOT NULL,
    reason         text NOT NULL DEFAULT '',
    reservation_id uuid,
    actor          text NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

INSERT INTO stock_movements (product_id, kind, on_hand_delta, reserved_delta, on_hand, reserved, reason, actor, at)
SELECT product_id, 'initial', on_hand, reserved, on_hand, reserved, 'opening balance', 'migration', updated_at
FROM inventory WHERE on_hand > 0 OR reserved > 0;

CREATE TABLE reservations (
    id         uuid PRIMARY KEY,
    status     text NOT NULL CHECK (status IN ('held', 'committed', 'released', 'expired')),
    actor      text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX reservations_held ON reservations (expires_at) WHERE status = 'held';

CREATE TABLE reservation_lines (
    reservation_id uuid NOT NULL REFERENCES reservations (id) ON DELETE CASCADE,
    line           int NOT NULL,
    product_id     uuid REFERENCES products (id) ON DELETE SET NULL,
    sku            text NOT NULL,
    quantity       bigint NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (reservation_id, line)
);
CREATE INDEX reservation_lines_product ON reservation_lines (product_id);

CREATE TABLE idempotency_keys (
    actor       text NOT NULL,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    result      jsonb,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (actor, key)
);

CREATE TABLE price_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    currency   text NOT NULL,
    amount     bigint NOT NULL CHECK (amount >= 0),
    valid_from timestamptz NOT NULL,
    applied_at timestamptz,
    actor      text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX price_history_product ON price_history (product_id, valid_from);
CREATE INDEX price_history_due ON price_history (valid_from) WHERE applied_at IS NULL;

INSERT INTO price_history (product_id, currency, amount, valid_from, applied_at, actor, created_at)
SELECT id, price_currency, price_amount, created_at, created_at, 'migration', created_at FROM products;
