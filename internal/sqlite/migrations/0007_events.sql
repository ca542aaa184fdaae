-- The transactional outbox and change feed (issue 17, ADR 0014). Every write inserts its events
-- in its own transaction. One writer commits at a time, so the AUTOINCREMENT seq is commit
-- order; AUTOINCREMENT (not a plain rowid) never reuses a purged number. Times are Unix µs.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    type           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    actor          TEXT NOT NULL,
    entity_version INTEGER NOT NULL DEFAULT 0,
    data           TEXT,
    at             INTEGER NOT NULL
);
CREATE INDEX events_type ON events (type, seq);
CREATE INDEX events_at ON events (at);

-- purged_through is the highest sequence the retention purge removed: a cursor below it would
-- skip events, so the feed answers 410 for it even once the table is empty.
CREATE TABLE event_floor (
    one            INTEGER PRIMARY KEY CHECK (one = 1),
    purged_through INTEGER NOT NULL
);
INSERT INTO event_floor (one, purged_through) VALUES (1, 0);
