-- A product's price version moves by one with every price event of its variants (set,
-- applied, reverted, scheduled), under the product's row lock, so a price event's
-- entityversion grows in commit order per variant and currency (issue 17: the feed is in xid
-- order, ADR 0014). A constant default: adding the column rewrites nothing.
ALTER TABLE products ADD COLUMN price_version bigint NOT NULL DEFAULT 0;

-- A category's version grows with every change, so its events carry an entityversion too.
ALTER TABLE categories ADD COLUMN version bigint NOT NULL DEFAULT 1;
