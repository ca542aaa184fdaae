-- A product's price version moves by one with every price event of its variants (set,
-- applied, reverted, scheduled), so a price event's entityversion orders a variant's prices
-- per currency for consumers (issue 17, ADR 0014).
ALTER TABLE products ADD COLUMN price_version INTEGER NOT NULL DEFAULT 0;

-- A category's version grows with every change, so its events carry an entityversion too.
ALTER TABLE categories ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
