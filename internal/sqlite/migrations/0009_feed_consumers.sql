-- Durable consumers of the change feed (issue 17, ADR 0018): the EventBridge relay and webhook
-- subscriptions keep their position here, behind a lease, so a restart resumes where it stopped
-- and, of many instances, only the lease holder delivers. owner '' is no owner. Times are Unix µs.
CREATE TABLE feed_consumers (
    name        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL CHECK (position >= 0),
    owner       TEXT NOT NULL DEFAULT '',
    lease_until INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
