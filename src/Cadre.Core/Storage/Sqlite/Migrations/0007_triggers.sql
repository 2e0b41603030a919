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
