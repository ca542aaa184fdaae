-- Bulk import jobs (issue 17, ADR 0019). The upload itself is spooled on the instance that
-- received it; the row is the job's state, counts and first errors, read by GET /imports/{id}
-- on any instance. heartbeat_at moves with every batch, so a job whose instance stopped is
-- found and marked failed instead of staying "running" forever.
CREATE TABLE import_jobs (
    id              uuid PRIMARY KEY,
    actor           text NOT NULL,
    idempotency_key text,
    digest          text NOT NULL,
    state           text NOT NULL CHECK (state IN ('queued', 'validating', 'running', 'succeeded', 'failed')),
    format          text NOT NULL,
    dry_run         boolean NOT NULL,
    partial         boolean NOT NULL,
    bytes           bigint NOT NULL DEFAULT 0,
    lines           bigint NOT NULL DEFAULT 0,
    products        bigint NOT NULL DEFAULT 0,
    created         bigint NOT NULL DEFAULT 0,
    updated         bigint NOT NULL DEFAULT 0,
    failed          bigint NOT NULL DEFAULT 0,
    errors          jsonb NOT NULL DEFAULT '[]',
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    heartbeat_at    timestamptz NOT NULL,
    finished_at     timestamptz,
    UNIQUE (actor, idempotency_key)
);
CREATE INDEX import_jobs_unfinished ON import_jobs (heartbeat_at) WHERE state IN ('queued', 'validating', 'running');
