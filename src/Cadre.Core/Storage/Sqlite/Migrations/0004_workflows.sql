-- Cadre schema version 4 (SQLite): workflow definitions, their labels (for filters), versions, and
-- the workspace's custom event types.

CREATE TABLE workflows (
    id                        TEXT    NOT NULL PRIMARY KEY,
    workspace_id              TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                      TEXT    NOT NULL,
    title                     TEXT    NOT NULL,
    description               TEXT    NULL,
    type                      TEXT    NOT NULL CHECK (type IN ('manual', 'event', 'webhook', 'schedule')),
    sub_type                  TEXT    NOT NULL,
    is_active                 INTEGER NOT NULL,
    team_id                   TEXT    NULL,
    trigger_event_type        TEXT    NULL,
    definition                TEXT    NOT NULL,
    version                   INTEGER NOT NULL,
    webhook_token_hash        BLOB    NOT NULL,
    webhook_token_protected   TEXT    NOT NULL,
    created_by                TEXT    NULL,
    updated_by                TEXT    NULL,
    created_at                TEXT    NOT NULL,
    updated_at                TEXT    NOT NULL,
    deleted_at                TEXT    NULL,
    deleted_by                TEXT    NULL
);
CREATE UNIQUE INDEX ix_workflows_workspace_id_name ON workflows (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX ix_workflows_workspace_id_id ON workflows (workspace_id, id);
CREATE INDEX ix_workflows_workspace_id_title_id ON workflows (workspace_id, title, id);
CREATE INDEX ix_workflows_workspace_id_updated_at_id ON workflows (workspace_id, updated_at, id);
-- Event routing (the triggers issue) looks up active workflows by the event type they answer.
CREATE INDEX ix_workflows_workspace_id_trigger_event_type ON workflows (workspace_id, trigger_event_type) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ix_workflows_webhook_token_hash ON workflows (webhook_token_hash);

CREATE TABLE workflow_labels (
    workflow_id   TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('persona', 'activity', 'skill', 'guardrail')),
    value         TEXT NOT NULL,
    workspace_id  TEXT NOT NULL,
    PRIMARY KEY (workflow_id, kind, value)
);
CREATE INDEX ix_workflow_labels_workspace_id_kind_value ON workflow_labels (workspace_id, kind, value);

CREATE TABLE workflow_versions (
    workflow_id  TEXT    NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    definition   TEXT    NOT NULL,
    change       TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'renamed', 'activated', 'deactivated', 'reverted', 'imported')),
    created_by   TEXT    NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE event_types (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    schema        TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_event_types_workspace_id_name ON event_types (workspace_id, name);
CREATE INDEX ix_event_types_workspace_id_id ON event_types (workspace_id, id);
