-- The transactional outbox and change feed (issue 17, ADR 0014).
--
-- A write inserts its events in its own transaction with seq NULL and xid its transaction's id.
-- An identity column is not commit order (a transaction that took 10 may commit after one that
-- took 11), so the feed's seq is given later, by the sequencer (Events), to events whose
-- transaction is below the oldest running one (pg_snapshot_xmin): those have all committed or
-- rolled back, so no event can appear later below a sequence already handed out.
CREATE TABLE events (
    local          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order within a transaction
    seq            bigint UNIQUE,                                   -- commit order; NULL until sequenced
    xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id             text NOT NULL UNIQUE,
    type           text NOT NULL,
    subject        text NOT NULL,
    actor          text NOT NULL,
    entity_version bigint NOT NULL DEFAULT 0,
    data           json,
    at             timestamptz NOT NULL
);
CREATE INDEX events_unsequenced ON events (xid, local) WHERE seq IS NULL;
CREATE INDEX events_type_seq ON events (type, seq) WHERE seq IS NOT NULL;
CREATE INDEX events_at ON events (at) WHERE seq IS NOT NULL;

-- One row: the last sequence handed out (its lock serialises sequencers) and the highest the
-- retention purge removed (a cursor below it answers 410).
CREATE TABLE event_state (
    one            boolean PRIMARY KEY DEFAULT true CHECK (one),
    last_seq       bigint NOT NULL,
    purged_through bigint NOT NULL
);
INSERT INTO event_state (last_seq, purged_through) VALUES (0, 0);
