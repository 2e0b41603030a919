-- Schema 7: triggers and integrations (issue 8).

-- Events and their dispatch. An event row is its own outbox: the commit that records it leaves
-- dispatched_at empty, and the dispatcher (inline after the commit, or its sweep after a crash)
-- starts the matching workflows' runs, each once (runs.idempotency_key), then sets it.
ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'run' CHECK (origin IN ('api', 'webhook', 'run', 'cadre'));
ALTER TABLE events ADD COLUMN occurred_at TEXT NULL;
ALTER TABLE events ADD COLUMN received_by TEXT NULL;
-- How many event-started runs led to this event: a chain of workflows reacting to each other ends.
ALTER TABLE events ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN dispatched_at TEXT NULL;
-- Events recorded before triggers existed started nothing and should not start anything now.
UPDATE events SET dispatched_at = created_at;
CREATE INDEX ix_events_undispatched ON events (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX ix_events_workspace_id_type_id ON events (workspace_id, type, id);

-- The event a run was started by (GET …/events/{id} lists them).
ALTER TABLE runs ADD COLUMN event_id TEXT NULL;
CREATE INDEX ix_runs_event_id ON runs (event_id) WHERE event_id IS NOT NULL;

-- A rotated webhook token may keep working for a grace period.
ALTER TABLE workflows ADD COLUMN previous_webhook_token_hash BLOB NULL;
ALTER TABLE workflows ADD COLUMN previous_webhook_token_expires_at TEXT NULL;
CREATE UNIQUE INDEX ix_workflows_previous_webhook_token_hash ON workflows (previous_webhook_token_hash) WHERE previous_webhook_token_hash IS NOT NULL;

-- Outbound webhooks. Deliveries are an outbox: each row is added in the transaction of what it
-- reports (a run's end, an event's dispatch) and a sender on every node leases due rows, posts them
-- signed (Standard Webhooks), and retries with backoff until delivered or given up (dead).
CREATE TABLE webhook_subscriptions (
    id                TEXT    NOT NULL PRIMARY KEY,
    workspace_id      TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url               TEXT    NOT NULL,
    event_types       TEXT    NOT NULL,
    description       TEXT    NULL,
    is_active         INTEGER NOT NULL,
    secret_protected  TEXT    NOT NULL,
    version           INTEGER NOT NULL,
    created_by        TEXT    NULL,
    updated_by        TEXT    NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX ix_webhook_subscriptions_workspace_id_id ON webhook_subscriptions (workspace_id, id);

CREATE TABLE webhook_deliveries (
    id               TEXT    NOT NULL PRIMARY KEY,
    workspace_id     TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    subscription_id  TEXT    NULL REFERENCES webhook_subscriptions (id) ON DELETE SET NULL,
    workflow_id      TEXT    NULL,
    run_id           TEXT    NULL,
    event_id         TEXT    NULL,
    url              TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    -- The name of the workspace secret that signs a workflow notification (a subscription signs with its own).
    signing_secret   TEXT    NULL,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT    NULL,
    lease_owner      TEXT    NULL,
    lease_expires_at TEXT    NULL,
    last_status_code INTEGER NULL,
    last_error       TEXT    NULL,
    created_at       TEXT    NOT NULL,
    finished_at      TEXT    NULL
);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_workspace_id_id ON webhook_deliveries (workspace_id, id);
-- An event is delivered to a subscription once, however often it is dispatched.
CREATE UNIQUE INDEX ix_webhook_deliveries_subscription_id_event_id ON webhook_deliveries (subscription_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE webhook_delivery_attempts (
    delivery_id   TEXT    NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    started_at    TEXT    NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER NULL,
    error         TEXT    NULL,
    response      TEXT    NULL,
    PRIMARY KEY (delivery_id, attempt)
);
