-- Webhook subscriptions, their feed cursors and leases, and the delivery log (issue 17, ADR
-- 0017). Times are Unix µs; event_types is a JSON array. The single writer makes the claim's
-- conditional UPDATE (lease_until < now) exclusive across the instances sharing the file.
CREATE TABLE webhooks (
    id                    TEXT PRIMARY KEY,
    url                   TEXT NOT NULL,
    event_types           TEXT NOT NULL DEFAULT '[]',
    secret                TEXT NOT NULL,
    previous_secret       TEXT,
    previous_secret_until INTEGER,
    enabled               INTEGER NOT NULL DEFAULT 1,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    disabled_at           INTEGER,
    feed_cursor           INTEGER NOT NULL CHECK (feed_cursor >= 0),
    failures              INTEGER NOT NULL DEFAULT 0,
    failing_since         INTEGER,
    next_attempt_at       INTEGER NOT NULL,
    lease_owner           TEXT,
    lease_until           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    at          INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
