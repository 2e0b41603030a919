-- Cadre schema version 1 (SQLite): workspaces, API keys, idempotency records.
-- Times are ISO-8601 UTC text as EF Core's SQLite provider writes them; IDs are TypeIDs, which sort by time.

CREATE TABLE workspaces (
    id            TEXT    NOT NULL PRIMARY KEY,
    name          TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    settings      TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_workspaces_name ON workspaces (name);

CREATE TABLE api_keys (
    id                 TEXT NOT NULL PRIMARY KEY,
    workspace_id       TEXT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    key_prefix         TEXT NOT NULL,
    key_hash           BLOB NOT NULL,
    created_by_key_id  TEXT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NULL,
    revoked_at         TEXT NULL,
    last_used_at       TEXT NULL
);
CREATE UNIQUE INDEX ix_api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX ix_api_keys_workspace_id_id ON api_keys (workspace_id, id);

CREATE TABLE idempotency_records (
    scope             TEXT    NOT NULL,
    idempotency_key   TEXT    NOT NULL,
    request_hash      BLOB    NOT NULL,
    status_code       INTEGER NULL,
    response_headers  TEXT    NULL,
    response_body     BLOB    NULL,
    created_at        TEXT    NOT NULL,
    locked_until      TEXT    NOT NULL,
    expires_at        TEXT    NOT NULL,
    PRIMARY KEY (scope, idempotency_key)
);
CREATE INDEX ix_idempotency_records_expires_at ON idempotency_records (expires_at);
