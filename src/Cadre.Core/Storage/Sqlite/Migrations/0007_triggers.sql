-- Schema 7: triggers and integrations (issue 8).

-- Schedules.
-- One row per schedule workflow (active or not): the trigger as the scheduler reads it and the next
-- tick to fire. Every node's scheduler looks for due rows (due_at, with the jitter added, at most
-- now) through the partial index, claims one with a lease, starts the tick's run under the
-- idempotency key schedule:<tick> (unique per workflow on runs, so a tick never makes two runs) and
-- advances next_fire_at; each write is conditional on the revision it read.
CREATE TABLE workflow_schedules (
    workflow_id       TEXT    NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    workspace_id      TEXT    NOT NULL,
    workflow_version  INTEGER NOT NULL,
    -- The cron expression in Quartz's form (seconds first) and its IANA time zone.
    cron              TEXT    NOT NULL,
    time_zone         TEXT    NOT NULL,
    start_at          TEXT    NULL,
    end_at            TEXT    NULL,
    jitter_ms         INTEGER NOT NULL,
    misfire_policy    TEXT    NOT NULL CHECK (misfire_policy IN ('skip', 'run-once')),
    -- The workflow is active and not in the bin.
    enabled           INTEGER NOT NULL,
    -- The next tick's nominal time, and when its run starts (the tick plus its jitter).
    next_fire_at      TEXT    NULL,
    due_at            TEXT    NULL,
    -- The next tick is a misfire's run-once catch-up, fired however late.
    catch_up          INTEGER NOT NULL,
    last_fire_at      TEXT    NULL,
    last_run_id       TEXT    NULL,
    lease_owner       TEXT    NULL,
    lease_expires_at  TEXT    NULL,
    revision          INTEGER NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX ix_workflow_schedules_due_at ON workflow_schedules (due_at) WHERE due_at IS NOT NULL;
