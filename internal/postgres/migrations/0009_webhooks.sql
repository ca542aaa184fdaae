-- Webhook subscriptions, their feed cursors and leases, and the delivery log (issue 17, ADR 0017).
--
-- A worker on every instance claims a due subscription by setting lease_owner and lease_until
-- (UPDATE ... WHERE lease_until < now, the candidate row taken FOR UPDATE SKIP LOCKED), so two
-- instances never deliver to one subscription at once, and a crashed instance's lease expires.
-- feed_cursor moves only after the receiver accepted an event; next_attempt_at, failures and
-- failing_since keep the backoff across restarts. The secret is kept because the service signs
-- with it (the database's encryption at rest protects it, as it does every other row).
CREATE TABLE webhooks (
    id                    text PRIMARY KEY,
    url                   text NOT NULL,
    event_types           text[] NOT NULL DEFAULT '{}',
    secret                text NOT NULL,
    previous_secret       text,
    previous_secret_until timestamptz,
    enabled               boolean NOT NULL DEFAULT true,
    disabled_reason       text NOT NULL DEFAULT '',
    disabled_at           timestamptz,
    feed_cursor           bigint NOT NULL CHECK (feed_cursor >= 0),
    failures              integer NOT NULL DEFAULT 0,
    failing_since         timestamptz,
    next_attempt_at       timestamptz NOT NULL,
    lease_owner           text,
    lease_until           timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE enabled;

-- One row per attempt. No foreign key (ADR 0006): deleting a subscription deletes its log in
-- the same transaction, and the purge never waits on the subscriptions' rows.
CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  text NOT NULL,
    event_id    text NOT NULL,
    event_type  text NOT NULL,
    seq         bigint NOT NULL,
    attempt     integer NOT NULL,
    outcome     text NOT NULL,
    status      integer NOT NULL,
    duration_ms bigint NOT NULL,
    error       text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
