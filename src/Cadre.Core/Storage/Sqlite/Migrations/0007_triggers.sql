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
