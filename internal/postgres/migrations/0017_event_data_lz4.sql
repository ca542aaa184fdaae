-- An import batch writes about a thousand catalog.product.created events, each about 2.7 kB of
-- JSON: past the 2 kB TOAST threshold, so each is compressed as it is stored, with pglz by
-- default. lz4 costs a third of that (ADR 0026, 2026-12-02: 31 -> 19 ms of backend CPU per
-- 1,000 such events) and decompresses faster for the feed's readers. Only new values use it;
-- nothing is rewritten. A server built without lz4 (PostgreSQL 14+ builds, RDS and Aurora
-- included, have it) keeps pglz rather than failing the migration.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available: events.data stays pglz';
END
$$;
