-- Cadre schema version 2 (SQLite): users, sessions, workspace members, service accounts, teams,
-- invitations, one-time tokens, Data Protection keys. Every API key now has an owner: a user or a
-- service account (the instance admin keys excepted); existing workspace keys each get a service account.

CREATE TABLE users (
    id                TEXT    NOT NULL PRIMARY KEY,
    email             TEXT    NOT NULL,
    normalized_email  TEXT    NOT NULL,
    display_name      TEXT    NOT NULL,
    avatar_url        TEXT    NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
    instance_role     TEXT    NULL CHECK (instance_role IN ('owner', 'admin')),
    password_hash     TEXT    NULL,
    security_stamp    TEXT    NOT NULL,
    failed_sign_ins   INTEGER NOT NULL,
    locked_until      TEXT    NULL,
    version           INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    last_sign_in_at   TEXT    NULL
);
CREATE UNIQUE INDEX ix_users_normalized_email ON users (normalized_email);

CREATE TABLE sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    security_stamp TEXT NOT NULL,
    user_agent    TEXT NULL,
    ip_address    TEXT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT NULL
);
CREATE INDEX ix_sessions_user_id ON sessions (user_id);
CREATE INDEX ix_sessions_expires_at ON sessions (expires_at);

CREATE TABLE workspace_members (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    added_by      TEXT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX ix_workspace_members_user_id ON workspace_members (user_id);

CREATE TABLE service_accounts (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    status        TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_service_accounts_workspace_id_name ON service_accounts (workspace_id, name);

ALTER TABLE api_keys ADD COLUMN user_id TEXT NULL REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD COLUMN service_account_id TEXT NULL REFERENCES service_accounts (id) ON DELETE CASCADE;
ALTER TABLE api_keys ADD COLUMN created_by TEXT NULL;
CREATE INDEX ix_api_keys_user_id ON api_keys (user_id);
CREATE INDEX ix_api_keys_service_account_id ON api_keys (service_account_id);

-- Existing workspace keys become the keys of one service account each, with the key's role.
INSERT INTO service_accounts (id, workspace_id, name, description, role, status, created_by, version, created_at, updated_at)
SELECT 'sa_' || substr(id, 5), workspace_id, name || ' (' || id || ')', 'Created by the upgrade to schema 2 for a key made before service accounts existed.',
       role, 'active', created_by_key_id, 1, created_at, created_at
FROM api_keys WHERE workspace_id IS NOT NULL;
UPDATE api_keys SET service_account_id = 'sa_' || substr(id, 5) WHERE workspace_id IS NOT NULL;
UPDATE api_keys SET created_by = COALESCE(
    (SELECT creator.service_account_id FROM api_keys AS creator WHERE creator.id = api_keys.created_by_key_id),
    created_by_key_id);

ALTER TABLE workspaces ADD COLUMN created_by TEXT NULL;
ALTER TABLE workspaces ADD COLUMN updated_by TEXT NULL;

CREATE TABLE teams (
    id            TEXT    NOT NULL PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    description   TEXT    NULL,
    created_by    TEXT    NULL,
    updated_by    TEXT    NULL,
    version       INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE UNIQUE INDEX ix_teams_workspace_id_name ON teams (workspace_id, name);

-- A team member is always a member of the team's workspace: leaving the workspace leaves its teams.
CREATE TABLE team_members (
    team_id       TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    workspace_id  TEXT NOT NULL,
    added_by      TEXT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES workspace_members (workspace_id, user_id) ON DELETE CASCADE
);
CREATE INDEX ix_team_members_workspace_id_user_id ON team_members (workspace_id, user_id);

CREATE TABLE invitations (
    id                TEXT NOT NULL PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email             TEXT NOT NULL,
    normalized_email  TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'operator', 'viewer')),
    token_hash        BLOB NOT NULL,
    created_by        TEXT NULL,
    created_at        TEXT NOT NULL,
    expires_at        TEXT NOT NULL,
    accepted_at       TEXT NULL,
    accepted_by       TEXT NULL,
    revoked_at        TEXT NULL
);
CREATE UNIQUE INDEX ix_invitations_token_hash ON invitations (token_hash);
CREATE INDEX ix_invitations_workspace_id_id ON invitations (workspace_id, id);

CREATE TABLE one_time_tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id     TEXT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT NULL
);
CREATE UNIQUE INDEX ix_one_time_tokens_token_hash ON one_time_tokens (token_hash);

CREATE TABLE data_protection_keys (
    id             INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    friendly_name  TEXT    NULL,
    xml            TEXT    NULL
);
