-- Cadre schema version 1 (PostgreSQL): workspaces, API keys, idempotency records.
-- IDs are TypeIDs that sort by creation time; COLLATE "C" keeps their order bytewise whatever
-- the database's locale, which keyset pagination relies on.

CREATE TABLE workspaces (
    id            text COLLATE "C" NOT NULL PRIMARY KEY,
    name          text        NOT NULL,
    display_name  text        NOT NULL,
    settings      text        NOT NULL,
    version       integer     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX ix_workspaces_name ON workspaces (name);

CREATE TABLE api_keys (
    id                 text COLLATE "C" NOT NULL PRIMARY KEY,
    workspace_id       text COLLATE "C" NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               text        NOT NULL,
    role               text        NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    key_prefix         text        NOT NULL,
    key_hash           bytea       NOT NULL,
    created_by_key_id  text        NULL,
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NULL,
    revoked_at         timestamptz NULL,
    last_used_at       timestamptz NULL
);
CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX ix_api_keys_workspace_id_id ON api_keys (workspace_id, id);

CREATE TABLE idempotency_records (
    scope             text        NOT NULL,
    idempotency_key   text        NOT NULL,
    request_hash      bytea       NOT NULL,
    status_code       integer     NULL,
    response_headers  text        NULL,
    response_body     bytea       NULL,
    created_at        timestamptz NOT NULL,
    locked_until      timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX ix_idempotency_records_expires_at ON idempotency_records (expires_at);
