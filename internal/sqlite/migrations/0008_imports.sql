-- Bulk import jobs (issue 17, ADR 0019): a job's state, counts and first errors; the upload is
-- spooled on the instance that received it. heartbeat_at moves with every batch, so a job whose
-- process stopped is marked failed instead of staying "running" forever. Times are Unix µs.
CREATE TABLE import_jobs (
    id              TEXT PRIMARY KEY,
    actor           TEXT NOT NULL,
    idempotency_key TEXT,
    digest          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'validating', 'running', 'succeeded', 'failed')),
    format          TEXT NOT NULL,
    dry_run         INTEGER NOT NULL,
    partial         INTEGER NOT NULL,
    bytes           INTEGER NOT NULL DEFAULT 0,
    lines           INTEGER NOT NULL DEFAULT 0,
    products        INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    errors          TEXT NOT NULL DEFAULT '[]',
    reason          TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    heartbeat_at    INTEGER NOT NULL,
    finished_at     INTEGER,
    UNIQUE (actor, idempotency_key)
);
CREATE INDEX import_jobs_unfinished ON import_jobs (heartbeat_at) WHERE state IN ('queued', 'validating', 'running');
