-- Schema 7: triggers and integrations (issue 8).

-- Schedules.
-- One row per schedule workflow (active or not): the trigger as the scheduler reads it and the next
-- tick to fire. Every node's scheduler looks for due rows (due_at, with the jitter added, at most
-- now) through the partial index, claims one with a lease, starts the tick's run under the
-- idempotency key schedule:<tick> (unique per workflow on runs, so a tick never makes two runs) and
-- advances next_fire_at; each write is conditional on the revision it read.
CREATE TABLE workflow_schedules (
    workflow_id       text COLLATE "C" NOT NULL PRIMARY KEY REFERENCES workflows (id) ON DELETE CASCADE,
    workspace_id      text COLLATE "C" NOT NULL,
    workflow_version  integer     NOT NULL,
    -- The cron expression in Quartz's form (seconds first) and its IANA time zone.
    cron              text        NOT NULL,
    time_zone         text        NOT NULL,
    start_at          timestamptz NULL,
    end_at            timestamptz NULL,
    jitter_ms         bigint      NOT NULL,
    misfire_policy    text        NOT NULL CHECK (misfire_policy IN ('skip', 'run-once')),
    -- The workflow is active and not in the bin.
    enabled           boolean     NOT NULL,
    -- The next tick's nominal time, and when its run starts (the tick plus its jitter).
    next_fire_at      timestamptz NULL,
    due_at            timestamptz NULL,
    -- The next tick is a misfire's run-once catch-up, fired however late.
    catch_up          boolean     NOT NULL,
    last_fire_at      timestamptz NULL,
    last_run_id       text        NULL,
    lease_owner       text        NULL,
    lease_expires_at  timestamptz NULL,
    revision          bigint      NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX ix_workflow_schedules_due_at ON workflow_schedules (due_at) WHERE due_at IS NOT NULL;
