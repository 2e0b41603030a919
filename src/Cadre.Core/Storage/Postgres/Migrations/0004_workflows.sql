-- Cadre schema version 4 (PostgreSQL): workflow definitions, their labels (for filters), versions, and
-- the workspace's custom event types.

CREATE TABLE workflows (
    id                        text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id              text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                      text COLLATE "C" NOT NULL,
    title                     text        NOT NULL,
    description               text        NULL,
    type                      text        NOT NULL CHECK (type IN ('manual', 'event', 'webhook', 'schedule')),
    sub_type                  text        NOT NULL,
    is_active                 boolean     NOT NULL,
    team_id                   text COLLATE "C" NULL,
    trigger_event_type        text COLLATE "C" NULL,
    definition                text        NOT NULL,
    version                   integer     NOT NULL,
    webhook_token_hash        bytea       NOT NULL,
    webhook_token_protected   text        NOT NULL,
    created_by                text        NULL,
    updated_by                text        NULL,
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    deleted_at                timestamptz NULL,
    deleted_by                text        NULL
);
CREATE UNIQUE INDEX ix_workflows_workspace_id_name ON workflows (workspace_id, name) WHERE deleted_at IS NULL;
CREATE INDEX ix_workflows_workspace_id_id ON workflows (workspace_id, id);
CREATE INDEX ix_workflows_workspace_id_title_id ON workflows (workspace_id, title, id);
CREATE INDEX ix_workflows_workspace_id_updated_at_id ON workflows (workspace_id, updated_at, id);
-- Event routing (the triggers issue) looks up active workflows by the event type they answer.
CREATE INDEX ix_workflows_workspace_id_trigger_event_type ON workflows (workspace_id, trigger_event_type) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX ix_workflows_webhook_token_hash ON workflows (webhook_token_hash);

CREATE TABLE workflow_labels (
    workflow_id   text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('persona', 'activity', 'skill', 'guardrail')),
    value         text COLLATE "C" NOT NULL,
    workspace_id  text COLLATE "C" NOT NULL,
    PRIMARY KEY (workflow_id, kind, value)
);
CREATE INDEX ix_workflow_labels_workspace_id_kind_value ON workflow_labels (workspace_id, kind, value);

CREATE TABLE workflow_versions (
    workflow_id  text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version      integer     NOT NULL,
    definition   text        NOT NULL,
    change       text        NOT NULL CHECK (change IN ('created', 'updated', 'renamed', 'activated', 'deactivated', 'reverted', 'imported')),
    created_by   text        NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE event_types (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id  text COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          text COLLATE "C" NOT NULL,
    description   text        NULL,
    schema        text        NOT NULL,
    version       integer     NOT NULL,
    created_by    text        NULL,
    updated_by    text        NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_event_types_workspace_id_name ON event_types (workspace_id, name);
CREATE INDEX ix_event_types_workspace_id_id ON event_types (workspace_id, id);
