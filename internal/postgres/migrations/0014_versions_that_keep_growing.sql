-- Issue 17, event leftovers (ADR 0014, "2026-12-02" section).
--
-- Slug-named entities (categories, collections, attribute definitions) may be deleted and
-- created again under the same slug. Their entityversion must keep growing across that, or a
-- consumer applying "only if newer" would ignore the new entity's events: a deletion keeps
-- its version here, and a creation continues above it. One row per slug ever deleted, so
-- the table stays as small as the set of names.
CREATE TABLE entity_tombstones (
    subject text PRIMARY KEY, -- the events' subject: categories/{slug}, collections/{slug}, attributes/{key}
    version bigint NOT NULL   -- the deletion event's entityversion
);
