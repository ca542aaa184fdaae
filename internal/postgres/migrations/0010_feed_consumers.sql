-- Durable consumers of the change feed (issue 17, ADR 0018): the EventBridge relay and webhook
-- subscriptions keep their position here, behind a lease, so a restart resumes where it stopped
-- and, of many instances, only the lease holder delivers. owner '' is no owner.
CREATE TABLE feed_consumers (
    name        text PRIMARY KEY,
    position    bigint NOT NULL CHECK (position >= 0),
    owner       text NOT NULL DEFAULT '',
    lease_until timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
