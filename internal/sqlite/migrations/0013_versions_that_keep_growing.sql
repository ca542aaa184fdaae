-- Issue 17, event leftovers (ADR 0014, "2026-12-02" section).
--
-- Slug-named entities (categories, collections, attribute definitions) may be deleted and
-- created again under the same slug. Their entityversion must keep growing across that, or a
-- consumer applying "only if newer" would ignore the new entity's events: a deletion keeps
-- its version here, and a creation continues above it.
CREATE TABLE entity_tombstones (
    subject TEXT PRIMARY KEY, -- the events' subject: categories/{slug}, collections/{slug}, attributes/{key}
    version INTEGER NOT NULL  -- the deletion event's entityversion
) WITHOUT ROWID;

-- A price event takes its product's next price version (events.go emitAt inserts it as
-- price_version + 1); this stores it on the product in the same statement, so a price write
-- needs no separate UPDATE. The product is the subject's second segment
-- (products/{id}/variants/{variantID}).
CREATE TRIGGER events_price_version AFTER INSERT ON events
WHEN NEW.type IN ('catalog.price.changed', 'catalog.price.scheduled')
BEGIN
    UPDATE products SET price_version = NEW.entity_version
    WHERE id = substr(NEW.subject, 10, instr(substr(NEW.subject, 10), '/') - 1);
END;
