-- Schema 7: triggers and integrations (issue 8).

-- Events and their dispatch. An event row is its own outbox: the commit that records it leaves
-- dispatched_at empty, and the dispatcher (inline after the commit, or its sweep after a crash)
-- starts the matching workflows' runs, each once (runs.idempotency_key), then sets it.
ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT 'run' CHECK (origin IN ('api', 'run', 'cadre'));
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

-- Workspace secrets.
-- Values are encrypted with AES-256-GCM under the instance's encryption key (CADRE_ENCRYPTION_KEY
-- or the data directory's key file), never by the database: ciphertext is the format byte, the
-- 96-bit nonce, the encrypted value and the 128-bit tag; key_id names the key that sealed it, so
-- a rotation finds what is still under an old key. The associated data binds each value to its
-- workspace and name: a ciphertext copied into another row does not decrypt.
CREATE TABLE secrets (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    ciphertext    BLOB    NOT NULL,
    key_id        TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_secrets_workspace_id_name ON secrets (workspace_id, name);
CREATE INDEX ix_secrets_key_id ON secrets (key_id);

-- Files.
-- Uploaded files: the row here, the bytes in the file store (Cadre:Files:Store; the local store keeps
-- them at <files dir>/<workspace_id>/<id>). A file is 'pending' until its bytes arrive through the
-- signed upload URL, then 'ready'; 'deleting' marks one whose bytes are being removed (a crash part-way
-- leaves it for the clean-up to finish). expires_at: when the clean-up deletes it (a pending upload
-- after its URL lapsed, a ready file nobody referenced); NULL once a run references it.
CREATE TABLE files (
    id                 TEXT    NOT NULL PRIMARY KEY,
    workspace_id       TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT    NOT NULL,
    content_type       TEXT    NOT NULL,
    size               INTEGER NOT NULL,
    -- Lowercase hex. While pending: the checksum the uploader declared (or NULL); once ready: the bytes'.
    sha256             TEXT    NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'ready', 'deleting')),
    created_by         TEXT    NULL,
    created_at         TEXT    NOT NULL,
    upload_expires_at  TEXT    NOT NULL,
    -- Set while a PUT streams the bytes, so two PUTs to one URL cannot both write them.
    upload_started_at  TEXT    NULL,
    uploaded_at        TEXT    NULL,
    referenced_at      TEXT    NULL,
    expires_at         TEXT    NULL
);
CREATE INDEX ix_files_workspace_id_id ON files (workspace_id, id);
CREATE INDEX ix_files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX ix_files_deleting ON files (id) WHERE status = 'deleting';

-- Which runs use which files (attachments and reference images): a file used by a run in progress
-- cannot be deleted.
CREATE TABLE run_files (
    run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    file_id  TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    PRIMARY KEY (run_id, file_id)
);
CREATE INDEX ix_run_files_file_id ON run_files (file_id);
