-- Issue 17, updates in bulk import (ADR 0026, 2026-12-03).
--
-- Per product, the SHA-256 of the normalised import line that last created, updated or was
-- compared against it, and the product's versions right after. A line of the same digest
-- whose product still has those versions is unchanged: every write outside an import moves
-- version (own fields, variants, prices: bumpProduct) or price_version (every price event),
-- so the stored state is still what that line left, and the import skips reading it. A
-- mismatch only means "compare in full", so a stale row is harmless; the row goes with its
-- product.
CREATE TABLE import_digests (
    product_id    uuid PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    digest        bytea NOT NULL,
    version       bigint NOT NULL,
    price_version bigint NOT NULL
);

-- The prior price (catalog.PriorPrice: the lowest price of the 30 days before a reduction) is
-- computed in SQL from the applied lines of one variant and currency: the last before a moment,
-- and the lowest inside the window. In applied_at order, with the amount in the index, each is
-- a bounded index range, whatever the length of the history before the window.
CREATE INDEX price_history_applied ON price_history (variant_id, currency, applied_at, id) INCLUDE (amount)
    WHERE applied_at IS NOT NULL;
